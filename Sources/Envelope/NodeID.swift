/// A node's identifier: the agency code of the organisation that runs it (QCVN 102 style,
/// e.g. `000.00.00.H27`). ASCII letters, digits, `.`, `-`, `_`; 1 to 64 bytes.
public struct NodeID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public static let maxLength = 64
    public let rawValue: String

    public init(_ rawValue: String) throws {
        let utf8 = Array(rawValue.utf8)
        guard !utf8.isEmpty, utf8.count <= Self.maxLength else {
            throw EnvelopeError(
                .invalidNodeID, "node id '\(rawValue.prefix(80))' must be 1 to \(Self.maxLength) characters")
        }
        guard utf8.allSatisfy(Self.isAllowed) else {
            throw EnvelopeError(
                .invalidNodeID,
                "node id '\(rawValue.prefix(80))' may contain only ASCII letters, digits, '.', '-' and '_'")
        }
        self.rawValue = rawValue
    }

    static func isAllowed(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    public static func < (a: NodeID, b: NodeID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        try self.init(s)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
