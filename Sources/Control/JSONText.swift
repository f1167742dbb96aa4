/// JSON written by hand for the control socket's long lists (`inbox list`, `queue list`,
/// `track`): Foundation's encoder and decoder were most of the time of a 100,000-entry answer
/// (docs/BENCHMARKS.md). The text decodes to the same values as `JSONEncoder`'s (keys sorted,
/// nil fields left out, slashes not escaped); `JSONTextTests` checks it against a decode.
///
/// Security note: writes strings from the spool and the topology (names, subjects from other
/// agencies): every quote, backslash and control character is escaped, so no value can end its
/// string or inject a field.
public struct JSONText: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A key, for the value written next (an object or array begun after it).
    public mutating func key(_ key: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func field(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        string(value)
        needsComma = true
    }

    public mutating func field(_ key: StaticString, _ value: Int64?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func field(_ key: StaticString, _ value: UInt64?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func field(_ key: StaticString, _ value: Int?) { field(key, value.map(Int64.init)) }

    public mutating func field(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func field(_ key: StaticString, _ values: [String]?) {
        guard let values else { return }
        self.key(key)
        beginArray()
        for v in values {
            separate()
            string(v)
            needsComma = true
        }
        endArray()
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var start = 0
            for (i, b) in utf8.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                switch b {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5c, 0x22])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5c, 0x5c])
                case 0x0a: bytes.append(contentsOf: [0x5c, UInt8(ascii: "n")])
                case 0x0d: bytes.append(contentsOf: [0x5c, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5c, UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x5c, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension InboxItem {
    /// This item as `JSONEncoder` with sorted keys writes it.
    public func write(to json: inout JSONText) {
        json.beginObject()
        json.field("businessDocType", businessDocType)
        json.field("documentId", documentId)
        json.field("id", id)
        json.field("origin", origin)
        json.field("originName", originName)
        json.field("payloadBytes", payloadBytes)
        json.field("recall", recall)
        json.field("receivedAt", receivedAt)
        json.field("reference", reference)
        json.field("status", status)
        json.field("statusAt", statusAt)
        json.field("subject", subject)
        json.field("urgency", urgency)
        json.endObject()
    }
}

extension TrackSummary {
    /// This summary as `JSONEncoder` with sorted keys writes it.
    public func write(to json: inout JSONText) {
        json.beginObject()
        json.field("arrived", arrived)
        json.field("id", id)
        json.field("recipients", recipients)
        json.field("reference", reference)
        json.field("sentAt", sentAt)
        json.field("subject", subject)
        json.endObject()
    }
}
