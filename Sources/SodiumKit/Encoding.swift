import CSodium

/// Base64 (standard alphabet, padded) via libsodium's constant-time codec.
public enum Base64 {
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Sodium.ensureInitialized()
        let b = Array(bytes)
        let variant = Int32(sodium_base64_VARIANT_ORIGINAL)
        let len = sodium_base64_encoded_len(b.count, variant)
        var out = [CChar](repeating: 0, count: len)
        _ = sodium_bin2base64(&out, len, b, b.count, variant)
        return String(decoding: out.prefix(len - 1).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes base64; returns nil on any malformed input.
    public static func decode(_ text: String) -> [UInt8]? {
        Sodium.ensureInitialized()
        let input = Array(text.utf8)
        var out = [UInt8](repeating: 0, count: input.count * 3 / 4 + 3)
        var outLen = 0
        var end: UnsafePointer<CChar>? = nil
        let rc = input.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { c in
                sodium_base642bin(
                    &out, out.count, c.baseAddress, input.count, nil, &outLen, &end,
                    Int32(sodium_base64_VARIANT_ORIGINAL))
            }
        }
        guard rc == 0 else { return nil }
        // Reject trailing garbage: the decoder must have consumed everything.
        if let end,
            input.withUnsafeBufferPointer({ p in
                p.withMemoryRebound(to: CChar.self) { end != $0.baseAddress! + input.count }
            })
        {
            return nil
        }
        return Array(out.prefix(outLen))
    }
}

/// Lower-case hexadecimal.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        // Contiguous bytes (arrays, ids) straight into the string's storage: the generic loop
        // was a tenth of a 100,000-entry `inbox list` (docs/BENCHMARKS.md).
        if let text = bytes.withContiguousStorageIfAvailable(encode(buffer:)) { return text }
        return Array(bytes).withUnsafeBufferPointer(encode(buffer:))
    }

    private static func encode(buffer: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: buffer.count * 2) { out in
            digits.withUnsafeBufferPointer { digits in
                for (i, b) in buffer.enumerated() {
                    out[2 * i] = digits[Int(b >> 4)]
                    out[2 * i + 1] = digits[Int(b & 0x0f)]
                }
            }
            return buffer.count * 2
        }
    }

    /// Decodes hex (either case); nil on odd length or a non-hex character.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = value(chars[i]), let lo = value(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
