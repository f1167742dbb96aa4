import Envelope
import Foundation
import GRDB

/// A delivered envelope the node has not acted on yet (see `settle`).
public struct UnsettledDelivery: Sendable, Equatable {
    public let envelopeID: EnvelopeID
    public let kind: EnvelopeKind
    public let origin: NodeID
    public init(envelopeID: EnvelopeID, kind: EnvelopeKind, origin: NodeID) {
        self.envelopeID = envelopeID
        self.kind = kind
        self.origin = origin
    }
}

/// Totals for `lienthong status`.
public struct SpoolStatistics: Sendable, Equatable, Codable {
    public var entriesByState: [String: Int]
    public var oldestEnqueuedAt: Int64?
    public var inboxDocuments: Int
    public var envelopes: Int
    public var sentDocuments: Int
}

/// What waits for one peer, for `lienthong peers`.
public struct PeerBacklog: Sendable, Equatable, Codable {
    public var entries: Int
    public var bytes: UInt64
    public init(entries: Int, bytes: UInt64) {
        self.entries = entries
        self.bytes = bytes
    }
}

/// One document this node sent, for `track` without an id: its counts and, when the spool
/// recorded its edXML identity, trích yếu and số/ký hiệu.
public struct SentSummary: Sendable, Equatable {
    public var id: EnvelopeID
    public var sentAt: Int64
    public var recipients: Int
    public var arrived: Int
    /// Whether the spool holds a document record (its fields below may still be empty).
    public var recorded: Bool
    public var subject: String?
    public var codeNumber: String?
    public var codeNotation: String?
}

extension Spool {
    // MARK: - Settling deliveries

