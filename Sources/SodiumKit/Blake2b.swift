import CSodium

/// BLAKE2b (`crypto_generichash`), one-shot and incremental.
public enum Blake2b {
    /// BLAKE2b with an `outputLength`-byte digest (16…64) of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer, outputLength: Int = 32) -> [UInt8] {
        Sodium.ensureInitialized()
        precondition((16...64).contains(outputLength), "BLAKE2b output length must be 16…64")
        var out = [UInt8](repeating: 0, count: outputLength)
        _ = crypto_generichash(
            &out, outputLength, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count), nil, 0)
        return out
    }

    public static func hash(_ bytes: [UInt8], outputLength: Int = 32) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0, outputLength: outputLength) }
    }

    /// Writes the 32-byte BLAKE2b digest of `bytes` into `out` (no allocation; hot path).
    public static func hash32(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 32)
        _ = crypto_generichash(
            out.baseAddress!.assumingMemoryBound(to: UInt8.self), 32,
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count), nil, 0)
    }
}

/// Incremental BLAKE2b over data that arrives in pieces.
public final class Blake2bHasher {
    private let state: UnsafeMutableRawPointer
    private let outputLength: Int
    private var finished = false

    public init(outputLength: Int = 32) {
        Sodium.ensureInitialized()
        precondition((16...64).contains(outputLength), "BLAKE2b output length must be 16…64")
        self.outputLength = outputLength
        state = .allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        _ = crypto_generichash_init(OpaquePointer(state), nil, 0, outputLength)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "Blake2bHasher used after finalize()")
        _ = crypto_generichash_update(
            OpaquePointer(state),
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public func finalize() -> [UInt8] {
        precondition(!finished, "Blake2bHasher finalized twice")
        finished = true
        var out = [UInt8](repeating: 0, count: outputLength)
        _ = crypto_generichash_final(OpaquePointer(state), &out, outputLength)
        return out
    }

    deinit {
        Sodium.memzero(UnsafeMutableRawBufferPointer(start: state, count: crypto_generichash_statebytes()))
        state.deallocate()
    }
}

/// Human-comparable key fingerprints.
public enum Fingerprint {
    /// First 16 bytes of BLAKE2b-256 of the key, as hex in groups of four: `ab12:cd34:…`.
    public static func of(_ bytes: [UInt8]) -> String {
        let digest = Blake2b.hash(bytes).prefix(16)
        let hex = Hex.encode(digest)
        var groups: [Substring] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 4)
            groups.append(hex[i..<j])
            i = j
        }
        return groups.joined(separator: ":")
    }
}

extension Blake2b {
    /// Keyed BLAKE2b-256 (a MAC / KDF): `key` 16…64 bytes. Returns the digest as a secret.
    public static func keyedHash(_ bytes: [UInt8], key: SecretBytes) -> SecretBytes {
        Sodium.ensureInitialized()
        precondition((16...64).contains(key.count), "BLAKE2b key must be 16…64 bytes")
        return SecretBytes(count: 32) { out in
            key.withUnsafeBytes { k in
                _ = crypto_generichash(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), 32, bytes, UInt64(bytes.count),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
            }
        }
    }
}
