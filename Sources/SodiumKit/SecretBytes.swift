import CSodium

/// A fixed-size buffer for secret key material, zeroed when released.
///
/// Backed by its own allocation (not a Swift array, which may be copied freely), so the bytes
/// exist in one place and are wiped with `sodium_memzero` on deinit.
public final class SecretBytes: @unchecked Sendable {
    // @unchecked Sendable: the buffer is written only in init and read-only afterwards.
    let buffer: UnsafeMutableRawBufferPointer

    /// A buffer of `count` random bytes.
    public init(randomCount count: Int) {
        Sodium.ensureInitialized()
        buffer = .allocate(byteCount: count, alignment: 16)
        randombytes_buf(buffer.baseAddress!, count)
    }

    /// A buffer of `count` bytes filled by `fill`.
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        Sodium.ensureInitialized()
        buffer = .allocate(byteCount: count, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        // If `fill` throws, deinit still runs (every stored property is initialised), and it
        // zeroes and frees the buffer; freeing it here as well would be a double free.
        try fill(buffer)
    }

    /// Copies `bytes` into a new secret buffer. The caller should wipe its own copy.
    public convenience init(copying bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        self.init(count: array.count) { dst in
            array.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
    }

    public var count: Int { buffer.count }

    /// Read access to the secret bytes. Do not let the pointer escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(buffer))
    }

    deinit {
        Sodium.memzero(buffer)
        buffer.deallocate()
    }
}
