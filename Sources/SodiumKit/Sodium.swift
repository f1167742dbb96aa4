import CSodium
/// SodiumKit: the one module that imports libsodium.
///
/// Everything cryptographic in LienThong goes through this module: Ed25519 node signatures,
/// X25519 sealed boxes for content keys, XChaCha20-Poly1305 secretstreams for bodies and
/// link sessions, BLAKE2b for ids and chunk digests, `crypto_kx` for session keys.
///
/// Security note: this module handles secret keys and decrypts untrusted ciphertext. Secret key
/// material lives in `SecretBytes` (zeroed on release) and must never be logged, printed or
/// written anywhere but a 0600 key file. Every function that takes attacker-controlled bytes
/// checks lengths before touching libsodium and reports failure as a `SodiumError`, never a crash.
import Diagnostics

/// The libsodium runtime. `Sodium.ensureInitialized()` calls `sodium_init` exactly once.
public enum Sodium {
    // A lazily initialised static is initialised exactly once, thread-safely (swift_once).
    private static let initResult: Int32 = sodium_init()

    /// Initialises libsodium if needed. Safe to call from any thread, any number of times.
    @inline(__always)
    public static func ensureInitialized() {
        precondition(initResult >= 0, "libsodium could not be initialised (sodium_init failed)")
    }

    /// The libsodium version string, for diagnostics.
    public static var versionString: String {
        ensureInitialized()
        return String(cString: sodium_version_string())
    }

    /// `count` bytes from libsodium's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialized()
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return out
    }

    /// Compares two byte strings in time that depends only on their length.
    public static func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        ensureInitialized()
        let x = Array(a)
        let y = Array(b)
        guard x.count == y.count else { return false }
        if x.isEmpty { return true }
        return x.withUnsafeBytes { xp in
            y.withUnsafeBytes { yp in sodium_memcmp(xp.baseAddress!, yp.baseAddress!, x.count) == 0 }
        }
    }

    /// Overwrites `buffer` with zeros in a way the compiler may not optimise away.
    public static func memzero(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        sodium_memzero(base, buffer.count)
    }
}

/// The error type of SodiumKit: a stable code, an operator-readable message, and the cause.
public struct SodiumError: Error, CustomStringConvertible, Sendable, Equatable, LienThongError {
    public enum Code: String, Sendable {
        case invalidKeyLength = "SODIUM-KEY-LENGTH"
        case signatureInvalid = "SODIUM-SIGNATURE"
        case sealedBoxOpenFailed = "SODIUM-SEALED-BOX"
        case streamDecryptFailed = "SODIUM-STREAM-DECRYPT"
        case streamFinished = "SODIUM-STREAM-FINISHED"
        case keyExchangeFailed = "SODIUM-KX"
        case keyFilePermissions = "SODIUM-KEYFILE-PERMISSIONS"
        case keyFileMalformed = "SODIUM-KEYFILE-MALFORMED"
        case keyFileIO = "SODIUM-KEYFILE-IO"
        case invalidInput = "SODIUM-INPUT"
    }

    /// The stable code (`LienThongError`).
    public var errorCode: String { code.rawValue }

    public let code: Code
    public let message: String
    /// The underlying cause (errno text, inner error), if any. Never contains key material.
    public let cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        var s = "[\(code.rawValue)] \(message)"
        if let cause { s += " (cause: \(cause))" }
        return s
    }
}
