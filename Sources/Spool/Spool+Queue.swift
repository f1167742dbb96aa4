import Envelope
import Foundation
import GRDB

extension Spool {
    // MARK: - The link's side

    /// Claims up to `limit` entries for `peer` that are due at `now`: most urgent first, then
    /// oldest (the order of `QueuePolicy.order`), and marks them in flight.
    public func claim(peer: NodeID, now: Int64, limit: Int) throws -> [QueueEntry] {
        try write { db in
            let rows = try Row.fetchAll(
                db,
                sql: Self.entrySelect + """
                    WHERE q.peer = ? AND q.state IN ('ready', 'deferred') AND q.next_attempt_at <= ? AND \
                    q.expires_at > ?
                    ORDER BY q.priority DESC, q.enqueued_at, q.id LIMIT ?
                    """, arguments: [peer.rawValue, now, now, limit])
            let entries = try rows.map(Self.entry)
            let mark = try db.cachedStatement(
                sql:
                    """
                    UPDATE queue_entry SET state = 'inflight', attempts = attempts + 1 WHERE envelope_id = ? \
                    AND peer = ?
                    """
            )
            for e in entries { try mark.execute(arguments: [Data(e.envelopeID.bytes), peer.rawValue]) }
            return entries
        }
    }

    /// `claim`, returning each entry with its envelope's signed header and chunk table (what the
    /// link offers), in one transaction. Entries whose envelope is not complete are not claimed.
    public func claimForSending(
        peer: NodeID, now: Int64, limit: Int
    ) throws -> [(QueueEntry, EnvelopeHeader, ChunkTable)] {
        try write { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT q.envelope_id, q.peer, q.recipients, q.state, q.enqueued_at, q.attempts, \
                        q.next_attempt_at, q.last_error,
                               q.expires_at, e.urgency, e.origin, e.body_size, e.header, e.chunk_table
                        FROM queue_entry q JOIN envelope e ON e.id = q.envelope_id
                        WHERE q.peer = ? AND q.state IN ('ready', 'deferred') AND q.next_attempt_at <= ? AND \
                        q.expires_at > ? AND e.complete = 1
                        ORDER BY q.priority DESC, q.enqueued_at, q.id LIMIT ?
                        """), arguments: [peer.rawValue, now, now, limit])
            let mark = try db.cachedStatement(
                sql:
                    """
                    UPDATE queue_entry SET state = 'inflight', attempts = attempts + 1 WHERE envelope_id = ? \
                    AND peer = ?
                    """
            )
            return try rows.map { row in
                let entry = try Self.entry(row)
                try mark.execute(arguments: [Data(entry.envelopeID.bytes), peer.rawValue])
                return (
                    entry, try EnvelopeHeader.parse(Array(row["header"] as Data)),
                    try ChunkTable(bytes: Array(row["chunk_table"] as Data))
                )
            }
        }
    }

    /// Downstream took custody (its durable ACK arrived): removes the entry, audits it, and drops
    /// the body once nothing else needs it. Idempotent: a repeated ACK changes nothing.
    @discardableResult
    public func ack(_ id: EnvelopeID, peer: NodeID, now: Int64) throws -> Bool {
        try write { db in
            try db.execute(
                sql: "DELETE FROM queue_entry WHERE envelope_id = ? AND peer = ?",
                arguments: [Data(id.bytes), peer.rawValue])
            guard db.changesCount > 0 else { return false }
            try AuditLog.append(db, at: now, event: .acked, envelope: id, peer: peer.rawValue, actor: peer.rawValue)
            try dropBodyIfUnused(db, id)
            return true
        }
    }

    /// Several ACKs from one peer in one transaction (acks are batched on the link).
    /// Returns how many entries were removed.
    @discardableResult
    public func ackBatch(_ ids: [EnvelopeID], peer: NodeID, now: Int64) throws -> Int {
        try write { db in
            var removed = 0
            let delete = try db.cachedStatement(sql: "DELETE FROM queue_entry WHERE envelope_id = ? AND peer = ?")
            for id in ids {
                try delete.execute(arguments: [Data(id.bytes), peer.rawValue])
                guard db.changesCount > 0 else { continue }
                removed += 1
                try AuditLog.append(db, at: now, event: .acked, envelope: id, peer: peer.rawValue, actor: peer.rawValue)
                try dropBodyIfUnused(db, id)
            }
            return removed
        }
    }

    /// A session with `peer` ended: its in-flight entries return to ready (not acknowledged, so
    /// not delivered as far as this node knows; the next session offers them again).
    @discardableResult
    public func requeueInFlight(peer: NodeID) throws -> Int {
        try write { db in
            try db.execute(
                sql: "UPDATE queue_entry SET state = 'ready' WHERE state = 'inflight' AND peer = ?",
                arguments: [peer.rawValue])
            return db.changesCount
        }
    }

    /// When the next entry for `peer` that `claimForSending` would take becomes due (ready or
    /// deferred, not expired, its envelope complete), or nil when there is none: a session's
    /// sender sleeps until then instead of polling its queue.
    public func nextAttempt(peer: NodeID, now: Int64) throws -> Int64? {
        try read { db in
            try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT MIN(q.next_attempt_at) FROM queue_entry q JOIN envelope e ON e.id = q.envelope_id
                        WHERE q.peer = ? AND q.state IN ('ready', 'deferred') AND q.expires_at > ? AND e.complete = 1
                        """), arguments: [peer.rawValue, now])
        }
    }

    /// A transfer failed for a temporary reason: the entry waits `delay` ms (from `RetryPolicy`).
    public func deferEntry(_ id: EnvelopeID, peer: NodeID, error: String, delay: Int64, now: Int64) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE queue_entry SET state = 'deferred', next_attempt_at = ?, last_error = ?
                    WHERE envelope_id = ? AND peer = ? AND state IN ('inflight', 'ready', 'deferred')
                    """, arguments: [now + delay, error, Data(id.bytes), peer.rawValue])
            guard db.changesCount > 0 else { return }
            try AuditLog.append(
                db, at: now, event: .deferred, envelope: id, peer: peer.rawValue, actor: "node",
                detail: "\(error); retry in \(delay / 1000) s")
        }
    }

    /// Sets an entry aside for a permanent reason (verification failed, refused downstream), so
    /// it never blocks the rest of the peer's queue. Operators may release or delete it.
    public func quarantine(_ id: EnvelopeID, peer: NodeID, reason: String, now: Int64) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE queue_entry SET state = 'quarantined', last_error = ? WHERE envelope_id = ? AND peer = ?",
                arguments: [reason, Data(id.bytes), peer.rawValue])
            guard db.changesCount > 0 else { return }
            try AuditLog.append(
                db, at: now, event: .quarantined, envelope: id, peer: peer.rawValue, actor: "node", detail: reason)
        }
    }

    /// At start-up: entries left in flight by a stopped or killed node go back to ready.
    @discardableResult
    public func resetInFlight() throws -> Int {
        try write { db in
            try db.execute(sql: "UPDATE queue_entry SET state = 'ready' WHERE state = 'inflight'")
            return db.changesCount
        }
    }

    // MARK: - Operator actions

    /// `queue hold`: stops entries (remembering their state) until released. Returns the count.
    @discardableResult
    public func hold(_ selector: QueueSelector, actor: String, now: Int64) throws -> Int {
        try operate(
            selector, event: .held, actor: actor, now: now, detail: nil,
            sql: "UPDATE queue_entry SET held_state = state, state = 'held' WHERE state NOT IN ('held')")
    }

    /// `queue release`: held entries return to their earlier state; quarantined ones to ready.
    @discardableResult
    public func release(_ selector: QueueSelector, actor: String, now: Int64) throws -> Int {
        try operate(
            selector, event: .released, actor: actor, now: now, detail: nil,
            sql: """
                UPDATE queue_entry SET state = CASE WHEN state = 'held' AND held_state IN ('ready', 'deferred') THEN \
                held_state ELSE 'ready' END,
                                       held_state = NULL, next_attempt_at = MIN(next_attempt_at, \(now))
                WHERE state IN ('held', 'quarantined')
                """)
    }

    /// `queue retry`: deferred (and ready) entries become due now.
    @discardableResult
    public func retry(_ selector: QueueSelector, actor: String, now: Int64) throws -> Int {
        try operate(
            selector, event: .retried, actor: actor, now: now, detail: nil,
            sql: "UPDATE queue_entry SET state = 'ready', next_attempt_at = \(now) WHERE state IN ('deferred', 'ready')"
        )
    }

    /// `queue delete`: removes entries for good, recording who and why.
    @discardableResult
    public func delete(_ selector: QueueSelector, actor: String, reason: String, now: Int64) throws -> Int {
        try write { db in
            let targets = try selectedEntries(db, selector, extra: nil)
            for (id, peer) in targets {
                try db.execute(
                    sql: "DELETE FROM queue_entry WHERE envelope_id = ? AND peer = ?",
                    arguments: [Data(id.bytes), peer])
                try AuditLog.append(
                    db, at: now, event: .deleted, envelope: id, peer: peer, actor: actor, detail: reason)
                try dropBodyIfUnused(db, id)
            }
            return targets.count
        }
    }

    /// Applies an UPDATE (with its own state condition) to the selected entries, auditing each.
    private func operate(
        _ selector: QueueSelector, event: AuditEvent, actor: String, now: Int64, detail: String?, sql: String
    ) throws -> Int {
        try write { db in
            var changed = 0
            for (id, peer) in try selectedEntries(db, selector, extra: nil) {
                try db.execute(sql: sql + " AND envelope_id = ? AND peer = ?", arguments: [Data(id.bytes), peer])
                guard db.changesCount > 0 else { continue }
                changed += 1
                try AuditLog.append(db, at: now, event: event, envelope: id, peer: peer, actor: actor, detail: detail)
            }
            return changed
        }
    }

    private func selectedEntries(
        _ db: Database, _ selector: QueueSelector, extra: String?
    ) throws -> [(EnvelopeID, String)] {
        var rows: [Row] = []
        switch selector {
        case .all(let peer):
            rows = try Row.fetchAll(
                db, sql: "SELECT envelope_id, peer FROM queue_entry WHERE (? IS NULL OR peer = ?) ORDER BY id",
                arguments: [peer?.rawValue, peer?.rawValue])
        case .envelopes(let ids, let peer):
            for id in ids {
                let found = try Row.fetchAll(
                    db,
                    sql:
                        """
                        SELECT envelope_id, peer FROM queue_entry WHERE envelope_id = ? AND (? IS NULL OR peer \
                        = ?) ORDER BY id
                        """,
                    arguments: [Data(id.bytes), peer?.rawValue, peer?.rawValue])
                guard !found.isEmpty else {
                    throw SpoolError(
                        .notFound,
                        """
                        envelope \(id.hex.prefix(16))… has no queue entry\(peer.map { " for \($0)" } ?? ""); \
                        see `lienthong queue list`
                        """
                    )
                }
                rows += found
            }
        }
        return try rows.map { (try EnvelopeID(bytes: Array($0["envelope_id"] as Data)), $0["peer"]) }
    }

    // MARK: - Janitor

    /// Removes entries whose envelope has expired and returns them, so the node can send an
    /// "undeliverable" notice to each origin. Also drops expired partial envelopes.
    public func expire(now: Int64) throws -> [UndeliverableEvent] {
        try write { db in try expireInTransaction(db, now: now) }
    }

    func expireInTransaction(_ db: Database, now: Int64) throws -> [UndeliverableEvent] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT q.envelope_id, q.peer, q.recipients, q.expires_at, e.origin, e.kind FROM queue_entry q
                JOIN envelope e ON e.id = q.envelope_id WHERE q.expires_at <= ? ORDER BY q.id
                """, arguments: [now])
        var events: [UndeliverableEvent] = []
        for row in rows {
            let id = try EnvelopeID(bytes: Array(row["envelope_id"] as Data))
            let peer: String = row["peer"]
            let recipients = try (row["recipients"] as String).split(separator: ",").map { try NodeID(String($0)) }
            try db.execute(
                sql: "DELETE FROM queue_entry WHERE envelope_id = ? AND peer = ?", arguments: [Data(id.bytes), peer])
            try AuditLog.append(
                db, at: now, event: .expired, envelope: id, peer: peer, actor: "node",
                detail: "undelivered to \(recipients.count) recipient(s)")
            events.append(
                UndeliverableEvent(
                    envelopeID: id, origin: try NodeID(row["origin"]),
                    kind: EnvelopeKind(rawValue: UInt8(row["kind"] as Int)) ?? .document,
                    peer: try NodeID(peer), recipients: recipients, expiresAt: row["expires_at"]))
            try dropBodyIfUnused(db, id)
        }
        try db.execute(sql: "DELETE FROM envelope WHERE complete = 0 AND expires_at <= ?", arguments: [now])
        return events
    }

    /// Forgets seen-set entries whose envelopes expired more than `grace` ms ago. Until then a
    /// late duplicate is still recognised (and after expiry it would be refused as expired anyway).
    @discardableResult
    public func pruneSeen(now: Int64, grace: Int64 = 86_400_000) throws -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM seen WHERE expires_at < ?", arguments: [now - grace])
            return db.changesCount
        }
    }

    // MARK: - Listing

    /// Queue entries for operators, oldest first, filtered.
    public func queueEntries(
        peer: NodeID? = nil, state: QueueState? = nil, urgency: Urgency? = nil, envelope: EnvelopeID? = nil
    ) throws -> [QueueEntry] {
        // The whole queue (an operator's listing) reads with the bulk page cache; a filtered one
        // (a peer's entries, checked by a link's watchdog) with the usual one.
        let whole = peer == nil && state == nil && envelope == nil
        return try (whole ? bulkRead : read) { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let peer {
                conditions.append("q.peer = ?")
                arguments.append(peer.rawValue)
            }
            if let state {
                conditions.append("q.state = ?")
                arguments.append(state.rawValue)
            }
            if let urgency {
                conditions.append("e.urgency = ?")
                arguments.append(Int(urgency.rawValue))
            }
            if let envelope {
                conditions.append("q.envelope_id = ?")
                arguments.append(Data(envelope.bytes))
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            // The whole queue: read the table straight through (SQLite otherwise walked an index
            // and looked every row up again, twice the time for 100,000), then sort.
            let select = whole ? Self.entryScan : Self.entrySelect
            let cursor = try Row.fetchCursor(
                db, sql: select + whereClause + " ORDER BY q.enqueued_at, q.id",
                arguments: StatementArguments(arguments))
            var out: [QueueEntry] = []
            while let row = try cursor.next() { out.append(try Self.entry(row)) }
            return out
        }
    }

    /// Envelope ids in the spool whose hex form starts with `prefix` (operators type short ids).
    public func envelopeIDs(matchingPrefix prefix: String) throws -> [EnvelopeID] {
        let p = prefix.lowercased()
        guard p.count >= 4, p.allSatisfy(\.isHexDigit) else {
            throw SpoolError(.invalidArgument, "'\(prefix)' is not an envelope id or a prefix of at least 4 hex digits")
        }
        return try read { db in
            try Data.fetchAll(
                db, sql: "SELECT id FROM envelope WHERE hex(id) LIKE ? ORDER BY id", arguments: [p.uppercased() + "%"]
            )
            .map { try EnvelopeID(bytes: Array($0)) }
        }
    }

    static let entryColumns = """
        SELECT q.envelope_id, q.peer, q.recipients, q.state, q.enqueued_at, q.attempts, q.next_attempt_at, q.last_error,
               q.expires_at, e.urgency, e.origin, e.body_size

        """
    static let entrySelect = entryColumns + "FROM queue_entry q JOIN envelope e ON e.id = q.envelope_id\n"
    /// The whole queue read straight through (`queueEntries` without a filter on the entries).
    static let entryScan =
        entryColumns + "FROM queue_entry q NOT INDEXED CROSS JOIN envelope e ON e.id = q.envelope_id\n"

    /// A queue entry from a row whose first columns are `entrySelect`'s, read by position: looking
    /// columns up by name lowercases each name, a sizeable part of a 100,000-entry listing.
    static func entry(_ row: Row) throws -> QueueEntry {
        guard let state = QueueState(rawValue: row[3]),
            let urgency = Urgency(rawValue: UInt8(row[9] as Int))
        else {
            throw SpoolError(.corrupt, "a queue entry has an unknown state or urgency")
        }
        let recipients: String = row[2]
        return QueueEntry(
            envelopeID: try EnvelopeID(bytes: Array(row[0] as Data)), peer: try NodeID(row[1]),
            state: state, urgency: urgency, origin: try NodeID(row[10]),
            recipients: try recipients.split(separator: ",").map { try NodeID(String($0)) },
            bodySize: UInt64(row[11] as Int64), enqueuedAt: row[4], attempts: row[5],
            nextAttemptAt: row[6], lastError: row[7], expiresAt: row[8])
    }
}
