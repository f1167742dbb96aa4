import Testing
import Envelope
import SodiumKit
import Spool
import Wire
@testable import Link

/// The receiving half of a session without a channel or a spool: each phase (none, small,
/// offered, receiving) against each input (offer, good/bad/stale chunk, the committer's outcomes).
@Suite struct InboundStateTests {
    static let signer = SigningKeyPair(), box = BoxKeyPair()
    let custody = Custody(nextHops: [:], deliverLocally: true)

    /// A sealed envelope: its verifier and its ciphertext chunks.
    static func sealed(size: Int, byte: UInt8 = 1) throws -> (ChunkVerifier, [[UInt8]]) {
        let params = SealParameters(kind: .document, urgency: .thuong, origin: node("000.01.00.H27"),
                                    recipients: [SealRecipient(id: node("000.00.00.H27"), encryptionKey: box.publicKey)],
                                    createdAt: 1_764_000_000_000 + Int64(byte), expiresAt: 1_764_086_400_000)
        let sink = MemorySink()
        let s = try EnvelopeSealer.seal(params, signer: signer, payloadSize: UInt64(size),
                                        source: MemorySource([UInt8](repeating: byte, count: size)), body: sink)
        return (try ChunkVerifier(header: s.header, table: s.table), s.header.layout.split(body: sink.bytes))
    }

    func describe(_ actions: [InboundState.Action]) -> [String] {
        actions.map { a in
            switch a {
            case .refuse(_, let r, _): "refuse \(r)"
            case .sendFrom(_, let k): "sendFrom \(k)"
            case .askAgain(_, let k): "askAgain \(k)"
            case .have: "have"
            case .stored(_, let k): "stored \(k)"
            case .ack(let ids): "ack \(ids.count)"
            case .commitSmall(let e): "commitSmall \(e.chunks.count) from \(e.from)"
            case .begin: "begin"
            case .append(_, let k, _): "append \(k)"
            case .complete: "complete"
            }
        }
    }

    @Test func aSmallEnvelopeIsHeldUntilCompleteThenCommittedAndAcknowledged() throws {
        var s = InboundState(peer: "000.01.00.H27")
        let (v, chunks) = try Self.sealed(size: 4000)
        let id = v.header.id
        #expect(describe(s.offer(v, custody: custody)).isEmpty)  // its one chunk follows unasked
        #expect(s.inProgress == 1)
        #expect(describe(s.chunk(id, 0, chunks[0])) == ["commitSmall 1 from 000.01.00.H27"])
        #expect(s.inProgress == 0)
        #expect(describe(s.chunk(id, 0, chunks[0])).isEmpty)  // stale: ignored
        #expect(describe(s.smallsCommitted([id])) == ["ack 1"])
        #expect(describe(s.smallsFailed([id, id], .diskFull, "full")) == ["refuse diskFull", "refuse diskFull"])
    }

