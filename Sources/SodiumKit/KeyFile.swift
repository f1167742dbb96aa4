#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Secret key files: one key per file, text, mode 0600.
///
/// Format (one line after an optional `#` comment line):
/// `lienthong-secret-key-v1 <ed25519|x25519> <base64 of the libsodium secret key>`.
/// A file readable or writable by group or others is refused on load, with the `chmod` to run.
public enum KeyFile {
    public enum Kind: String, Sendable {
        case ed25519
        case x25519

        var secretByteCount: Int { self == .ed25519 ? 64 : 32 }
    }

    static let magic = "lienthong-secret-key-v1"

    /// Writes `secret` to a new file at `path` with mode 0600. Refuses to overwrite.
    public static func write(_ secret: SecretBytes, kind: Kind, to path: String) throws {
        let text = secret.withUnsafeBytes { s in
            """
            # LienThong secret key: never share, copy or log this file.\n\(magic) \(kind.rawValue) \
            \(Base64.encode(s))\n
            """
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SodiumError(.keyFileIO, "cannot create key file \(path)", cause: errnoText())
        }
        defer { close(fd) }
        // The umask may have removed bits but never adds any; make the mode exact anyway.
        _ = fchmod(fd, 0o600)
        var bytes = Array(text.utf8)
        defer { bytes.withUnsafeMutableBytes { Sodium.memzero($0) } }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            guard n > 0 else { throw SodiumError(.keyFileIO, "cannot write key file \(path)", cause: errnoText()) }
            written += n
        }
        guard fsync(fd) == 0 else { throw SodiumError(.keyFileIO, "cannot sync key file \(path)", cause: errnoText()) }
    }

    /// Reads a secret key of `kind` from `path`, refusing files that others can read.
    public static func read(kind: Kind, from path: String) throws -> SecretBytes {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw SodiumError(.keyFileIO, "cannot read key file \(path)", cause: errnoText())
        }
        guard st.st_mode & 0o077 == 0 else {
            let mode = String(st.st_mode & 0o777, radix: 8)
            throw SodiumError(
                .keyFilePermissions,
                """
                key file \(path) has mode \(mode): group or others can access it; run `chmod 600 \(path)` and \
                check who has read it
                """
            )
        }
        guard st.st_size <= 4096 else {
            throw SodiumError(.keyFileMalformed, "key file \(path) is \(st.st_size) bytes, too large to be a key file")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SodiumError(.keyFileIO, "cannot open key file \(path)", cause: errnoText()) }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 4097)
        defer { buf.withUnsafeMutableBytes { Sodium.memzero($0) } }
        var total = 0
        while total < buf.count {
            let room = buf.count - total
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, room) }
            if n < 0 { throw SodiumError(.keyFileIO, "cannot read key file \(path)", cause: errnoText()) }
            if n == 0 { break }
            total += n
        }
        let text = String(decoding: buf.prefix(total), as: UTF8.self)
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == magic else { break }
            guard parts[1] == kind.rawValue else {
                throw SodiumError(
                    .keyFileMalformed, "key file \(path) holds a \(parts[1]) key, expected \(kind.rawValue)")
            }
            guard var raw = Base64.decode(String(parts[2])), raw.count == kind.secretByteCount else {
                throw SodiumError(.keyFileMalformed, "key file \(path) has a damaged \(kind.rawValue) key")
            }
            defer { raw.withUnsafeMutableBytes { Sodium.memzero($0) } }
            return SecretBytes(copying: raw)
        }
        throw SodiumError(
            .keyFileMalformed, "\(path) is not a LienThong key file (expected a line starting with \(magic))")
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

extension SigningKeyPair {
    /// Loads the node signing key from a 0600 key file.
    public convenience init(keyFile path: String) throws {
        try self.init(secretKey: KeyFile.read(kind: .ed25519, from: path))
    }

    /// Writes the secret key to a new 0600 key file.
    public func write(to path: String) throws {
        try KeyFile.write(secret, kind: .ed25519, to: path)
    }
}

extension BoxKeyPair {
    /// Loads the node encryption key from a 0600 key file.
    public convenience init(keyFile path: String) throws {
        try self.init(secretKey: KeyFile.read(kind: .x25519, from: path))
    }

    /// Writes the secret key to a new 0600 key file.
    public func write(to path: String) throws {
        try KeyFile.write(secret, kind: .x25519, to: path)
    }
}
