import Envelope
/// Spool: the node's durable store — envelopes and their chunks, outbound queues, the dedup
/// seen-set, the inbox, receipts for documents this node sent, and a hash-chained audit log.
///
/// One SQLite database per node (WAL, `synchronous=FULL`: a commit is on disk before anyone is
/// told). The spool exposes named transactions, not tables (GRDB's `AppDatabase` pattern):
/// `begin` / `appendChunks` / `complete` (or `accept` for a whole envelope) are the single gate
/// by which envelopes enter; `claim`, `ack`, `deferEntry`, `quarantine`, `hold`, `release`,
/// `retry`, `delete`, `expire` move queue entries through their states (after Postfix:
/// ready ≈ incoming/active, inflight = active, deferred, held = hold, quarantined = corrupt).
///
/// Custody rule: accepting an envelope is one transaction (stored + enqueued for every next hop
/// or delivered to the inbox + seen + audited), committed before the caller may acknowledge
/// upstream; acknowledging downstream custody is one transaction (entry removed + audited).
///
/// Security note: the spool stores bytes received from peers. It verifies every chunk from a
/// peer or a file against the digest its origin signed before storing it (the caller verifies
/// the header's signature against the topology first); only chunks this node's own sealer just
/// produced (`appendStaged`) are stored without a second hash. It never interprets plaintext (it has no keys), and
/// never deletes
/// an envelope that is still queued or in the inbox.
import Foundation
import GRDB
import SodiumKit

public final class Spool: Sendable {
    /// The page size of a new spool file. Bodies are 64 KiB chunks stored as overflow pages:
    /// 16 KiB pages write and free a chunk in 5 pages instead of 17 (each page is a WAL frame, a
    /// checkpoint copy and a free-list entry), for 3.6 % of space against 1 % with 4 KiB pages.
    /// `Scripts/bench` b: about 15 % less CPU across the three nodes (docs/BENCHMARKS.md).
    public static let pageSize = 16384
    /// WAL bytes between automatic checkpoints, whatever the page size. SQLite checkpoints in
    /// the commit that crosses this, and every commit queued behind it waits — an urgent
    /// envelope's too: 4 MiB instead of 16 took `Scripts/bench` e's wait from up to 20 ms to
    /// about 5, at no measured cost to bulk or small-document throughput (docs/BENCHMARKS.md).
    static let checkpointBytes = 4 << 20

