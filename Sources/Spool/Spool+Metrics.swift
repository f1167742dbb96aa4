import Foundation
import GRDB

/// Aggregates for the node's metrics (`/metrics`): one GROUP BY each, read-only.
extension Spool {
    /// Queue entries per next hop and state, with the oldest entry's enqueue time.
    public struct QueueCell: Sendable, Equatable {
        public let peer: String
        public let state: String
        public let count: Int
        public let oldestEnqueuedAt: Int64
    }

    public func queueCells() throws -> [QueueCell] {
        try read { db in
            try Row.fetchAll(
                db,
                sql:
                    """
                    SELECT peer, state, count(*) AS n, min(enqueued_at) AS oldest FROM queue_entry
                    GROUP BY peer, state
                    """
            ).map { QueueCell(peer: $0["peer"], state: $0["state"], count: $0["n"], oldestEnqueuedAt: $0["oldest"]) }
        }
    }

    /// How many times each audit event happened (accepted, forwarded, delivered, quarantined …).
    public func auditCounts() throws -> [String: Int] {
        try read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT event, count(*) AS n FROM audit GROUP BY event")
                    .map { ($0["event"] as String, $0["n"] as Int) })
        }
    }

    /// Recipients of documents sent here that have not answered yet (status 00).
    public func receiptsAwaited() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM receipt WHERE status = '00'") ?? 0 }
    }
}
