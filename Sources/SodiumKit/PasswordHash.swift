import CSodium
import Diagnostics

/// Argon2id password hashes (libsodium's `crypto_pwhash_str`), for the desk's accounts.
///
/// The encoded string carries its own salt and parameters, so a hash made with other settings
/// still verifies. Parameters follow OWASP's Argon2id minimum (19 MiB, 2 passes): a commune's
/// node is a small machine that also runs link sessions, and libsodium's "interactive" preset
/// (64 MiB per attempt) would let a burst of logins take most of its memory.
///
/// Security note: the password is in memory only for the call and is never logged; a wrong
/// password and a malformed hash both verify as false, in time that does not depend on where
/// they differ.
public enum PasswordHash {
    /// Memory per hash, bytes.
    public static let memoryLimit = 19 << 20
    /// Passes over that memory.
    public static let passes: UInt64 = 2
    /// Longest password accepted, bytes: hashing cost must not depend on what a client sends.
    public static let maxPasswordBytes = 1024

    /// The encoded Argon2id hash of `password` (ASCII, starts with `$argon2id$`).
    public static func hash(_ password: String) throws -> String {
        Sodium.ensureInitialized()
        let bytes = Array(password.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPasswordBytes else {
            throw SodiumError(.invalidInput, "a password must be 1 to \(maxPasswordBytes) bytes")
        }
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        // utf8CString always has its NUL, so the pointer is never nil; the length excludes it.
        let rc = password.utf8CString.withUnsafeBufferPointer { c in
            crypto_pwhash_str_alg(
                &out, c.baseAddress!, UInt64(bytes.count), passes, memoryLimit, crypto_pwhash_ALG_ARGON2ID13)
        }
        guard rc == 0 else {
            throw SodiumError(.invalidInput, "the password could not be hashed: the machine is out of memory")
        }
        return String(cString: out)
    }

    /// Whether `password` matches `encoded`; false for anything malformed.
    public static func verify(_ password: String, against encoded: String) -> Bool {
        Sodium.ensureInitialized()
        let bytes = Array(password.utf8)
        guard bytes.count <= maxPasswordBytes, encoded.utf8.count < Int(crypto_pwhash_STRBYTES) else { return false }
        return password.utf8CString.withUnsafeBufferPointer { c in
            crypto_pwhash_str_verify(encoded, c.baseAddress!, UInt64(bytes.count)) == 0
        }
    }
}

extension PasswordHash {
    /// Bytes of salt `deriveKey` takes.
    public static let saltByteCount = Int(crypto_pwhash_SALTBYTES)

    /// An Argon2id key of `count` bytes from a passphrase (`crypto_pwhash`), for encrypting a
    /// backup archive. The caller stores `salt`, `passes` and `memory` beside what it encrypts.
    public static func deriveKey(
        count: Int, passphrase: String, salt: [UInt8], passes: UInt64, memory: Int
    ) throws -> SecretBytes {
        Sodium.ensureInitialized()
        let bytes = Array(passphrase.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPasswordBytes else {
            throw SodiumError(.invalidInput, "a passphrase must be 1 to \(maxPasswordBytes) bytes")
        }
        guard salt.count == saltByteCount else {
            throw SodiumError(.invalidInput, "a passphrase salt is \(saltByteCount) bytes, got \(salt.count)")
        }
        guard passes >= UInt64(crypto_pwhash_OPSLIMIT_MIN), passes <= 16, memory >= 8 << 10, memory <= 1 << 30 else {
            throw SodiumError(.invalidInput, "passphrase parameters out of range: \(passes) passes, \(memory) bytes")
        }
        var rc: Int32 = 0
        let key = SecretBytes(count: count) { out in
            rc = crypto_pwhash(
                out.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(count), passphrase, UInt64(bytes.count),
                salt, passes, memory, crypto_pwhash_ALG_ARGON2ID13)
        }
        guard rc == 0 else {
            throw SodiumError(.invalidInput, "the passphrase key could not be derived: the machine is out of memory")
        }
        return key
    }

    /// A fresh random salt for `deriveKey`.
    public static func randomSalt() -> [UInt8] { Sodium.randomBytes(saltByteCount) }
}
