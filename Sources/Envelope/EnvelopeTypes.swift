import SodiumKit

/// What an envelope carries.
public enum EnvelopeKind: UInt8, Sendable, CaseIterable, Codable {
    /// An official document (văn bản) with its attached files.
    case document = 1
    /// A processing-status receipt (01 đã đến … 06 hoàn thành, 02 từ chối) back to the origin.
    case receipt = 2
    /// Control traffic between nodes (e.g. undeliverable notices).
    case control = 3
}

/// Urgency (độ khẩn) per Decree 30/2020/NĐ-CP. Higher raw values overtake lower ones.
public enum Urgency: UInt8, Sendable, CaseIterable, Codable, Comparable, CustomStringConvertible {
    case thuong = 0  // Thường
    case khan = 1  // Khẩn
    case thuongKhan = 2  // Thượng khẩn
    case hoaToc = 3  // Hỏa tốc
    case hoaTocHenGio = 4  // Hỏa tốc hẹn giờ

    public static func < (a: Urgency, b: Urgency) -> Bool { a.rawValue < b.rawValue }

    /// Scheduling rank: both Hỏa tốc levels share the top rank.
    public var rank: Int { self == .hoaTocHenGio ? 3 : Int(rawValue) }

    /// The Vietnamese name shown to clerks.
    public var displayName: String {
        switch self {
        case .thuong: "Thường"
        case .khan: "Khẩn"
        case .thuongKhan: "Thượng khẩn"
        case .hoaToc: "Hỏa tốc"
        case .hoaTocHenGio: "Hỏa tốc hẹn giờ"
        }
    }

    /// The spelling used on the command line: `thuong`, `khan`, `thuong-khan`, `hoa-toc`, `hoa-toc-hen-gio`.
    public var cliName: String {
        switch self {
        case .thuong: "thuong"
        case .khan: "khan"
        case .thuongKhan: "thuong-khan"
        case .hoaToc: "hoa-toc"
        case .hoaTocHenGio: "hoa-toc-hen-gio"
        }
    }

    /// Parses a CLI name or a Vietnamese display name (case-insensitive).
    public init?(parsing text: String) {
        let t = text.lowercased()
        guard let u = Urgency.allCases.first(where: { $0.cliName == t || $0.displayName.lowercased() == t }) else {
            return nil
        }
        self = u
    }

    public var description: String { displayName }
}

/// Secrecy level (độ mật). Only `.none` may travel on the ordinary exchange.
public enum SecrecyLevel: String, Sendable, CaseIterable, Codable {
    case none = "Thường"
    case mat = "Mật"
    case toiMat = "Tối mật"
    case tuyetMat = "Tuyệt mật"
}

/// The 32-byte content address of an envelope: BLAKE2b-256 of its signed header.
public struct EnvelopeID: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw EnvelopeError(.invalidArgument, "an envelope id is \(Self.byteCount) bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Parses the 64-character hex form printed by `lienthong send`.
    public init(hex: String) throws {
        guard let b = Hex.decode(hex), b.count == Self.byteCount else {
            throw EnvelopeError(.invalidArgument, "'\(hex.prefix(80))' is not an envelope id (64 hex characters)")
        }
        bytes = b
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    /// Ids are BLAKE2b digests, uniformly distributed: their first 8 bytes hash as well as all
    /// 32, and one `combine` is far cheaper than 32 (ids key every per-session table).
    public func hash(into hasher: inout Hasher) {
        var word: UInt64 = 0
        for i in 0..<min(8, bytes.count) { word = word << 8 | UInt64(bytes[i]) }
        hasher.combine(word)
    }

    public static func == (a: EnvelopeID, b: EnvelopeID) -> Bool { a.bytes == b.bytes }
    public static func < (a: EnvelopeID, b: EnvelopeID) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    public init(from decoder: any Decoder) throws {
        try self.init(hex: decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}
