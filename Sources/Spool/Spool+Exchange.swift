import Envelope
import Foundation
import GRDB

/// What the hot folder (`DIR/exchange`) still has to write out, and what it has written: a received
/// document as `in:ID`, a recipient's status of a sent document as `st:ID:RECIPIENT:STATUS:RECALL`.
extension Spool {
    /// A recipient's status of a sent document that the hot folder has not written yet.
    public struct PendingStatus: Sendable, Equatable {
        public let envelopeID: EnvelopeID
        public let recipient: String
        public let key: String
    }

    /// Received documents not yet written to the hot folder, oldest first.
    public func exchangePendingDocuments(limit: Int) throws -> [EnvelopeID] {
        try read { db in
            try Data.fetchAll(
                db,
                sql: """
                    SELECT i.envelope_id FROM inbox i JOIN envelope e ON e.id = i.envelope_id
                    WHERE e.kind = ? AND NOT EXISTS
                      (SELECT 1 FROM exchange_done d WHERE d.key = 'in:' || lower(hex(i.envelope_id)))
                    ORDER BY i.received_at, i.envelope_id LIMIT ?
                    """, arguments: [Int(EnvelopeKind.document.rawValue), limit]
            ).map { try EnvelopeID(bytes: [UInt8]($0)) }
        }
    }

    /// Statuses of sent documents (an answer, a recall or its answer) not yet written out.
    public func exchangePendingStatuses(limit: Int) throws -> [PendingStatus] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT envelope_id, recipient, k FROM (
                      SELECT envelope_id, recipient, updated_at, 'st:' || lower(hex(envelope_id)) || ':' || recipient
                        || ':' || status || ':' || ifnull(recall, '') AS k
                      FROM receipt WHERE status NOT IN ('00', 'undeliverable') OR recall IS NOT NULL)
                    WHERE NOT EXISTS (SELECT 1 FROM exchange_done d WHERE d.key = k)
                    ORDER BY updated_at LIMIT ?
                    """, arguments: [limit]
            ).map { row in
                PendingStatus(
                    envelopeID: try EnvelopeID(bytes: [UInt8](row["envelope_id"] as Data)), recipient: row["recipient"],
                    key: row["k"])
            }
        }
    }

    /// Records that the hot folder wrote `key` out.
    public func markExchanged(_ key: String, now: Int64) throws {
        try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO exchange_done (key, at) VALUES (?, ?)", arguments: [key, now])
        }
    }
}
