import Envelope
import Foundation
import Spool

#if canImport(Glibc)
import Glibc
#endif

/// Backup and restore of a whole node: its spool (an online, consistent copy while the daemon
/// runs), its keys and its config, in one passphrase-encrypted archive (`BackupArchive`).
///
/// What a restore gives back is the node as it was when the copy was taken: its seen-set, so
/// envelopes it had already passed on are recognised when they are offered again and answered
/// as duplicates (no second delivery, no second forwarding); its queues, so custody of what it
/// still held resumes; its inbox, receipts, accounts and audit log, with one `restored` record.
/// What reached the node after the copy is not in it (docs/OPERATIONS.md §Disk died).
///
/// Security note: the archive holds the node's secret keys, so it is written 0600 and only ever
/// encrypted; the spool copy it is made from (ciphertext and metadata, no keys) lives 0600 beside
/// the output for the duration of the call. A restore reads an untrusted file through
/// `BackupArchive.Reader` and writes only the fixed file names below, into a new directory.
public enum NodeBackup {
    public static let format = "lienthong-backup-v1"
    /// Shortest passphrase accepted for a new archive, in characters.
    public static let minimumPassphrase = 12

    /// What an archive says about itself (its first entry).
    public struct Manifest: Codable, Sendable, Equatable {
        public var format: String
        public var node: String
        /// When the spool was copied, Unix milliseconds.
        public var createdAt: Int64
        public var version: String
        /// The audit log's last record in the copy.
        public var auditHead: Int64
        public var spoolBytes: UInt64
    }

    /// Archive entry → path in the home, mode, whether a restore needs it.
    static let entries: [(name: String, path: String, mode: UInt16, required: Bool)] = [
        ("node.json", "node.json", 0o600, true),
        ("topology.json", "topology.json", 0o644, true),
        ("topology.previous.json", "topology.previous.json", 0o644, false),
        ("routes.json", "routes.json", 0o644, false),
        ("authority.pub", "authority.pub", 0o644, true),
        ("keys/sign.key", "keys/sign.key", 0o600, true),
        ("keys/box.key", "keys/box.key", 0o600, true),
        ("keys/public.json", "keys/public.json", 0o644, false),
        ("spool.sqlite", "spool.sqlite", 0o600, true),
    ]
    static let smallEntryLimit: UInt64 = 4 << 20