    @Test func aBadChunkIsAskedAgainThenTheEnvelopeRefusedForNow() throws {
        var s = InboundState(peer: "p")
        let (v, chunks) = try Self.sealed(size: 4000)
        let id = v.header.id
        _ = s.offer(v, custody: custody)
        var bad = chunks[0]
        bad[0] ^= 1
        for _ in 0..<3 { #expect(describe(s.chunk(id, 0, bad)) == ["askAgain 0"]) }
        #expect(describe(s.chunk(id, 0, bad)) == ["refuse temporaryFailure"])
        #expect(s.inProgress == 0)
        #expect(describe(s.chunk(id, 0, chunks[0])).isEmpty)  // forgotten
        // Offered again (after the sender's backoff): forgotten means its count starts over.
        _ = s.offer(v, custody: custody)
        #expect(describe(s.chunk(id, 0, bad)) == ["askAgain 0"])
        #expect(describe(s.chunk(id, 0, chunks[0])).count == 1)  // whole: committed
    }

    @Test func aLargeEnvelopeIsBegunAppendedInRunsAndCompleted() throws {
        var s = InboundState(peer: "p")
        let (v, chunks) = try Self.sealed(size: 300_000)  // 5 chunks
        let id = v.header.id
        #expect(describe(s.offer(v, custody: custody)) == ["begin"])
        // Offered, not yet begun: chunks are checked for index and length only, and queued.
        #expect(describe(s.chunk(id, 7, chunks[0])).isEmpty)  // out of range: not asked for
        #expect(describe(s.chunk(id, 1, chunks[0].dropLast().map { $0 })) == ["askAgain 1"])  // wrong length
        #expect(s.appendable(id, first: 0) == nil)
        #expect(describe(s.began(v, custody: custody, .resume(from: 2))) == ["sendFrom 2"])
        #expect(s.expected(id) == 2)
        #expect(s.appendable(id, first: 0) == nil)  // stale run
        #expect(s.appendable(id, first: 2) != nil)
        #expect(describe(s.appended(id, stored: 4)) == ["stored 4"])
        #expect(describe(s.appendRejected(id, have: 4)) == ["stored 4", "askAgain 4"])
        #expect(describe(s.appended(id, stored: 5)) == ["stored 5", "complete"])
        #expect(s.completion(id) != nil)
        #expect(describe(s.completed(id)) == ["ack 1"])
        #expect(s.completion(id) == nil && s.inProgress == 0)
        #expect(describe(s.appended(id, stored: 5)).isEmpty)  // finished: ignored
    }

    @Test func aDuplicateOrAFailedStepForgetsTheEnvelope() throws {
        var s = InboundState(peer: "p")
        let (v, _) = try Self.sealed(size: 300_000)
        _ = s.offer(v, custody: custody)
        #expect(describe(s.began(v, custody: custody, .duplicate)) == ["have"])
        #expect(s.inProgress == 0)
        _ = s.offer(v, custody: custody)
        _ = s.began(v, custody: custody, .resume(from: 0))
        #expect(describe(s.failed(v.header.id, .diskFull, "full")) == ["refuse diskFull"])
        #expect(s.inProgress == 0 && s.expected(v.header.id) == nil)
        // Already complete in the spool: straight to the custody transaction.
        _ = s.offer(v, custody: custody)
        #expect(describe(s.began(v, custody: custody, .resume(from: 5))) == ["complete"])
    }

    @Test func anOfferBeyondTheLimitsIsRefusedForNow() throws {
        var limits = InboundState.Limits()
        limits.offers.maxOffers = 1
        var s = InboundState(peer: "p", limits: limits)
        let (a, _) = try Self.sealed(size: 4000, byte: 1), (b, _) = try Self.sealed(size: 4000, byte: 2)
        #expect(describe(s.offer(a, custody: custody)).isEmpty)
        #expect(describe(s.offer(b, custody: custody)) == ["refuse temporaryFailure"])
        #expect(describe(s.offer(a, custody: custody)).isEmpty)  // offered again: starts over
    }

    @Test func runsAreConsecutiveChunksOfOneEnvelopeUpToTheTransactionSize() throws {
        let (a, _) = try Self.sealed(size: 300_000, byte: 1), (b, _) = try Self.sealed(size: 300_000, byte: 2)
        let x: [UInt8] = [0]
        let work: [InboundState.Action] = [
            .begin(a, custody), .append(a.header.id, 0, x), .append(a.header.id, 1, x), .append(a.header.id, 2, x),
            .append(b.header.id, 0, x), .append(a.header.id, 3, x), .append(a.header.id, 1, x),
        ]
        let steps = InboundState.steps(work, chunksPerTransaction: 2).map { step -> String in
            switch step {
            case .begin: "begin"
            case .append(let id, let first, let chunks): "\(id == a.header.id ? "a" : "b")\(first)+\(chunks.count)"
            }
        }
        // A gap (the re-sent chunk 1) starts a new run, as does another envelope's chunk.
        #expect(steps == ["begin", "a0+2", "a2+1", "b0+1", "a3+1", "a1+1"])
    }
}
