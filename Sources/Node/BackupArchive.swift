import Foundation
import SodiumKit

/// The encrypted archive `lienthong backup` writes (docs/OPERATIONS.md §Backup and restore):
///
/// ```
/// "LTBACKUP1\n"                              10 bytes
/// salt                                       16 bytes (crypto_pwhash)
/// passes u64, memory u64                     big-endian, the Argon2id parameters
/// secretstream header                        24 bytes
/// { length u32, ciphertext }…                secretstream messages, the last tagged FINAL
/// ```
///
/// The plaintext inside is a sequence of entries — `1, name (u16 + UTF-8), mode u16, size u64,
/// bytes` — ended by a `0` byte, cut into messages of at most 64 KiB. A truncated, reordered or
/// edited archive fails authentication or lacks the final tag, and is refused whole.
///
/// Security note: the reader takes a file that may be damaged or forged: every length is checked
/// against its bound before anything is read, entry names come from a fixed list (no paths from
/// the archive reach the file system), and nothing is written before the passphrase is proven.
enum BackupArchive {
    static let magic = Array("LTBACKUP1\n".utf8)
    /// Plaintext bytes per secretstream message.
    static let messageBytes = 64 << 10
    /// Argon2id parameters for new archives: the key is derived once per backup or restore, so it
    /// can cost more than a sign-in (64 MiB, 3 passes).
    static let passes: UInt64 = 3
    static let memory = 64 << 20

    /// Writes entries into an archive file, streaming.
    final class Writer {
        private let fd: Int32
        private let pusher: SecretStreamPusher
        private var buffer: [UInt8] = []

        init(fd: Int32, passphrase: String) throws {
            self.fd = fd
            let salt = PasswordHash.randomSalt()
            let key = try PasswordHash.deriveKey(
                count: SecretStream.keyByteCount, passphrase: passphrase, salt: salt, passes: BackupArchive.passes,
                memory: BackupArchive.memory)
            pusher = try SecretStreamPusher(key: key)
            var head = magic + salt
            head += be(BackupArchive.passes, 8) + be(UInt64(BackupArchive.memory), 8)
            try BackupFile.write(fd, head + pusher.header)
        }

        /// One entry whose bytes come from `read` (called until it returns an empty array).
        func add(name: String, mode: UInt16, size: UInt64, read: () throws -> [UInt8]) throws {
            let n = Array(name.utf8)
            try append([1] + be(UInt64(n.count), 2) + n + be(UInt64(mode), 2) + be(size, 8))
            var written: UInt64 = 0
            while true {
                let piece = try read()
                if piece.isEmpty { break }
                written += UInt64(piece.count)
                try append(piece)
            }
            guard written == size else {
                throw NodeError(.backupIo, "\(name) changed size while it was being backed up (\(size) → \(written))")
            }
        }

        /// The end marker and the final message.
        func finish() throws {
            buffer.append(0)
            try BackupFile.write(fd, frame(try pusher.push(buffer, isFinal: true)))
            buffer = []
        }

        private func append(_ bytes: [UInt8]) throws {
            buffer += bytes
            while buffer.count > messageBytes {
                let message = Array(buffer.prefix(messageBytes))
                buffer.removeFirst(messageBytes)
                try BackupFile.write(fd, frame(try pusher.push(message, isFinal: false)))
            }
        }

        private func frame(_ ciphertext: [UInt8]) -> [UInt8] { be(UInt64(ciphertext.count), 4) + ciphertext }
    }

    /// Reads entries back, streaming, with every length bounded.
    final class Reader {
        private let fd: Int32
        private let puller: SecretStreamPuller
        private var plain: [UInt8] = []
        private var offset = 0
        private var ended = false

        init(fd: Int32, passphrase: String) throws {
            self.fd = fd
            let head = try BackupFile.read(fd, exactly: magic.count + PasswordHash.saltByteCount + 16)
            guard Array(head.prefix(magic.count)) == magic else {
                throw NodeError(.backupArchive, "this file is not a LienThong backup (no LTBACKUP1 header)")
            }
            let salt = Array(head[magic.count..<(magic.count + PasswordHash.saltByteCount)])
            let params = Array(head.suffix(16))
            let passes = BackupArchive.uint(params.prefix(8))
            let memory = BackupArchive.uint(params.suffix(8))
            guard passes >= 1, passes <= 16, memory >= 8 << 10, memory <= 1 << 30 else {
                throw NodeError(.backupArchive, "the archive's key parameters are out of range; the file is damaged")
            }
            let key = try PasswordHash.deriveKey(
                count: SecretStream.keyByteCount, passphrase: passphrase, salt: salt, passes: passes,
                memory: Int(memory))
            let header = try BackupFile.read(fd, exactly: SecretStream.headerByteCount)
            puller = try SecretStreamPuller(key: key, header: header)
            // The first message proves the passphrase before anything is written.
            try pullMessage(first: true)
        }