    /// Writes an archive of the node at `homePath` to `out` (a new file, 0600).
    @discardableResult
    public static func create(
        homePath: String, passphrase: String, to out: String, now: Date = Date()
    ) throws
        -> Manifest
    {
        let (home, config) = try NodeHome.open(homePath)
        guard passphrase.count >= minimumPassphrase else {
            throw NodeError(.backupPassphrase, "a backup passphrase must have at least \(minimumPassphrase) characters")
        }
        let files = FileManager.default
        guard !files.fileExists(atPath: out) else {
            throw NodeError(.backupTarget, "\(out) exists; give a new file name (backups are never overwritten)")
        }
        let oldMask = umask(0o077)
        defer { umask(oldMask) }
        let partial = out + ".partial"
        let spoolCopy = out + ".spool-copy"
        try? files.removeItem(atPath: partial)
        try? files.removeItem(atPath: spoolCopy)
        defer { try? files.removeItem(atPath: spoolCopy) }

        let summary = try Spool(path: home.spoolPath).backup(to: spoolCopy)
        let manifest = Manifest(
            format: format, node: config.node.rawValue, createdAt: Int64(now.timeIntervalSince1970 * 1000),
            version: LienThongVersion.string, auditHead: summary.auditHead, spoolBytes: summary.bytes)

        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw NodeError(.backupIo, "cannot create \(partial): \(String(cString: strerror(errno)))")
        }
        var closed = false
        defer {
            if !closed {
                close(fd)
                try? files.removeItem(atPath: partial)
            }
        }
        let writer = try BackupArchive.Writer(fd: fd, passphrase: passphrase)
        let manifestBytes = try NodeHome.json(manifest)
        var sent = false
        try writer.add(name: "manifest.json", mode: 0o600, size: UInt64(manifestBytes.count)) {
            defer { sent = true }
            return sent ? [] : manifestBytes
        }
        for entry in entries {
            let source = entry.name == "spool.sqlite" ? spoolCopy : home.path + "/" + entry.path
            guard files.fileExists(atPath: source) else {
                if entry.required { throw NodeError(.backupIo, "\(source) is missing; the home is incomplete") }
                continue
            }
            try addFile(source, as: entry.name, mode: entry.mode, to: writer)
        }
        // The keys of retired units this node answers for (`keys adopt`): without them a restored
        // successor could not open what is sealed to them.
        for id in try NodeIdentity.loadAdopted(home.adoptedKeysPath).keys.sorted() {
            let name = "keys/adopted/\(id).box.key"
            try addFile(home.path + "/" + name, as: name, mode: 0o600, to: writer)
        }
        // A rotation's keys: the pending pair (its topology may arrive after a restore) and the
        // retired ones (what was sealed to the old encryption key must still open).
        for sub in ["next", "previous"] {
            let names = (try? files.contentsOfDirectory(atPath: home.path + "/keys/" + sub)) ?? []
            for name in names.sorted().map({ "keys/\(sub)/\($0)" }) where Self.extraKeyEntry(name) != nil {
                try addFile(home.path + "/" + name, as: name, mode: 0o600, to: writer)
            }
        }
        try writer.finish()
        guard fsync(fd) == 0 else {
            throw NodeError(.backupIo, "cannot flush \(partial): \(String(cString: strerror(errno)))")
        }
        close(fd)
        closed = true
        guard rename(partial, out) == 0 else {
            try? files.removeItem(atPath: partial)
            throw NodeError(.backupIo, "cannot rename \(partial) to \(out): \(String(cString: strerror(errno)))")
        }
        syncDirectory(of: out)
        return manifest
    }

    private static func addFile(
        _ path: String, as name: String, mode: UInt16, to writer: BackupArchive.Writer
    )
        throws
    {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NodeError(.backupIo, "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw NodeError(.backupIo, "cannot stat \(path)") }
        try writer.add(name: name, mode: mode, size: UInt64(st.st_size)) {
            try BackupFile.read(fd, upTo: BackupArchive.messageBytes)
        }
    }

    /// Recreates a node from `archive` in `dir`, which must not exist or be empty. On any error
    /// nothing of the node is left in `dir`.
    @discardableResult
    public static func restore(
        archive: String, passphrase: String, into dir: String, actor: String, now: Date = Date()
    )
        throws -> Manifest
    {
        let files = FileManager.default
        var isDir: ObjCBool = false
        if files.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue, (try? files.contentsOfDirectory(atPath: dir))?.isEmpty == true else {
                throw NodeError(.backupTarget, "\(dir) is not an empty directory; restore into a new --home")
            }
        }
        let fd = open(archive, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw NodeError(.backupIo, "cannot open \(archive): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let reader = try BackupArchive.Reader(fd: fd, passphrase: passphrase)
        var done = false
        defer { if !done { cleanUp(dir) } }
        do {
            try files.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true)
            chmod(dir, 0o700)
            chmod(dir + "/keys", 0o700)
        } catch {
            throw NodeError(.backupIo, "cannot create \(dir): \(error.localizedDescription)")
        }
        let manifest = try readManifest(reader)
        var found: Set<String> = []
        while let header = try reader.nextEntry() {
            if let adopted = Self.extraKeyEntry(header.name), !found.contains(header.name),
                header.size <= smallEntryLimit
            {
                try FileManager.default.createDirectory(
                    atPath: dir + "/" + (adopted as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                found.insert(header.name)
                try extract(reader, size: header.size, to: dir + "/" + adopted, mode: 0o600)
                continue
            }
            guard let entry = entries.first(where: { $0.name == header.name }), !found.contains(header.name) else {
                throw NodeError(.backupArchive, "unexpected entry '\(header.name)' in the archive; the file is damaged")
            }
            guard entry.name == "spool.sqlite" || header.size <= smallEntryLimit else {
                throw NodeError(
                    .backupArchive, "\(entry.name) of \(header.size) bytes in the archive; the file is damaged")
            }
            found.insert(entry.name)
            try extract(reader, size: header.size, to: dir + "/" + entry.path, mode: entry.mode)
        }
        let missing = entries.filter { $0.required && !found.contains($0.name) }.map(\.name)
        guard missing.isEmpty else {
            throw NodeError(
                .backupArchive, "the archive lacks \(missing.joined(separator: ", ")); it is not a whole node")
        }
        // The node must load as the daemon will load it, and its spool must be whole.
        let identity = try NodeIdentity(home: dir)
        guard identity.id.rawValue == manifest.node else {
            throw NodeError(.backupArchive, "the archive's manifest names \(manifest.node), its config \(identity.id)")
        }
        let spool = try Spool(path: identity.home.spoolPath, integrityCheck: true)
        let audit = try spool.verifyAudit()
        guard audit.ok else {
            throw NodeError(
                .backupArchive, "the restored audit log does not verify: \(audit.problem ?? "broken chain")")
        }
        let taken = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(manifest.createdAt) / 1000))
        try spool.recordRestore(
            detail: "restored from a backup taken \(taken) (audit record \(manifest.auditHead), \(manifest.version))",
            actor: actor, now: Int64(now.timeIntervalSince1970 * 1000))
        done = true
        return manifest
    }

    private static func readManifest(_ reader: BackupArchive.Reader) throws -> Manifest {
        guard let first = try reader.nextEntry(), first.name == "manifest.json", first.size <= 64 << 10 else {
            throw NodeError(.backupArchive, "the archive does not start with its manifest; the file is damaged")
        }
        var bytes: [UInt8] = []
        while bytes.count < Int(first.size) { bytes += try reader.content(max: Int(first.size) - bytes.count) }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(bytes)), manifest.format == format
        else {
            throw NodeError(
                .backupArchive, "the archive's manifest is not \(format); restore it with the version that made it")
        }
        return manifest
    }

    private static func extract(_ reader: BackupArchive.Reader, size: UInt64, to path: String, mode: UInt16) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw NodeError(.backupIo, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var left = size
        while left > 0 {
            let piece = try reader.content(max: Int(min(left, UInt64(BackupArchive.messageBytes))))
            try BackupFile.write(fd, piece)
            left -= UInt64(piece.count)
        }
        fchmod(fd, mode_t(mode))  // whatever the umask
        guard fsync(fd) == 0 else { throw NodeError(.backupIo, "cannot flush \(path); check free space") }
    }

    /// `keys/adopted/ID.box.key` with a valid node id, or a rotation's `keys/next/sign.key`,
    /// `keys/next/box.key`, `keys/previous/sign.key`, `keys/previous/box.MS.key`: the name
    /// itself, else nil (no other path is ever written).
    static func extraKeyEntry(_ name: String) -> String? {
        if ["keys/next/sign.key", "keys/next/box.key", "keys/previous/sign.key"].contains(name) { return name }
        let retired = "keys/previous/box."
        if name.hasPrefix(retired), name.hasSuffix(".key") {
            let ms = name.dropFirst(retired.count).dropLast(".key".count)
            return !ms.isEmpty && ms.count <= 19 && ms.allSatisfy({ $0 >= "0" && $0 <= "9" }) ? name : nil
        }
        let prefix = "keys/adopted/"
        let suffix = ".box.key"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix),
            (try? NodeID(String(name.dropFirst(prefix.count).dropLast(suffix.count)))) != nil
        else { return nil }
        return name
    }

    /// Removes what a failed restore wrote, and nothing else (the names are fixed).
    private static func cleanUp(_ dir: String) {
        for entry in entries { unlink(dir + "/" + entry.path) }
        for sub in ["adopted", "next", "previous"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/keys/" + sub)) ?? []
            for name in names where extraKeyEntry("keys/\(sub)/" + name) != nil { unlink(dir + "/keys/\(sub)/" + name) }
            rmdir(dir + "/keys/" + sub)
        }
        for suffix in ["-wal", "-shm"] { unlink(dir + "/spool.sqlite" + suffix) }
        rmdir(dir + "/keys")
        rmdir(dir)
    }

    private static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
