import Testing
import SodiumKit
import Envelope

/// The splitter gives back exactly the chunks of the layout, in order, a batch at a time.
@Suite struct ChunkSplitterTests {
    @Test(arguments: [0, 1, 1024, 1025, 3 * 1024, 10_000])
    func splitsASealedBodyIntoItsChunks(size: Int) throws {
        let keys = SigningKeyPair(), box = BoxKeyPair()
        let params = SealParameters(kind: .document, urgency: .thuong, origin: try NodeID("000.00.01.H27"),
                                    recipients: [SealRecipient(id: try NodeID("000.01.01.H27"), encryptionKey: box.publicKey)],
                                    createdAt: 1, expiresAt: 2, chunkSize: 1024)
        let payload = Sodium.randomBytes(size)
        var batches: [(Int, [[UInt8]])] = []
        let splitter = ChunkSplitter(chunkSize: 1024, batchSize: 4) { first, chunks in batches.append((first, chunks)) }
        let whole = MemorySink()
        let sealed = try EnvelopeSealer.seal(params, signer: keys, payloadSize: UInt64(size), source: MemorySource(payload), body: Tee(splitter, whole))
        try splitter.finish()
        let expected = sealed.header.layout.split(body: whole.bytes)
        #expect(batches.flatMap(\.1) == expected)
        #expect(splitter.chunkCount == sealed.header.layout.chunkCount)
        #expect(batches.map(\.0) == stride(from: 0, to: expected.count, by: 4).map { $0 })
        #expect(batches.allSatisfy { $0.1.count <= 4 })
    }

    /// Writes that do not line up with chunk boundaries are cut the same way.
    @Test func oddWritesAreCutAtChunkBoundaries() throws {
        var got: [[UInt8]] = []
        let splitter = ChunkSplitter(chunkSize: 1024, batchSize: 2) { _, chunks in got += chunks }
        let bytes = Sodium.randomBytes(2 * (1024 + SecretStream.chunkOverhead) + 100)
        var at = 0
        for step in [1, 700, 1500, 37] + Array(repeating: 1, count: 10) where at < bytes.count {
            let n = min(step, bytes.count - at)
            try bytes[at..<(at + n)].withUnsafeBytes { try splitter.write($0) }
            at += n
        }
        try bytes[at...].withUnsafeBytes { try splitter.write($0) }
        try splitter.finish()
        #expect(got.map(\.count) == [1024 + SecretStream.chunkOverhead, 1024 + SecretStream.chunkOverhead, 100])
        #expect(got.flatMap { $0 } == bytes)
    }
}

/// Writes to two sinks.
final class Tee: ByteSink {
    let a: any ByteSink, b: any ByteSink
    init(_ a: any ByteSink, _ b: any ByteSink) { self.a = a; self.b = b }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try a.write(bytes); try b.write(bytes) }
}
