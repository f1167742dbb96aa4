import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import Wire

@Suite struct FrameCodecTests {
    func channel(max: Int = LinkFraming.defaultMaxFrameSize) throws -> EmbeddedChannel {
        let c = EmbeddedChannel()
        try c.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameSize: max)))
        return c
    }

    func drain(_ c: EmbeddedChannel) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let b = try c.readInbound(as: ByteBuffer.self) { out.append(Array(buffer: b)) }
        return out
    }

    /// A real transcript: the acceptor's side of a handshake plus encrypted session messages.
    func transcript() throws -> [[UInt8]] {
        let pair = HandshakePair()
        let (frames, _, server) = try pair.run()
        let messages: [SessionMessage] = [.offer(header: [1, 2, 3], table: [4]), .chunk(try EnvelopeIDFixture.id(7), 0, [9, 9, 9]), .ping(1), .close(.normal, "bye")]
        return [frames[1], frames[3]] + (try messages.map { try server.sealer.seal($0) })
    }

    @Test func dripFedOneByteAtATime() throws {
        let frames = try transcript()
        let c = try channel()
        for byte in wireBytes(frames) {
            var b = c.allocator.buffer(capacity: 1)
            b.writeInteger(byte)
            try c.writeInbound(b)
        }
        #expect(try drain(c) == frames)
    }

    @Test func concatenatedFramesInOneRead() throws {
        let frames = try transcript()
        let c = try channel()
        try c.writeInbound(ByteBuffer(bytes: wireBytes(frames)))
        #expect(try drain(c) == frames)
    }

    @Test func truncationAtEveryByteBoundaryYieldsOnlyWholeFrames() throws {
        let frames = try transcript()
        let bytes = wireBytes(frames)
        for cut in 0..<bytes.count {
            var decoder = FrameDecoder()
            var buffer = ByteBuffer(bytes: bytes[0..<cut])
            var got: [[UInt8]] = []
            while let f = try decoder.next(&buffer) { got.append(Array(buffer: f)) }
            #expect(got == Array(frames.prefix(got.count)), "cut at \(cut)")
        }
    }

    @Test func oversizedLengthIsRefusedBeforeTheBodyArrives() throws {
        let c = try channel(max: 1024)
        let header = LinkFraming.preamble + [0, 0, 0x04, 0x01]  // declares 1025 bytes, sends none of them
        #expect { try c.writeInbound(ByteBuffer(bytes: header)) } throws: { ($0 as? WireError)?.code == .frameTooLarge }
        _ = try? c.finish()
    }

    @Test func badPreambleAndVersionAreNamed() throws {
        var d = FrameDecoder()
        var b = ByteBuffer(bytes: Array("GET / HTTP/1.1\r\n".utf8))
        #expect { _ = try d.next(&b) } throws: { ($0 as? WireError)?.code == .badPreamble }
        var d2 = FrameDecoder()
        var b2 = ByteBuffer(bytes: LinkFraming.magic + [9, 0, 0, 0])
        #expect { _ = try d2.next(&b2) } throws: { ($0 as? WireError)?.code == .unsupportedVersion }
        var d3 = FrameDecoder()
        var b3 = ByteBuffer(bytes: Array("LX".utf8))  // wrong already at the second byte
        #expect { _ = try d3.next(&b3) } throws: { ($0 as? WireError)?.code == .badPreamble }
    }

    @Test func randomGarbageNeverCrashesAndNeverOverBuffers() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let n = Int.random(in: 0...200, using: &rng)
            let garbage = LinkFraming.preamble + (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var d = FrameDecoder(maxFrameSize: 64)
            var b = ByteBuffer(bytes: garbage)
            do { while let f = try d.next(&b) { #expect(f.readableBytes <= 64) } } catch let e as WireError {
                #expect(e.code == .frameTooLarge)
            }
        }
    }

    @Test func encoderSendsThePreambleOnce() throws {
        let c = EmbeddedChannel(handler: FrameEncoder())
        try c.writeOutbound(ByteBuffer(bytes: [1, 2]))
        try c.writeOutbound(ByteBuffer(bytes: [3]))
        var out: [UInt8] = []
        while let b = try c.readOutbound(as: ByteBuffer.self) { out += Array(buffer: b) }
        #expect(out == wireBytes([[1, 2], [3]]))
    }
}

enum EnvelopeIDFixture {
    static func id(_ b: UInt8) throws -> EnvelopeID { try EnvelopeID(bytes: [UInt8](repeating: b, count: 32)) }
}

import Envelope
