/// Fuzz targets: each untrusted-input parser and protocol state machine of LienThong, driven by
/// arbitrary bytes, with the invariants each must keep whatever it is fed.
///
/// The same functions run under libFuzzer (`lienthong-fuzz` built with `-sanitize=fuzzer,address`,
/// see `Scripts/fuzz`) and in the ordinary test suite, which replays the checked-in seed corpora
/// and every input that ever crashed a target (`Fuzz/corpus`, `Fuzz/regressions`).
///
/// Security note: every byte given to `run` is hostile by design; a target must never touch the
/// disk, the network or a real node's keys (it uses the fixed, public `FuzzFixture` keys only).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The link's preamble and length-prefixed frames (`FrameDecoder`).
    case frame
    /// The handshake state machines (`HandshakeAcceptor`, `HandshakeDialler`) fed frame by frame.
    case handshake
    /// Session messages (`SessionMessage.decode`) driving the sending state machine
    /// (`OutboundState`) and the receiver's chunk verification, as one envelope's exchange.
    case session
    /// The receiving half of a session (`InboundState`): a peer's offers and chunks, and the
    /// outcomes of a simulated spool, in any order.
    case inbound
    /// An envelope file: header parser, chunk table, signature, opener and payload decoder.
    case envelope
    /// The topology loader: JSON, validation, then routing over what it accepted.
    case topology
    /// The control socket: line framing and the request parser.
    case control
    /// An edXML package (QCVN 102:2016): the streaming reader, then the writer and the reader again.
    case edxml

    /// Runs one input. Parsers may refuse it (that is their job); a broken invariant throws a
    /// `FuzzFinding`, and a crash is a crash.
    public func run(_ data: [UInt8]) throws(FuzzFinding) {
        switch self {
        case .frame: try FrameFuzzer.run(data)
        case .handshake: try HandshakeFuzzer.run(data)
        case .session: try SessionFuzzer.run(data)
        case .inbound: try InboundFuzzer.run(data)
        case .envelope: try EnvelopeFuzzer.run(data)
        case .topology: try TopologyFuzzer.run(data)
        case .control: try ControlFuzzer.run(data)
        case .edxml: try EdXMLFuzzer.run(data)
        }
    }

    /// The largest input worth trying (libFuzzer's `-max_len`): a few frames, an envelope of a
    /// few chunks, a topology of a few dozen nodes, one control line over its limit.
    public var maxInputLength: Int {
        switch self {
        case .frame, .handshake: 4096
        case .session, .inbound, .envelope: 16384
        case .topology: 32768
        case .control: 70000
        case .edxml: 65536
        }
    }
}

/// An invariant a target broke: the input is a bug even though nothing crashed.
public struct FuzzFinding: Error, CustomStringConvertible, Sendable {
    public let target: FuzzTarget
    public let message: String
    public init(_ target: FuzzTarget, _ message: String) {
        self.target = target
        self.message = message
    }
    public var description: String { "[FUZZ-\(target.rawValue.uppercased())] \(message)" }
}

/// Reads a fuzz input as a script: small integers and length-prefixed pieces, never past the end.
struct FuzzInput {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isEmpty: Bool { offset >= bytes.count }

    mutating func u8() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A piece: u16 big-endian length, then that many bytes (fewer if the input ends first).
    mutating func piece() -> [UInt8]? {
        guard !isEmpty else { return nil }
        let n = Int(u8()) << 8 | Int(u8())
        let end = min(bytes.count, offset + n)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    /// Every remaining piece.
    mutating func pieces() -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let p = piece() { out.append(p) }
        return out
    }

    /// The pieces form of `parts`, the inverse of `pieces()` (for writing seeds).
    static func encode(_ parts: [[UInt8]]) -> [UInt8] {
        parts.flatMap { p in [UInt8(p.count >> 8 & 0xff), UInt8(p.count & 0xff)] + p }
    }
}
