import Envelope

/// Bounds-checked reads over a message body: every read checks what is left first.
struct WireReader {
    let bytes: [UInt8]
    var offset = 0
    let what: String

    init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, n <= remaining else { throw WireError(.truncated, "\(what) is truncated") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func u8() throws -> UInt8 { try take(1)[0] }
    mutating func u16() throws -> UInt16 { try take(2).reduce(0) { $0 << 8 | UInt16($1) } }
    mutating func u32() throws -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func u64() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func shortString() throws -> String {
        let b = try take(Int(try u8()))
        guard let s = String(validating: b, as: UTF8.self) else {
            throw WireError(.malformed, "\(what) has text that is not UTF-8")
        }
        return s
    }
    mutating func nodeID() throws -> NodeID {
        do { return try NodeID(try shortString()) } catch let e as WireError { throw e } catch {
            throw WireError(.malformed, "\(what) has an invalid node id")
        }
    }
    mutating func envelopeID() throws -> EnvelopeID { try EnvelopeID(bytes: try take(32)) }

    func end() throws {
        guard remaining == 0 else { throw WireError(.malformed, "\(what) has \(remaining) unexpected trailing bytes") }
    }
}

/// Big-endian writes for message bodies.
struct WireWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xff)] }
    mutating func u32(_ v: UInt32) { for s in [24, 16, 8, 0] { bytes.append(UInt8((v >> UInt32(s)) & 0xff)) } }
    mutating func u64(_ v: UInt64) {
        for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((v >> UInt64(s)) & 0xff)) }
    }
    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func shortString(_ s: String) {
        let u = Array(s.utf8.prefix(255))
        u8(UInt8(u.count))
        raw(u)
    }
}