    /// Delivered envelopes the node has not yet acted on, oldest first.
    public func unsettledDeliveries(limit: Int) throws -> [UnsettledDelivery] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT i.envelope_id, i.origin, e.kind FROM inbox i JOIN envelope e ON e.id = i.envelope_id
                    WHERE i.settled = 0 ORDER BY i.received_at, i.envelope_id LIMIT ?
                    """, arguments: [limit]
            ).map { row in
                guard let kind = EnvelopeKind(rawValue: UInt8(row["kind"] as Int)) else {
                    throw SpoolError(.corrupt, "an inbox row has an unknown kind")
                }
                return UnsettledDelivery(
                    envelopeID: try EnvelopeID(bytes: Array(row["envelope_id"] as Data)), kind: kind,
                    origin: try NodeID(row["origin"]))
            }
        }
    }

    /// What acting on one delivery means for the spool.
    public enum Settlement: Sendable {
        /// A document arrived: send the 01 receipt with it, record its identity, and link a
        /// revocation, update or replacement to the received document it refers to (a
        /// revocation puts that one at 13, for the clerk to answer).
        case document(
            EnvelopeID, receipt: IncomingEnvelope?, identity: DocumentIdentity? = nil,
            linkTo: EnvelopeID? = nil)
        /// The same document as an earlier inbox entry: recorded as its duplicate, not delivered
        /// again; the receipt (with the earlier entry's status) goes to its origin.
        case duplicate(EnvelopeID, of: EnvelopeID, identity: DocumentIdentity, receipt: IncomingEnvelope?)
        /// A receipt or notice for a document this node sent: apply these statuses, then drop it
        /// from the inbox (it was for the node, not for a clerk).
        case tracking(EnvelopeID, updates: [ReceiptUpdate])
        /// Could not be acted on (e.g. a forged receipt): drop it, recording why.
        case discard(EnvelopeID, reason: String)
        /// A document this node refuses by policy (e.g. marked secret): status 02 with the reason,
        /// and the 02 receipt to its origin, in one commit.
        case refuse(EnvelopeID, reason: String, receipt: IncomingEnvelope?)
    }

    /// One per-recipient status change carried by a receipt or an undeliverable notice.
    public struct ReceiptUpdate: Sendable, Equatable {
        public let envelopeID: EnvelopeID
        public let recipient: NodeID
        public let status: ReceiptStatus
        public let reason: String?
        public let at: Int64
        public init(envelopeID: EnvelopeID, recipient: NodeID, status: ReceiptStatus, reason: String?, at: Int64) {
            self.envelopeID = envelopeID
            self.recipient = recipient
            self.status = status
            self.reason = reason
            self.at = at
        }
    }

    /// Acts on deliveries in one transaction: the receipts they cause are accepted (and routed)
    /// in the same commit that marks them settled, so a crash never loses or repeats one.
    public func settle(_ settlements: [Settlement], now: Int64) throws {
        let emitted = settlements.compactMap { s -> IncomingEnvelope? in
            switch s {
            case .document(_, let r, _, _), .refuse(_, _, let r), .duplicate(_, _, _, let r): r
            case .tracking, .discard: nil
            }
        }
        try verifyWhole(emitted)
        try write { db in
            _ = try acceptVerified(db, emitted, now: now)
            let mark = try db.cachedStatement(sql: "UPDATE inbox SET settled = 1 WHERE envelope_id = ?")
            for s in settlements {
                switch s {
                case .document(let id, _, let identity, let linkTo):
                    try mark.execute(arguments: [Data(id.bytes)])
                    if let identity {
                        try Self.recordDocument(db, id, .received, identity, linkedTo: linkTo, now: now)
                    }
                    if let linkTo, identity?.businessType == 1,
                        let origin = try String.fetchOne(
                            db, sql: "SELECT origin FROM inbox WHERE envelope_id = ?",
                            arguments: [Data(id.bytes)])
                    {
                        // A revocation recalls the earlier document only if the same origin sent both.
                        try requestRecall(
                            db, linkTo, origin: try NodeID(origin),
                            reason: "thu hồi bởi văn bản \(id.hex.prefix(16))",
                            actor: origin, at: now)
                    }
                    try applyPendingRecall(db, id, now: now)
                case .duplicate(let id, let earlier, let identity, _):
                    try Self.recordDocument(db, id, .received, identity, duplicateOf: earlier, now: now)
                    try db.cachedStatement(sql: "DELETE FROM inbox WHERE envelope_id = ?")
                        .execute(arguments: [Data(id.bytes)])
                    try AuditLog.append(
                        db, at: now, event: .duplicate, envelope: id, actor: "node",
                        detail: "duplicate of \(earlier.hex)"
                            + (identity.documentId.map { " " + $0 } ?? ""))
                    try dropBodyIfUnused(db, id)
                case .tracking(let id, let updates):
                    for u in updates { _ = try applyReceipt(db, u) }
                    try removeFromInbox(db, id, now: now, why: "applied")
                case .discard(let id, let reason):
                    try removeFromInbox(db, id, now: now, why: "discarded: " + reason)
                case .refuse(let id, let reason, _):
                    try db.execute(
                        sql:
                            "UPDATE inbox SET settled = 1, status = ?, status_at = ?, reason = ? WHERE envelope_id = ?",
                        arguments: [ReceiptStatus.rejected.rawValue, now, reason, Data(id.bytes)])
                    try AuditLog.append(
                        db, at: now, event: .status, envelope: id, actor: "node", detail: "02 " + reason)
                }
            }
        }
    }

    private func removeFromInbox(_ db: Database, _ id: EnvelopeID, now: Int64, why: String) throws {
        try db.cachedStatement(sql: "DELETE FROM inbox WHERE envelope_id = ?").execute(arguments: [Data(id.bytes)])
        try AuditLog.append(db, at: now, event: .status, envelope: id, actor: "node", detail: why)
        try dropBodyIfUnused(db, id)
    }

    /// Applies one receipt inside a transaction; unknown documents and backward moves change nothing.
    func applyReceipt(_ db: Database, _ u: ReceiptUpdate) throws -> Bool {
        // A recall travels the other way: from the document's origin to this recipient's inbox.
        switch u.status {
        case .recalled:
            return try requestRecall(
                db, u.envelopeID, origin: u.recipient, reason: u.reason,
                actor: u.recipient.rawValue, at: u.at)
        case .recallAccepted, .recallRefused:
            return try applyRecallAnswer(db, u)
        case .pending, .arrived, .rejected, .accepted, .assigned, .processing, .done, .undeliverable:
            break
        }
        let key = Data(u.envelopeID.bytes)
        guard
            let rank = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT rank FROM receipt WHERE envelope_id = ? AND recipient = ?"),
                arguments: [key, u.recipient.rawValue]),
            u.status.rank > rank
        else { return false }
        try db.cachedStatement(
            sql:
                """
                UPDATE receipt SET status = ?, rank = ?, reason = ?, updated_at = ? WHERE envelope_id = ? AND \
                recipient = ?
                """
        )
        .execute(arguments: [u.status.rawValue, u.status.rank, u.reason, u.at, key, u.recipient.rawValue])
        try AuditLog.append(
            db, at: u.at, event: .receipt, envelope: u.envelopeID, peer: u.recipient.rawValue,
            actor: u.recipient.rawValue,
            detail: u.status.rawValue + (u.reason.map { " " + $0 } ?? ""))
        return true
    }

    /// A clerk's status change on an inbox document, with the receipt that tells the origin,
    /// in one transaction. Returns false (and sends nothing) when the status would not move forward.
    @discardableResult
    public func setInboxStatus(
        _ id: EnvelopeID, _ status: ReceiptStatus, reason: String?, actor: String, now: Int64,
        receipt: IncomingEnvelope
    ) throws -> Bool {
        try verifyWhole([receipt])
        return try write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT status, recall FROM inbox WHERE envelope_id = ?",
                    arguments: [Data(id.bytes)]),
                let current = ReceiptStatus(rawValue: row["status"])
            else {
                throw SpoolError(.notFound, "envelope \(id.hex.prefix(16))… is not in this node's inbox")
            }
            guard (row["recall"] as String?) != ReceiptStatus.recallAccepted.rawValue else {
                throw SpoolError(
                    .invalidState,
                    "the document was recalled and its recall agreed to (15): "
                        + "it is no longer handled here")
            }
            guard status.rank > current.rank else { return false }
            try db.execute(
                sql: "UPDATE inbox SET status = ?, status_at = ?, reason = ? WHERE envelope_id = ?",
                arguments: [status.rawValue, now, reason, Data(id.bytes)])
            try AuditLog.append(
                db, at: now, event: .status, envelope: id, actor: actor,
                detail: status.rawValue + (reason.map { " " + $0 } ?? ""))
            _ = try acceptVerified(db, [receipt], now: now)
            return true
        }
    }

    /// The documents in the inbox for clerks (receipts and notices addressed to the node itself
    /// are settled and removed by the node).
    public func inboxDocuments(limit: Int = 1000) throws -> [InboxEntry] {
        try read { db in
            try Row.fetchAll(
                db, sql: Self.inboxSelect + " WHERE e.kind = ? ORDER BY i.received_at DESC, i.envelope_id LIMIT ?",
                arguments: [Int(EnvelopeKind.document.rawValue), limit]
            ).map(Self.inboxEntry)
        }
    }

    // MARK: - Expiry with notices

    /// `expire`, with the notices to the origins accepted in the same transaction: an envelope
    /// never leaves the queue without its undeliverable notice being queued.
    public func expire(
        now: Int64, notices: ([UndeliverableEvent]) throws -> [IncomingEnvelope]
    ) throws -> [UndeliverableEvent] {
        try write { db in
            let events = try expireInTransaction(db, now: now)
            let emitted = try notices(events)
            try verifyWhole(emitted)
            _ = try acceptVerified(db, emitted, now: now)
            return events
        }
    }

    // MARK: - Figures for operators

    /// How many envelopes are in the inbox (all kinds): a cheap count for progress polling.
    public func inboxCount() throws -> Int {
        try read { try Int.fetchOne($0, sql: "SELECT count(*) FROM inbox") ?? 0 }
    }

    public func statistics() throws -> SpoolStatistics {
        try read { db in
            var byState: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM queue_entry GROUP BY state") {
                byState[row["state"]] = row["n"]
            }
            return SpoolStatistics(
                entriesByState: byState,
                oldestEnqueuedAt: try Int64.fetchOne(db, sql: "SELECT min(enqueued_at) FROM queue_entry"),
                inboxDocuments: try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM inbox i JOIN envelope e ON e.id = i.envelope_id WHERE e.kind = ?",
                    arguments: [Int(EnvelopeKind.document.rawValue)]) ?? 0,
                envelopes: try Int.fetchOne(db, sql: "SELECT count(*) FROM envelope") ?? 0,
                sentDocuments: try Int.fetchOne(db, sql: "SELECT count(DISTINCT envelope_id) FROM receipt") ?? 0)
        }
    }

    /// Entries and body bytes waiting per peer (quarantined entries excluded: they never leave by themselves).
    public func backlog() throws -> [NodeID: PeerBacklog] {
        try read { db in
            var out: [NodeID: PeerBacklog] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT q.peer, count(*) AS n, sum(e.body_size) AS bytes FROM queue_entry q JOIN envelope e ON \
                    e.id = q.envelope_id
                    WHERE q.state != 'quarantined' GROUP BY q.peer
                    """)
            {
                out[try NodeID(row["peer"])] = PeerBacklog(entries: row["n"], bytes: UInt64(row["bytes"] as Int64))
            }
            return out
        }
    }

    /// Documents this node sent (tracked), newest first, with how many recipients each has, how
    /// many of them it reached (01 or beyond) and its recorded trích yếu and số/ký hiệu: one grouped
    /// query, read by position, however many there are (`track --limit 100000`).
    public func sentSummaries(limit: Int) throws -> [SentSummary] {
        try bulkRead { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT s.envelope_id, s.at, s.n, s.arrived, d.organ_id, d.subject, d.code_number, d.code_notation
                    FROM (SELECT r.envelope_id, coalesce(e.created_at, min(r.updated_at)) AS at, count(*) AS n,
                            sum(r.rank >= ?) AS arrived
                          FROM receipt r LEFT JOIN envelope e ON e.id = r.envelope_id
                          GROUP BY r.envelope_id ORDER BY at DESC LIMIT ?) s
                      LEFT JOIN document d ON d.envelope_id = s.envelope_id
                    ORDER BY s.at DESC
                    """,
                arguments: [ReceiptStatus.arrived.rank, limit])
            var out: [SentSummary] = []
            out.reserveCapacity(min(max(limit, 0), 100_000))
            while let row = try rows.next() {
                let recorded = (row[4] as String?) != nil
                out.append(
                    SentSummary(
                        id: try EnvelopeID(bytes: Array(row[0] as Data)), sentAt: row[1], recipients: row[2],
                        arrived: row[3], recorded: recorded, subject: recorded ? row[5] : nil,
                        codeNumber: row[6], codeNotation: row[7]))
            }
            return out
        }
    }

    /// Ids of sent (tracked) documents starting with `prefix`.
    public func trackedIDs(matchingPrefix prefix: String) throws -> [EnvelopeID] {
        let p = prefix.lowercased()
        guard p.count >= 4, p.allSatisfy(\.isHexDigit) else {
            throw SpoolError(.invalidArgument, "'\(prefix)' is not an envelope id or a prefix of at least 4 hex digits")
        }
        return try read { db in
            try Data.fetchAll(
                db, sql: "SELECT DISTINCT envelope_id FROM receipt WHERE hex(envelope_id) LIKE ? ORDER BY envelope_id",
                arguments: [p.uppercased() + "%"]
            ).map { try EnvelopeID(bytes: Array($0)) }
        }
    }
}

extension Spool {
    /// Failover: entries waiting for `from` (ready or deferred) are handed to `to`, which routes
    /// them on. Held and quarantined entries stay where the operator left them.
    @discardableResult
    public func retarget(from: NodeID, to: NodeID, now: Int64) throws -> Int {
        try write { db in
            let ids = try Data.fetchAll(
                db,
                sql:
                    "SELECT envelope_id FROM queue_entry WHERE peer = ? AND state IN ('ready', 'deferred') ORDER BY id",
                arguments: [from.rawValue])
            var moved = 0
            for key in ids {
                try db.execute(
                    sql:
                        """
                        UPDATE OR IGNORE queue_entry SET peer = ?, state = 'ready', next_attempt_at = ? WHERE \
                        envelope_id = ? AND peer = ?
                        """,
                    arguments: [to.rawValue, now, key, from.rawValue])
                guard db.changesCount > 0 else { continue }
                moved += 1
                try AuditLog.append(
                    db, at: now, event: .retried, envelope: try EnvelopeID(bytes: Array(key)), peer: to.rawValue,
                    actor: "node",
                    detail: "failover from \(from)")
            }
            return moved
        }
    }
}
