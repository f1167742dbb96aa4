import Envelope
import Foundation
import GRDB

/// A document whose content is due for the archive (`retentionDays`).
public struct RetentionCandidate: Sendable, Equatable {
    public enum Direction: String, Sendable { case sent, received }
    public let envelopeID: EnvelopeID
    public let direction: Direction
    /// When it arrived (received) or was sent, Unix ms.
    public let at: Int64
}

/// Where an archived document's content went.
public struct ArchivedRecord: Sendable, Equatable {
    public let path: String
    /// The document's metadata (payload metadata JSON), for `inbox show` after the content left.
    public let metadata: [UInt8]?
    public let at: Int64
}

/// Retention's named transactions (docs/OPERATIONS.md §Retention): which documents are due, and
/// the removal of an archived document's content, keeping its metadata, tracking and audit.
extension Spool {
    /// Up to `limit` documents older than `cutoff` whose content is still here and that no queue
    /// entry still carries: received ones from the inbox, sent ones this node (`origin`) tracks.
    public func retentionCandidates(origin: NodeID, before cutoff: Int64, limit: Int) throws -> [RetentionCandidate] {
        try read { db in
            let received = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.envelope_id AS id, i.received_at AS at FROM inbox i JOIN envelope e ON e.id = i.envelope_id
                    WHERE i.received_at < ? AND e.chunks_stored > 0
                      AND NOT EXISTS (SELECT 1 FROM archived a WHERE a.envelope_id = i.envelope_id)
                      AND NOT EXISTS (SELECT 1 FROM queue_entry q WHERE q.envelope_id = i.envelope_id)
                    ORDER BY i.received_at LIMIT ?
                    """, arguments: [cutoff, limit])
            let sent = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.id AS id, e.created_at AS at FROM envelope e
                    WHERE e.origin = ? AND e.kind = ? AND e.created_at < ? AND e.chunks_stored > 0 AND e.complete = 1
                      AND EXISTS (SELECT 1 FROM receipt r WHERE r.envelope_id = e.id)
                      AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.envelope_id = e.id)
                      AND NOT EXISTS (SELECT 1 FROM archived a WHERE a.envelope_id = e.id)
                      AND NOT EXISTS (SELECT 1 FROM queue_entry q WHERE q.envelope_id = e.id)
                    ORDER BY e.created_at LIMIT ?
                    """, arguments: [origin.rawValue, Int(EnvelopeKind.document.rawValue), cutoff, limit])
            func candidate(_ row: Row, _ direction: RetentionCandidate.Direction) throws -> RetentionCandidate {
                RetentionCandidate(
                    envelopeID: try EnvelopeID(bytes: Array(row["id"] as Data)), direction: direction, at: row["at"])
            }
            return try received.map { try candidate($0, .received) } + sent.map { try candidate($0, .sent) }
        }
    }

    /// Removes an archived document's content (its chunks) and records where it went, with an
    /// `archived` audit record. Does nothing if a queue entry carries it again or it was archived.
    @discardableResult
    public func recordArchived(_ c: RetentionCandidate, path: String, metadata: [UInt8]?, now: Int64) throws -> Bool {
        try write { db in
            let key = Data(c.envelopeID.bytes)
            let busy =
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM queue_entry WHERE envelope_id = ?1)
                            OR EXISTS (SELECT 1 FROM archived WHERE envelope_id = ?1)
                        """, arguments: [key]) ?? true
            guard !busy else { return false }
            let chunks = try Int.fetchOne(db, sql: "SELECT count(*) FROM chunk WHERE envelope_id = ?", arguments: [key])
            try db.execute(sql: "DELETE FROM chunk WHERE envelope_id = ?", arguments: [key])
            try db.execute(sql: "UPDATE envelope SET chunks_stored = 0 WHERE id = ?", arguments: [key])
            try db.execute(
                sql: "INSERT INTO archived (envelope_id, direction, path, metadata, at) VALUES (?, ?, ?, ?, ?)",
                arguments: [key, c.direction.rawValue, path, metadata.map { Data($0) }, now])
            try AuditLog.append(
                db, at: now, event: .archived, envelope: c.envelopeID, actor: "node",
                detail: "\(c.direction.rawValue) document's content (\(chunks ?? 0) chunk(s)) archived to \(path)")
            return true
        }
    }

    /// Where a document's content was archived, if it was.
    public func archived(_ id: EnvelopeID) throws -> ArchivedRecord? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT path, metadata, at FROM archived WHERE envelope_id = ?", arguments: [Data(id.bytes)]
            ).map {
                ArchivedRecord(path: $0["path"], metadata: ($0["metadata"] as Data?).map { Array($0) }, at: $0["at"])
            }
        }
    }

    /// The raw signed header and chunk table of a stored envelope, to write it out as a file.
    public func envelopeFileHead(_ id: EnvelopeID) throws -> [UInt8]? {
        try read { db in
            try Row.fetchOne(
                db, sql: "SELECT header, chunk_table FROM envelope WHERE id = ?", arguments: [Data(id.bytes)]
            ).map { Array($0["header"] as Data) + Array($0["chunk_table"] as Data) }
        }
    }
}
