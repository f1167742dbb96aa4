import NIOCore

/// The link's byte stream: an 8-byte preamble, then length-prefixed frames.
///
/// Preamble: `LTLK` ‖ version (1) ‖ 3 reserved zero bytes, sent once by each side.
/// Frame: u32 big-endian body length ‖ body. The length is checked against `maxFrameSize`
/// as soon as its 4 bytes are in, before any body byte is waited for.
public enum LinkFraming {
    public static let magic: [UInt8] = Array("LTLK".utf8)
    public static let version: UInt8 = 1
    public static let preamble: [UInt8] = magic + [version, 0, 0, 0]
    /// Default limit: a 4 MiB chunk (the largest chunk size) or an offer (header ≤ 1 MiB plus its
    /// chunk table), with room for message headers and the cipher's overhead.
    public static let defaultMaxFrameSize = 8 << 20
}

/// Decodes the preamble, then frames into their bodies.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer
    public let maxFrameSize: Int
    private var sawPreamble = false

    public init(maxFrameSize: Int = LinkFraming.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while let frame = try next(&buffer) { context.fireChannelRead(Self.wrapInboundOut(frame)) }
        return .needMoreData
    }

    /// The decoding step on its own, without a channel (used by tests and fuzzing).
    public mutating func next(_ buffer: inout ByteBuffer) throws -> ByteBuffer? {
        if !sawPreamble {
            guard buffer.readableBytes >= 8 else {
                // Refuse a wrong magic as soon as it is visible, not after 8 bytes.
                if let seen = buffer.getBytes(at: buffer.readerIndex, length: min(4, buffer.readableBytes)),
                    seen != Array(LinkFraming.magic.prefix(seen.count))
                {
                    throw WireError(.badPreamble, "the peer does not speak the LienThong link protocol")
                }
                return nil
            }
            let p = buffer.readBytes(length: 8) ?? []
            guard Array(p[0..<4]) == LinkFraming.magic else {
                throw WireError(.badPreamble, "the peer does not speak the LienThong link protocol")
            }
            guard p[4] == LinkFraming.version else {
                throw WireError(
                    .unsupportedVersion,
                    "the peer speaks link protocol version \(p[4]); this node speaks \(LinkFraming.version)")
            }
            sawPreamble = true
        }
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length <= maxFrameSize else {
            throw WireError(
                .frameTooLarge, "the peer declared a \(length)-byte frame, over the limit of \(maxFrameSize)")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))
    }
}

/// Encodes frame bodies; the first write is preceded by the preamble.
public final class FrameEncoder: ChannelOutboundHandler {
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer
    private var sentPreamble = false

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let body = Self.unwrapOutboundIn(data)
        var out = context.channel.allocator.buffer(capacity: body.readableBytes + 12)
        if !sentPreamble {
            out.writeBytes(LinkFraming.preamble)
            sentPreamble = true
        }
        out.writeInteger(UInt32(body.readableBytes))
        out.writeImmutableBuffer(body)
        context.write(Self.wrapOutboundOut(out), promise: promise)
    }
}
