import Foundation
import Testing
import SodiumKit
@testable import Envelope

@Suite struct EnvelopeSealerTests {
    @Test(arguments: [0, 1, 65_536, 65_537, 3 * 65_536 + 5])
    func roundTripAtChunkBoundaries(size: Int) throws {
        let f = Fixture()
        let payload = randomPayload(size)
        let (sealed, body) = try f.seal(payload)
        #expect(sealed.header.layout.chunkCount == ChunkLayout.chunkCount(payloadSize: UInt64(size), chunkSize: 65_536))
        #expect(UInt64(body.count) == sealed.header.layout.bodySize)
        #expect(try f.open(sealed, body: body) == payload)
    }

    @Test func openingOneChunkPerBatchReadsNoMoreThanTheReaderTakes() throws {
        let f = Fixture()
        let payload = (0..<(40 * 65_536)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let (sealed, body) = try f.seal(payload)
        let opener = try EnvelopeOpener(header: sealed.header, table: sealed.table, originKey: f.origin.sign.publicKey,
                                        recipient: f.recipients[0].id, keys: f.recipients[0].box, now: Fixture.now)
        // A sink that stops after the first plaintext chunk, as the recipient's metadata probe does.
        final class Counting: ByteSource {
            let inner: MemorySource
            var bytes = 0
            init(_ b: [UInt8]) { inner = MemorySource(b) }
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
                let n = try inner.read(into: buffer)
                bytes += n
                return n
            }
        }
        final class StopAfterFirst: ByteSink {
            struct Stop: Error {}
            var received: [UInt8] = []
            func write(_ b: UnsafeRawBufferPointer) throws {
                received.append(contentsOf: b)
                throw Stop()
            }
        }
        let chunkBytes = sealed.header.layout.ciphertextLength(of: 0)
        // One chunk per batch reads one chunk; the default batch (all 40 here) reads them all.
        for (perBatch, expectedBytes) in [(1, chunkBytes), (nil, body.count) as (Int?, Int)] {
            let source = Counting(body), sink = StopAfterFirst()
            #expect(throws: StopAfterFirst.Stop.self) { try opener.open(body: source, into: sink, chunksPerBatch: perBatch) }
            #expect(source.bytes == expectedBytes)
            #expect(sink.received == Array(payload.prefix(65_536)))
        }
    }

    @Test func roundTripTenMiBWithSmallChunks() throws {
        let f = Fixture()
        let payload = randomPayload(10 << 20)
        let (sealed, body) = try f.seal(payload, chunkSize: 16 * 1024)
        #expect(sealed.header.layout.chunkCount == 640)
        #expect(try f.open(sealed, body: body) == payload)
    }

    @Test(arguments: [1, 2, 37, 2000])
    func everyRecipientOpens(count: Int) throws {
        let f = Fixture(recipients: count)
        let payload = randomPayload(5000)
        let (sealed, body) = try f.seal(payload, chunkSize: 1024)
        #expect(sealed.header.recipients.count == count)
        for r in f.recipients { #expect(try f.open(sealed, body: body, as: r) == payload) }
    }

    @Test func idIsHashOfSignedHeader() throws {
        let f = Fixture()
        let (a, _) = try f.seal([1, 2, 3])
        let (b, _) = try f.seal([1, 2, 3])
        #expect(a.id.bytes == Blake2b.hash(a.header.encoded))
        #expect(a.id != b.id)  // fresh content key each time
        #expect(try EnvelopeHeader.parse(a.header.encoded) == a.header)
    }

    @Test func refusesBadParameters() throws {
        let f = Fixture()
        var p = f.parameters()
        p.recipients = []
        #expect { try EnvelopeSealer.seal(p, signer: f.origin.sign, payloadSize: 0, source: MemorySource([]), body: DiscardSink()) }
            throws: { code(of: $0) == .invalidArgument }
        p = f.parameters(chunkSize: 10)
        #expect { try EnvelopeSealer.seal(p, signer: f.origin.sign, payloadSize: 0, source: MemorySource([]), body: DiscardSink()) }
            throws: { code(of: $0) == .invalidArgument }
        p = f.parameters()
        p.expiresAt = p.createdAt
        #expect { try EnvelopeSealer.seal(p, signer: f.origin.sign, payloadSize: 0, source: MemorySource([]), body: DiscardSink()) }
            throws: { code(of: $0) == .invalidArgument }
        // The source must hold exactly the declared size.
        #expect { try EnvelopeSealer.seal(f.parameters(), signer: f.origin.sign, payloadSize: 10, source: MemorySource([1]), body: DiscardSink()) }
            throws: { code(of: $0) == .truncated }
        #expect { try EnvelopeSealer.seal(f.parameters(), signer: f.origin.sign, payloadSize: 1, source: MemorySource([1, 2]), body: DiscardSink()) }
            throws: { code(of: $0) == .invalidArgument }
    }
}

@Suite struct EnvelopeOpenerFailureTests {
    @Test func badMagicAndVersion() throws {
        let f = Fixture()
        let (sealed, _) = try f.seal([1])
        var h = sealed.header.encoded
        h[0] = UInt8(ascii: "X")
        #expect { try EnvelopeHeader.parse(h) } throws: { code(of: $0) == .badMagic }
        h = sealed.header.encoded
        h[4] = 2
        #expect { try EnvelopeHeader.parse(h) } throws: { code(of: $0) == .unsupportedVersion }
    }

