import Envelope

/// Why a receiver refuses an offered envelope. Permanent refusals quarantine the envelope at the
/// sender; temporary ones defer it with backoff.
public enum RefusalReason: UInt16, Sendable, CaseIterable {
    case badSignature = 1
    case unknownOrigin = 2
    case unknownRecipient = 3
    case expired = 4
    case tooLarge = 5
    case malformed = 6
    case notRoutedHere = 7
    case chunkTableMismatch = 8
    /// Created before the sane floor or too far in the receiver's future, or a lifetime beyond
    /// the network's maximum (docs/PROTOCOL.md §5).
    case badClock = 9
    /// The receiver's disk is full: try later.
    case diskFull = 100
    /// Any other failure at the receiver that may pass.
    case temporaryFailure = 101

    /// `notRoutedHere`, `unknownRecipient` and `unknownOrigin` are temporary: while a topology
    /// update floods (on weak links, for hours), two neighbours may disagree on the tree — a relay
    /// re-routes through a node that has not applied it yet, or a node not yet updated sees a new
    /// agency as origin or recipient. An origin's own gate refuses unknown recipients at sealing,
    /// so at a relay these mean "not yet"; the sender retries with backoff, expiry bounds it.
    public var isPermanent: Bool {
        switch self {
        case .notRoutedHere, .unknownRecipient, .unknownOrigin: false
        default: rawValue < 100
        }
    }
}

/// The messages of an established (encrypted) session. Layout in docs/PROTOCOL.md §5.
public enum SessionMessage: Sendable, Equatable {
    /// Sender → receiver: an envelope from the sender's queue for this peer; header and chunk
    /// table travel with it so the receiver checks everything before asking for a body byte.
    case offer(header: [UInt8], table: [UInt8])
    /// Receiver: already have it (dedup); the sender may drop its entry.
    case have(EnvelopeID)
    /// Receiver: send chunks from index `k` (k = chunks already held).
    case sendFrom(EnvelopeID, Int)
    /// Receiver: will not take it, with a reason.
    case refuse(EnvelopeID, RefusalReason, String)
    /// Sender: chunk `index` of an envelope.
    case chunk(EnvelopeID, Int, [UInt8])
    /// Receiver: `count` chunks are durably stored (flow-control window credit).
    case stored(EnvelopeID, Int)
    /// Receiver: custody taken (committed durably) for these envelopes.
    case ack([EnvelopeID])
    case ping(UInt64)
    case pong(UInt64)
    /// Either side: closing, with a reason.
    case close(CloseReason, String)

    public enum CloseReason: UInt16, Sendable {
        case normal = 0
        case shuttingDown = 1
        case protocolError = 2
        case idle = 3
    }

    enum Tag: UInt8 {
        case offer = 0x10
        case have = 0x11
        case sendFrom = 0x12
        case refuse = 0x13
        case chunk = 0x14
        case stored = 0x15
        case ack = 0x16
        case ping = 0x20
        case pong = 0x21
        case close = 0x30
    }

    /// The most envelope ids one ACK may carry.
    public static let maxAckIDs = 4096

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        switch self {
        case .offer(let header, let table):
            w.u8(Tag.offer.rawValue)
            w.u32(UInt32(header.count))
            w.raw(header)
            w.u32(UInt32(table.count))
            w.raw(table)
        case .have(let id):
            w.u8(Tag.have.rawValue)
            w.raw(id.bytes)
        case .sendFrom(let id, let k):
            w.u8(Tag.sendFrom.rawValue)
            w.raw(id.bytes)
            w.u32(UInt32(k))
        case .refuse(let id, let reason, let text):
            w.u8(Tag.refuse.rawValue)
            w.raw(id.bytes)
            w.u16(reason.rawValue)
            w.shortString(text)
        case .chunk(let id, let index, let data):
            w.u8(Tag.chunk.rawValue)
            w.raw(id.bytes)
            w.u32(UInt32(index))
            w.raw(data)
        case .stored(let id, let count):
            w.u8(Tag.stored.rawValue)
            w.raw(id.bytes)
            w.u32(UInt32(count))
        case .ack(let ids):
            w.u8(Tag.ack.rawValue)
            w.u16(UInt16(ids.count))
            for id in ids { w.raw(id.bytes) }
        case .ping(let n):
            w.u8(Tag.ping.rawValue)
            w.u64(n)
        case .pong(let n):
            w.u8(Tag.pong.rawValue)
            w.u64(n)
        case .close(let reason, let text):
            w.u8(Tag.close.rawValue)
            w.u16(reason.rawValue)
            w.shortString(text)
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> SessionMessage {
        var r = WireReader(bytes, what: "session message")
        let raw = try r.u8()
        guard let tag = Tag(rawValue: raw) else {
            throw WireError(.unknownMessage, "unknown session message type 0x\(String(raw, radix: 16))")
        }
        let message: SessionMessage
        switch tag {
        case .offer:
            let header = try r.take(Int(try r.u32()))
            message = .offer(header: header, table: try r.take(Int(try r.u32())))
        case .have:
            message = .have(try r.envelopeID())
        case .sendFrom:
            message = .sendFrom(try r.envelopeID(), Int(try r.u32()))
        case .refuse:
            let id = try r.envelopeID()
            let code = try r.u16()
            guard let reason = RefusalReason(rawValue: code) else {
                throw WireError(.malformed, "unknown refusal reason \(code)")
            }
            message = .refuse(id, reason, try r.shortString())
        case .chunk:
            let id = try r.envelopeID()
            let index = Int(try r.u32())
            message = .chunk(id, index, try r.take(r.remaining))
        case .stored:
            message = .stored(try r.envelopeID(), Int(try r.u32()))
        case .ack:
            let n = Int(try r.u16())
            guard n <= maxAckIDs else { throw WireError(.malformed, "ACK with \(n) ids, over \(maxAckIDs)") }
            message = .ack(try (0..<n).map { _ in try r.envelopeID() })
        case .ping:
            message = .ping(try r.u64())
        case .pong:
            message = .pong(try r.u64())
        case .close:
            let code = try r.u16()
            message = .close(CloseReason(rawValue: code) ?? .protocolError, try r.shortString())
        }
        try r.end()
        return message
    }
}
