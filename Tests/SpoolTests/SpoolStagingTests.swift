import Foundation
import Testing
import SodiumKit
import Envelope
@testable import Spool

/// A document sealed straight into the spool: chunks stored under a provisional key while the
/// sealer runs, then accepted under the envelope's id in one custody transaction.
@Suite struct SpoolStagingTests {
    /// Seals `size` bytes into a staged envelope, `batch` chunks per transaction.
    func stage(_ f: SpoolFixture, _ spool: Spool, size: Int, chunkSize: Int = 1024, batch: Int = 3) throws -> (StagedEnvelope, SealedEnvelope, [[UInt8]]) {
        let params = SealParameters(kind: .document, urgency: .khan, origin: f.originID,
                                    recipients: [SealRecipient(id: node("000.01.01.H27"), encryptionKey: f.recipientKey.publicKey)],
                                    createdAt: SpoolFixture.now, expiresAt: SpoolFixture.now + 86_400_000, chunkSize: chunkSize)
        let staged = try spool.beginStaging(params, now: SpoolFixture.now)
        var seen: [[UInt8]] = []
        let splitter = ChunkSplitter(chunkSize: chunkSize, batchSize: batch) { first, chunks in
            #expect(first == seen.count)
            seen += chunks
            try spool.appendStaged(staged, first: first, chunks: chunks)
        }
        let sealed = try EnvelopeSealer.seal(params, signer: f.origin, payloadSize: UInt64(size), source: MemorySource(Sodium.randomBytes(size)), body: splitter)
        try splitter.finish()
        return (staged, sealed, seen)
    }

    func custody() -> Custody { Custody(nextHops: [node("000.01.00.H27"): [node("000.01.01.H27")]], deliverLocally: false, trackAsOrigin: true) }

    @Test func aStagedDocumentIsAcceptedUnderItsIdWithItsChunks() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let (staged, sealed, chunks) = try stage(f, spool, size: 10_000)
        #expect(chunks.count == sealed.header.layout.chunkCount)
        // Until it is complete, the staged document is nowhere: no queue, no id, no head.
        #expect(try spool.queueEntries(peer: node("000.01.00.H27")).isEmpty)
        #expect(try spool.storedEnvelope(sealed.header.id) == nil)
        #expect(try spool.storedHeads([staged.key]).isEmpty)
        let verifier = try ChunkVerifier(header: sealed.header, table: sealed.table)
        #expect(try spool.completeStaged(staged, as: verifier, custody: custody(), now: SpoolFixture.now) == .accepted)
        // Every chunk is there under the real id, each matching the signed digest.
        let stored = try spool.chunks(of: sealed.header.id, from: 0, limit: 1000)
        #expect(stored == chunks)
        for (i, c) in stored.enumerated() { try verifier.verify(index: i, ciphertext: c) }
        #expect(try spool.storedEnvelope(sealed.header.id)?.complete == true)
        #expect(try spool.storedEnvelope(staged.key) == nil)
        #expect(try spool.chunks(of: staged.key, from: 0, limit: 10).isEmpty)
        #expect(try spool.queueEntries(peer: node("000.01.00.H27")).map(\.envelopeID) == [sealed.header.id])
        #expect(try spool.hasSeen(sealed.header.id))
        #expect(try spool.dropAbandonedStaging() == 0)
    }

    @Test func anUnfinishedStagingIsRemovedAtStartAndCannotBeCompleted() throws {
        let f = try SpoolFixture()
        let (staged, sealed, _) = try stage(f, try f.open(), size: 5000)
        let spool = try f.open()  // as after a restart
        #expect(try spool.dropAbandonedStaging() == 1)
        #expect(try spool.chunks(of: staged.key, from: 0, limit: 10).isEmpty)
        let verifier = try ChunkVerifier(header: sealed.header, table: sealed.table)
        #expect { try spool.completeStaged(staged, as: verifier, custody: custody(), now: SpoolFixture.now) } throws: {
            code(of: $0) == .notFound && "\($0)".contains("send it again")
        }
        #expect(try spool.storedEnvelope(sealed.header.id) == nil)
    }

    @Test func aStagingMissingChunksOrOutOfOrderIsRefused() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let params = SealParameters(kind: .document, urgency: .thuong, origin: f.originID,
                                    recipients: [SealRecipient(id: node("000.01.01.H27"), encryptionKey: f.recipientKey.publicKey)],
                                    createdAt: SpoolFixture.now, expiresAt: SpoolFixture.now + 86_400_000, chunkSize: 1024)
        let other = try f.envelope(size: 5000, chunkSize: 1024)
        let staged = try spool.beginStaging(params, now: SpoolFixture.now)
        try spool.appendStaged(staged, first: 0, chunks: Array(other.1[0..<2]))
        #expect { try spool.appendStaged(staged, first: 3, chunks: [other.1[3]]) } throws: { code(of: $0) == .invalidState }
        #expect { try spool.completeStaged(staged, as: other.0, custody: custody(), now: SpoolFixture.now) } throws: {
            code(of: $0) == .invalidState && "\($0)".contains("2 of 5")
        }
        try spool.dropStaged(staged)
        #expect(try spool.chunks(of: staged.key, from: 0, limit: 10).isEmpty)
        #expect(try spool.storedEnvelope(other.0.header.id) == nil)
    }

    @Test func aStagedDuplicateOfAKnownEnvelopeLeavesNothingBehind() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(size: 3000, chunkSize: 1024)
        _ = try spool.accept(try f.incoming(e), now: SpoolFixture.now)
        let params = SealParameters(kind: .document, urgency: .thuong, origin: f.originID,
                                    recipients: [SealRecipient(id: node("000.01.01.H27"), encryptionKey: f.recipientKey.publicKey)],
                                    createdAt: SpoolFixture.now, expiresAt: SpoolFixture.now + 86_400_000, chunkSize: 1024)
        let staged = try spool.beginStaging(params, now: SpoolFixture.now)
        try spool.appendStaged(staged, first: 0, chunks: e.1)
        #expect(try spool.completeStaged(staged, as: e.0, custody: custody(), now: SpoolFixture.now) == .duplicate)
        #expect(try spool.chunks(of: staged.key, from: 0, limit: 10).isEmpty)
        #expect(try spool.chunks(of: e.0.header.id, from: 0, limit: 10) == e.1)
    }
}
