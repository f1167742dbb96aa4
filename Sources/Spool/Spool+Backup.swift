import Envelope
import Foundation
import GRDB

/// What `Spool.backup(to:)` copied.
public struct SpoolBackupSummary: Sendable, Equatable {
    /// Bytes of the copy.
    public let bytes: UInt64
    /// The audit log's last sequence number in the copy.
    public let auditHead: Int64
}

/// The spool's backup and restore transactions (docs/OPERATIONS.md §Backup and restore).
extension Spool {
    /// Copies the spool as one consistent snapshot into a new database file at `path`, while the
    /// daemon keeps writing (SQLite's online backup, read from a WAL snapshot), then checks the copy
    /// with `integrity_check`. The copy is a standalone file (its WAL folded in).
    public func backup(to path: String) throws -> SpoolBackupSummary {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw SpoolError(.invalidArgument, "\(path) exists; a spool backup is written to a new file")
        }
        var config = Configuration()
        config.label = "spool-backup"
        do {
            let copy = try DatabaseQueue(path: path, configuration: config)
            try pool.backup(to: copy)
            let head = try copy.writeWithoutTransaction { db -> Int64 in
                // One file, no WAL beside it, so the archive holds exactly what was copied.
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                let check = try String.fetchAll(db, sql: "PRAGMA integrity_check(3)")
                guard check == ["ok"] else {
                    throw SpoolError(.corrupt, "the spool's backup copy fails integrity_check: \(check)")
                }
                return try Int64.fetchOne(db, sql: "SELECT seq FROM audit_head WHERE one = 1") ?? 0
            }
            try copy.close()
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
            return SpoolBackupSummary(bytes: size, auditHead: head)
        } catch let error as SpoolError {
            throw error
        } catch {
            throw SpoolError.from(error, path: path)
        }
    }

    /// Records in the audit log that this spool was restored from a backup (entries that were in
    /// flight when it was copied go back to ready when the daemon starts, as after any stop).
    public func recordRestore(detail: String, actor: String, now: Int64) throws {
        try write { db in
            try AuditLog.append(db, at: now, event: .restored, actor: actor, detail: detail)
        }
    }
}
