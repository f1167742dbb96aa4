import CSodium

/// `crypto_secretstream_xchacha20poly1305`: an authenticated stream of chunks under one key.
public enum SecretStream {
    public static let keyByteCount = Int(lt_ss_KEYBYTES)
    public static let headerByteCount = Int(lt_ss_HEADERBYTES)
    /// Bytes each chunk's ciphertext adds to its plaintext (tag byte + Poly1305 MAC).
    public static let chunkOverhead = Int(lt_ss_ABYTES)

    /// A fresh random stream key.
    public static func makeKey() -> SecretBytes {
        SecretBytes(count: keyByteCount) {
            crypto_secretstream_xchacha20poly1305_keygen($0.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }
}

/// The encrypting end of a secretstream. Not thread-safe: one owner pushes chunks in order.
public final class SecretStreamPusher {
    private let state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>
    /// The 24-byte stream header the puller needs.
    public let header: [UInt8]
    private var finished = false

    public init(key: SecretBytes) throws {
        guard key.count == SecretStream.keyByteCount else {
            throw SodiumError(
                .invalidKeyLength, "a secretstream key is \(SecretStream.keyByteCount) bytes, got \(key.count)")
        }
        Sodium.ensureInitialized()
        let st = UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>.allocate(capacity: 1)
        var h = [UInt8](repeating: 0, count: SecretStream.headerByteCount)
        key.withUnsafeBytes { k in
            _ = crypto_secretstream_xchacha20poly1305_init_push(
                st, &h, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        state = st
        header = h
    }

    /// Encrypts `plaintext` into `out`, which must hold `plaintext.count + chunkOverhead` bytes.
    /// `isFinal` tags the last chunk, so truncation is detected by the puller.
    public func push(_ plaintext: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, isFinal: Bool) throws
    {
        guard !finished else { throw SodiumError(.streamFinished, "secretstream already pushed its final chunk") }
        guard out.count >= plaintext.count + SecretStream.chunkOverhead else {
            throw SodiumError(.invalidInput, "secretstream output buffer too small")
        }
        _ = crypto_secretstream_xchacha20poly1305_push(
            state, out.baseAddress!.assumingMemoryBound(to: UInt8.self), nil,
            plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count), nil, 0,
            isFinal ? lt_ss_TAG_FINAL : lt_ss_TAG_MESSAGE)
        if isFinal { finished = true }
    }

    /// Convenience: encrypts one chunk into a new array.
    public func push(_ plaintext: [UInt8], isFinal: Bool) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + SecretStream.chunkOverhead)
        try plaintext.withUnsafeBytes { p in try out.withUnsafeMutableBytes { try push(p, into: $0, isFinal: isFinal) }
        }
        return out
    }

    deinit {
        Sodium.memzero(
            UnsafeMutableRawBufferPointer(
                start: state, count: MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size))
        state.deallocate()
    }
}

/// The decrypting end of a secretstream.
public final class SecretStreamPuller {
    private let state: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>
    public private(set) var sawFinal = false

    public init(key: SecretBytes, header: some Collection<UInt8>) throws {
        let h = Array(header)
        guard key.count == SecretStream.keyByteCount else {
            throw SodiumError(
                .invalidKeyLength, "a secretstream key is \(SecretStream.keyByteCount) bytes, got \(key.count)")
        }
        guard h.count == SecretStream.headerByteCount else {
            throw SodiumError(
                .invalidInput, "a secretstream header is \(SecretStream.headerByteCount) bytes, got \(h.count)")
        }
        Sodium.ensureInitialized()
        let st = UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>.allocate(capacity: 1)
        let rc = key.withUnsafeBytes { k in
            crypto_secretstream_xchacha20poly1305_init_pull(st, h, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        state = st
        guard rc == 0 else {
            throw SodiumError(.streamDecryptFailed, "secretstream header rejected")
        }
    }

    /// Decrypts one chunk into `out` (at least `ciphertext.count - chunkOverhead` bytes).
    /// Returns the plaintext length and whether this was the stream's final chunk.
    @discardableResult
    public func pull(
        _ ciphertext: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer
    ) throws -> (count: Int, isFinal: Bool) {
        guard !sawFinal else { throw SodiumError(.streamFinished, "data after the final chunk of a secretstream") }
        guard ciphertext.count >= SecretStream.chunkOverhead, out.count >= ciphertext.count - SecretStream.chunkOverhead
        else {
            throw SodiumError(.streamDecryptFailed, "secretstream chunk of \(ciphertext.count) bytes is too short")
        }
        var outLen: UInt64 = 0
        var tag: UInt8 = 0
        let rc = crypto_secretstream_xchacha20poly1305_pull(
            state, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &outLen, &tag,
            ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count), nil, 0)
        guard rc == 0 else { throw SodiumError(.streamDecryptFailed, "secretstream chunk failed authentication") }
        if tag == lt_ss_TAG_FINAL { sawFinal = true }
        return (Int(outLen), tag == lt_ss_TAG_FINAL)
    }

    /// Convenience: decrypts one chunk into a new array.
    public func pull(_ ciphertext: [UInt8]) throws -> (plaintext: [UInt8], isFinal: Bool) {
        var out = [UInt8](repeating: 0, count: max(0, ciphertext.count - SecretStream.chunkOverhead))
        if out.isEmpty { out = [0] }  // a non-empty buffer so baseAddress is never nil
        let r = try ciphertext.withUnsafeBytes { c in try out.withUnsafeMutableBytes { try pull(c, into: $0) } }
        return (Array(out.prefix(r.count)), r.isFinal)
    }

    deinit {
        Sodium.memzero(
            UnsafeMutableRawBufferPointer(
                start: state, count: MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size))
        state.deallocate()
    }
}