        /// The next entry's header, or nil at the end marker.
        func nextEntry() throws -> (name: String, mode: UInt16, size: UInt64)? {
            let tag = try take(1)[0]
            if tag == 0 {
                // Nothing may follow the end marker.
                guard offset == plain.count, ended else {
                    throw NodeError(.backupArchive, "data after the archive's end marker; the file is damaged")
                }
                return nil
            }
            guard tag == 1 else { throw NodeError(.backupArchive, "unknown entry kind \(tag); the file is damaged") }
            let nameCount = Int(BackupArchive.uint(try take(2)))
            guard nameCount > 0, nameCount <= 255 else {
                throw NodeError(.backupArchive, "an entry name of \(nameCount) bytes; the file is damaged")
            }
            let name = String(decoding: try take(nameCount), as: UTF8.self)
            let mode = UInt16(BackupArchive.uint(try take(2)))
            let size = BackupArchive.uint(try take(8))
            return (name, mode, size)
        }

        /// Up to `max` bytes of the current entry (the caller tracks how many remain).
        func content(max: Int) throws -> [UInt8] {
            if offset == plain.count { try pullMessage() }
            let n = min(max, plain.count - offset)
            defer { offset += n }
            return Array(plain[offset..<(offset + n)])
        }

        private func take(_ count: Int) throws -> [UInt8] {
            var out: [UInt8] = []
            while out.count < count {
                out += try content(max: count - out.count)
            }
            return out
        }

        private func pullMessage(first: Bool = false) throws {
            guard !ended else {
                throw NodeError(.backupArchive, "the archive ends inside an entry; the file is damaged")
            }
            let lengthBytes = try BackupFile.read(fd, upTo: 4)
            guard lengthBytes.count == 4 else {
                throw NodeError(
                    .backupArchive, "the archive is truncated (no final message); copy it again from where it was kept")
            }
            let length = Int(BackupArchive.uint(lengthBytes))
            guard length > SecretStream.chunkOverhead, length <= messageBytes + SecretStream.chunkOverhead else {
                throw NodeError(.backupArchive, "a message of \(length) bytes in the archive; the file is damaged")
            }
            let ciphertext = try BackupFile.read(fd, exactly: length)
            do {
                let (bytes, isFinal) = try puller.pull(ciphertext)
                plain = bytes
                offset = 0
                ended = isFinal
            } catch {
                // The first message is where a wrong passphrase shows; later ones can only be damage.
                if first {
                    throw NodeError(
                        .backupPassphrase, "wrong passphrase for this backup (or the archive's start is damaged)")
                }
                throw NodeError(.backupArchive, "the archive failed authentication; the file is damaged or was changed")
            }
            if ended, try !BackupFile.read(fd, upTo: 1).isEmpty {
                throw NodeError(.backupArchive, "data after the archive's final message; the file is damaged")
            }
        }
    }

    static func be(_ value: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (count - 1 - $0))) }
    }

    static func uint(_ bytes: some Collection<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
}

/// Plain file-descriptor I/O for the archive, with errors an operator can act on.
enum BackupFile {
    static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                throw NodeError(
                    .backupIo, "cannot write the backup: \(String(cString: strerror(errno))); check free space")
            }
            done += n
        }
    }

    /// Up to `count` bytes; fewer only at the end of the file.
    static func read(_ fd: Int32, upTo count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, count - done) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw NodeError(.backupIo, "cannot read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            done += n
        }
        return Array(out.prefix(done))
    }

    static func read(_ fd: Int32, exactly count: Int) throws -> [UInt8] {
        let bytes = try read(fd, upTo: count)
        guard bytes.count == count else {
            throw NodeError(.backupArchive, "the archive is truncated; copy it again from where it was kept")
        }
        return bytes
    }
}