    @Test func truncatedHeaderTableAndBody() throws {
        let f = Fixture()
        let (sealed, body) = try f.seal(randomPayload(200_000))
        let h = sealed.header.encoded
        for cut in [0, 5, 11, 12, h.count / 2, h.count - 1] {
            #expect { try EnvelopeHeader.parse(Array(h.prefix(cut))) } throws: { code(of: $0) == .truncated }
        }
        let src = MemorySource(h + sealed.table.bytes.dropLast(3))
        let header = try EnvelopeFile.readHeader(from: src)
        #expect { try EnvelopeFile.readTable(from: src, header: header) } throws: { code(of: $0) == .truncated }
        #expect { try f.open(sealed, body: Array(body.dropLast(1))) } throws: { code(of: $0) == .truncated }
    }

    @Test func signatureInvalidWithAnotherKey() throws {
        let f = Fixture()
        let (sealed, body) = try f.seal([1, 2, 3])
        let r = f.recipients[0]
        #expect {
            try EnvelopeOpener(header: sealed.header, table: sealed.table, originKey: SigningKeyPair().publicKey,
                               recipient: r.id, keys: r.box, now: Fixture.now)
        } throws: { code(of: $0) == .signatureInvalid }
        _ = body
    }

    @Test func notARecipient() throws {
        let f = Fixture()
        let (sealed, body) = try f.seal([1, 2, 3])
        #expect { try f.open(sealed, body: body, as: Party("000.99.99.H27")) } throws: { code(of: $0) == .notARecipient }
    }

    @Test func expired() throws {
        let f = Fixture()
        let (sealed, body) = try f.seal([1, 2, 3])
        #expect { try f.open(sealed, body: body, now: sealed.header.expiresAt) } throws: { code(of: $0) == .expired }
        #expect(try f.open(sealed, body: body, now: sealed.header.expiresAt - 1) == [1, 2, 3])
    }

    @Test func chunkTableMismatch() throws {
        let f = Fixture()
        let (sealed, body) = try f.seal(randomPayload(100_000))
        var t = sealed.table.bytes
        t[5] ^= 1
        let forged = SealedEnvelope(header: sealed.header, table: try ChunkTable(bytes: t))
        #expect { try f.open(forged, body: body) } throws: { code(of: $0) == .chunkTableMismatch }
    }

    @Test func everyHeaderByteIsProtected() throws {
        let f = Fixture(recipients: 2)
        let (sealed, body) = try f.seal(randomPayload(70_000))
        let h = sealed.header.encoded
        for i in 0..<h.count {
            var t = h
            t[i] ^= 0x01
            let result = Result {
                let header = try EnvelopeHeader.parse(t)
                try header.verifySignature(originKey: f.origin.sign.publicKey)
            }
            guard case .failure = result else {
                Issue.record("flipping header byte \(i) went undetected")
                continue
            }
        }
        _ = body
    }

    @Test func everyBodyChunkIsProtected() throws {
        let f = Fixture()
        let chunk = 4096
        let payload = randomPayload(chunk * 5 + 100)
        let (sealed, body) = try f.seal(payload, chunkSize: chunk)
        let verifier = try ChunkVerifier(header: sealed.header, table: sealed.table)
        for i in stride(from: 0, to: body.count, by: 997) + [body.count - 1] {
            var t = body
            t[i] ^= 0x40
            let index = i / (chunk + SecretStream.chunkOverhead)
            #expect { try f.open(sealed, body: t) } throws: {
                guard let e = $0 as? EnvelopeError else { return false }
                return e.code == .chunkDigestMismatch && e.message.contains("chunk \(index)")
            }
            let start = i - i % (chunk + SecretStream.chunkOverhead)
            let end = min(body.count, start + chunk + SecretStream.chunkOverhead)
            #expect { try verifier.verify(index: index, ciphertext: Array(t[start..<end])) } throws: { code(of: $0) == .chunkDigestMismatch }
        }
    }

    @Test func relayVerifiesWithoutAnySecret() throws {
        let f = Fixture(recipients: 3)
        let chunk = 8192
        let (sealed, body) = try f.seal(randomPayload(chunk * 3 + 1), chunkSize: chunk)
        // A relay has only the bytes on the wire and the origin's public key from the topology.
        let header = try EnvelopeHeader.parse(sealed.header.encoded)
        try header.verifySignature(originKey: f.origin.sign.publicKey)
        let verifier = try ChunkVerifier(header: header, table: try ChunkTable(bytes: sealed.table.bytes))
        for i in 0..<header.layout.chunkCount {
            let off = Int(header.layout.ciphertextOffset(of: i))
            try verifier.verify(index: i, ciphertext: Array(body[off..<(off + header.layout.ciphertextLength(of: i))]))
        }
        #expect { try verifier.verify(index: 0, ciphertext: Array(body[0..<100])) } throws: { code(of: $0) == .chunkDigestMismatch }
        #expect { try verifier.verify(index: 9, ciphertext: []) } throws: { code(of: $0) == .malformed }
    }

    @Test func headerLimitsCheckedBeforeBuffering() throws {
        let f = Fixture()
        let (sealed, _) = try f.seal([1])
        var h = sealed.header.encoded
        h[8] = 0x7f  // declares ~2 GiB
        #expect { try EnvelopeHeader.declaredLength(prefix: h.prefix(12)) } throws: { code(of: $0) == .tooLarge }
        let small = EnvelopeLimits(maxHeaderBytes: 200)
        let (big, _) = try Fixture(recipients: 3).seal([1])
        #expect { try EnvelopeHeader.parse(big.header.encoded, limits: small) } throws: { code(of: $0) == .tooLarge }
        let fewRecipients = EnvelopeLimits(maxRecipients: 2)
        #expect { try EnvelopeHeader.parse(big.header.encoded, limits: fewRecipients) } throws: { code(of: $0) == .tooLarge }
    }
}
