import Foundation
import Testing
import SodiumKit
import Envelope
@testable import Spool

/// The test-support executable built next to the test bundle.
func testkitPath() throws -> String {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lienthong-testkit").path,
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/lienthong-testkit").path,
    ]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw SpoolError(.notFound, "lienthong-testkit not built (run `swift build --build-tests`); looked in \(candidates)")
    }
    return found
}

@Suite struct SpoolCrashTests {
    @Test func killedMidWriteNothingHalfVisibleAndThePartialEnvelopeResumes() throws {
        let f = try SpoolFixture()
        let file = f.dir + "/doc.lte"
        let params = SealParameters(kind: .document, urgency: .khan, origin: f.originID,
                                    recipients: [SealRecipient(id: node("000.01.01.H27"), encryptionKey: f.recipientKey.publicKey)],
                                    createdAt: SpoolFixture.now, expiresAt: Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000, chunkSize: 1024)
        let payload = Sodium.randomBytes(60 * 1024)
        let sealed = try EnvelopeFile.seal(params, signer: f.origin, payloadSize: UInt64(payload.count), source: MemorySource(payload), to: file)
        let count = sealed.header.layout.chunkCount

        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: try testkitPath())
        writer.arguments = ["spool-writer", "--db", f.path, "--envelope", file, "--pause-ms", "20"]
        let out = Pipe()
        writer.standardOutput = out
        try writer.run()
        var seen = ""
        while !seen.contains("stored 10\n") {
            let data = out.fileHandleForReading.availableData
            guard !data.isEmpty else { break }
            seen += String(decoding: data, as: UTF8.self)
        }
        kill(writer.processIdentifier, SIGKILL)
        writer.waitUntilExit()
        #expect(writer.terminationReason == .uncaughtSignal)
        #expect(seen.contains("stored 10\n"))

        let spool = try f.open()
        let verifier = try ChunkVerifier(header: sealed.header, table: sealed.table)
        guard case .resume(let k) = try spool.begin(verifier, from: "000.00.00.H27", now: SpoolFixture.now) else {
            Issue.record("a half-written envelope must not count as seen")
            return
        }
        #expect(k >= 10 && k < count)
        // Nothing half-visible: not seen, not queued, not in the inbox, and what is stored is whole and verified.
        #expect(try !spool.hasSeen(sealed.id))
        #expect(try spool.inbox().isEmpty && spool.queueEntries().isEmpty)
        let stored = try spool.chunks(of: sealed.id, from: 0, limit: 1000)
        #expect(stored.count == k)
        for (i, c) in stored.enumerated() { try verifier.verify(index: i, ciphertext: c) }

        // Resume from chunk k with the rest of the file.
        let source = try FileSource(path: file)
        _ = try EnvelopeFile.readHeader(from: source)
        _ = try EnvelopeFile.readTable(from: source, header: sealed.header)
        var rest: [[UInt8]] = []
        for i in 0..<count {
            let c = try source.readExactly(sealed.header.layout.ciphertextLength(of: i), what: "chunk")
            if i >= k { rest.append(c) }
        }
        #expect(try spool.appendChunks(verifier, first: k, chunks: rest) == count)
        #expect(try spool.complete(sealed.id, custody: Custody(nextHops: [:], deliverLocally: true), now: SpoolFixture.now) == .accepted)
        #expect(try spool.inbox().count == 1)

        // And the stored body opens to the original payload.
        let opener = try EnvelopeOpener(header: sealed.header, table: sealed.table, originKey: f.origin.publicKey,
                                        recipient: node("000.01.01.H27"), keys: f.recipientKey, now: SpoolFixture.now)
        let sink = MemorySink()
        try opener.open(body: MemorySource(try spool.chunks(of: sealed.id, from: 0, limit: 1000).flatMap { $0 }), into: sink)
        #expect(sink.bytes == payload)
    }
}

@Suite struct AuditChainTests {
    @Test func editedOrDeletedRowsBreakTheChain() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        for _ in 0..<5 { _ = try spool.accept(try f.incoming(try f.envelope(), local: true), now: SpoolFixture.now) }
        #expect(try spool.verifyAudit() == AuditVerification(ok: true, records: 10, brokenAt: nil, problem: nil))

        try spool.pool.writeWithoutTransaction { try $0.execute(sql: "UPDATE audit SET actor = 'someone-else' WHERE seq = 4") }
        let edited = try spool.verifyAudit()
        #expect(!edited.ok && edited.brokenAt == 4)
        #expect(edited.problem?.contains("altered") == true)
    }

    @Test func deletedMiddleAndTailRowsAreDetected() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        for _ in 0..<4 { _ = try spool.accept(try f.incoming(try f.envelope()), now: SpoolFixture.now) }
        try spool.pool.writeWithoutTransaction { try $0.execute(sql: "DELETE FROM audit WHERE seq = 2") }
        let v2 = try spool.verifyAudit()
        #expect(!v2.ok && v2.brokenAt == 2 && v2.problem?.contains("missing") == true)
        // Removing the newest row (the tail) is caught through the recorded head.
        let g = try SpoolFixture()
        let other = try g.open()
        for _ in 0..<3 { _ = try other.accept(try g.incoming(try g.envelope()), now: SpoolFixture.now) }
        try other.pool.writeWithoutTransaction { try $0.execute(sql: "DELETE FROM audit WHERE seq = 3") }
        let v = try other.verifyAudit()
        #expect(!v.ok && v.problem?.contains("removed from the end") == true)
    }
}