    /// The database file.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the spool at `path`, applies migrations and sets
    /// `synchronous=FULL` on the writer. It does not touch the queue: the CLI opens the spool of a
    /// running node to list it, and returning that node's in-flight entries to ready made its
    /// links offer them a second time (the transfer stalled). The daemon calls `resetInFlight()`
    /// itself at start-up.
    ///
    /// - Parameter integrityCheck: run SQLite's `integrity_check` first (the daemon does at start-up),
    ///   so a damaged file is refused before anything is written to it.
    /// - Parameter busyTimeout: how long to wait for another process's lock before `locked`.
    public init(path: String, integrityCheck: Bool = false, busyTimeout: Double = 5) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.foreignKeysEnabled = true
        config.label = "spool"
        config.prepareDatabase { db in
            // Only a new file takes the page size (an existing spool keeps the one it was made with).
            try db.execute(sql: "PRAGMA page_size = \(Self.pageSize)")
            // Statement journals in memory: deleting a relayed envelope cascades to its chunks, so
            // SQLite keeps a statement journal, and past 64 KiB (four 16 KiB pages) it spilled it
            // to a temporary file — 6 % of a relay's CPU in `Scripts/bench` a was those writes.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        if integrityCheck { try Self.checkIntegrity(path) }
        // Owner-only from the first byte, whatever the umask: SQLite gives the WAL and shared-memory
        // files the database file's mode.
        if !FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw SpoolError.from(error, path: path)
        }
        try run {
            try pool.barrierWriteWithoutTransaction { db in
                // GRDB sets synchronous=NORMAL on the writer when it enables WAL, after any
                // prepareDatabase hook; set FULL here, once the writer connection exists.
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // The checkpoint interval in bytes, not SQLite's 1,000 pages (16 MiB with 16 KiB pages).
                let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(max(1, Self.checkpointBytes / pageSize))")
                // Debian builds SQLite with SECURE_DELETE on: every page a delete frees is
                // zeroed, written to the WAL and checkpointed again. A relay deletes each body it
                // has passed on, so that doubled its disk writes (a quarter of a relay's CPU in
                // `Scripts/bench` b). FAST still clears deleted cells in b-tree pages; freed
                // overflow pages keep their old bytes until reused — ciphertext and chunk digests
                // only, since the spool never holds plaintext or keys (docs/SECURITY.md).
                try db.execute(sql: "PRAGMA secure_delete = FAST")
                if try SpoolMigrations.migrator.hasBeenSuperseded(db) {
                    throw SpoolError(
                        .newerVersion,
                        """
                        \(path) was written by a newer LienThong (it has migrations this build does not know); \
                        upgrade this node instead of downgrading
                        """
                    )
                }
            }
            try SpoolMigrations.migrator.migrate(pool)
        }
    }

    /// SQLite's `integrity_check` on a read-only connection, before the pool opens: opening a
    /// pool writes (GRDB creates the WAL with a throwaway table when there is none, and a
    /// closing writer checkpoints), and a damaged file must be refused exactly as it was found.
    /// `integrity_check`, not `quick_check`: quick_check does not compare indexes with their
    /// tables, and a spool damaged there passed it (StartupRefusalTests).
    static func checkIntegrity(_ path: String) throws {
        let files = FileManager.default
        guard files.fileExists(atPath: path) else { return }  // a new spool
        // Even a read-only connection leaves an empty -wal and -shm behind; remove what it made.
        let made = [path + "-wal", path + "-shm"].filter { !files.fileExists(atPath: $0) }
        defer {
            for p in made
            where ((try? files.attributesOfItem(atPath: p)[.size] as? UInt64) ?? 1) == 0 || p.hasSuffix("-shm") {
                try? files.removeItem(atPath: p)
            }
        }
        var config = Configuration()
        config.readonly = true
        config.label = "spool-check"
        let result: [String]
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            result = try queue.read { try String.fetchAll($0, sql: "PRAGMA integrity_check(3)") }
        } catch {
            throw SpoolError.from(error, path: path)
        }
        guard result == ["ok"] else {
            throw SpoolError(
                .corrupt,
                """
                \(path) fails SQLite's integrity check; stop the node, keep the file for analysis, restore \
                from backup
                """,
                cause: result.prefix(3).joined(separator: "; "))
        }
    }

    /// The writer connection's settings that durability and cost depend on.
    public enum WriterSetting: String, Sendable {
        /// 2 = FULL: a commit is on disk before anyone is told.
        case synchronous
        /// 2 = FAST: freed pages are not written twice more.
        case secureDelete = "secure_delete"
        /// 2 = MEMORY: statement journals never spill to temporary files.
        case tempStore = "temp_store"
    }

    /// A setting as the writer connection sees it.
    public func writerSetting(_ setting: WriterSetting) throws -> Int {
        try run { try pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA \(setting.rawValue)") ?? -1 } }
    }

    /// `PRAGMA journal_mode` on the writer.
    public func journalMode() throws -> String {
        try run { try pool.writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode") ?? "" } }
    }

    /// Caps the database size (SQLite `max_page_count`) on the writer; used by tests to
    /// provoke SQLITE_FULL exactly as a full disk does.
    func setMaxPageCount(_ pages: Int) throws {
        try run { try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA max_page_count = \(pages)") } }
    }

    /// Size of the database and its WAL, in bytes.
    public func diskSize() -> UInt64 {
        [path, path + "-wal"].reduce(0) { total, p in
            total + ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? UInt64) ?? 0)
        }
    }

    /// Runs `body`, mapping SQLite errors to `SpoolError`s that say what to do.
    func run<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw SpoolError.from(error, path: path) }
    }

    /// A write transaction with SQLite errors mapped.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try run { try pool.write(body) }
    }

    /// A read with SQLite errors mapped.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try run { try pool.read(body) }
    }

    /// A read of many rows (an operator's listing of up to 100,000 entries) with a page cache of
    /// `bulkCacheKiB` for its duration: the joins look rows up all over the file, and with
    /// SQLite's default 2 MiB each lookup read its pages again from the kernel (a third of the
    /// listing's time). The cache is given back afterwards, so an idle node stays small.
    func bulkRead<T>(_ body: (Database) throws -> T) throws -> T {
        try read { db in
            let before = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            try db.execute(sql: "PRAGMA cache_size = -\(Self.bulkCacheKiB)")
            defer { try? db.execute(sql: "PRAGMA cache_size = \(before)") }
            return try body(db)
        }
    }

    static let bulkCacheKiB = 65536
}
