import Envelope
import Foundation
import GRDB

/// A document delivered to this node.
public struct InboxEntry: Sendable, Equatable, Codable {
    public let envelopeID: EnvelopeID
    public let origin: NodeID
    public let kind: EnvelopeKind
    public let urgency: Urgency
    public let receivedAt: Int64
    public let status: ReceiptStatus
    public let statusAt: Int64
    public let reason: String?
    public let payloadSize: UInt64
    /// A recall beside the status: 13 (asked by the origin), 15 (agreed), 16 (refused).
    public var recall: ReceiptStatus? = nil
    public var recallReason: String? = nil
}

/// One recipient's status for a document this node sent.
public struct RecipientStatus: Sendable, Equatable, Codable {
    public let recipient: NodeID
    public let status: ReceiptStatus
    public let reason: String?
    public let updatedAt: Int64
    /// A recall beside the status: 13 (sent by this node), 15 or 16 (the recipient's answer).
    public var recall: ReceiptStatus? = nil
    public var recallReason: String? = nil
}

extension Spool {
    /// Documents delivered here, newest first.
    public func inbox(limit: Int = 1000) throws -> [InboxEntry] {
        try read { db in
            try Row.fetchAll(
                db, sql: Self.inboxSelect + " ORDER BY i.received_at DESC, i.envelope_id LIMIT ?", arguments: [limit]
            ).map(Self.inboxEntry)
        }
    }

    /// The documents delivered here, newest first, each with its recorded edXML identity: one
    /// query, read by column position — `inbox list` of 100,000 spent more time looking rows and
    /// columns up than reading them (docs/BENCHMARKS.md).
    public func inboxListing(limit: Int) throws -> [(entry: InboxEntry, identity: DocumentIdentity?)] {
        try bulkRead { db in
            let rows = try Row.fetchCursor(
                db, sql: Self.inboxListingSQL, arguments: [Int(EnvelopeKind.document.rawValue), limit])
            var out: [(entry: InboxEntry, identity: DocumentIdentity?)] = []
            out.reserveCapacity(min(max(limit, 0), 100_000))
            while let row = try rows.next() {
                guard let status = ReceiptStatus(rawValue: row[3]),
                    let urgency = Urgency(rawValue: UInt8(row[6] as Int))
                else { throw SpoolError(.corrupt, "an inbox row has an unknown status or urgency") }
                var entry = InboxEntry(
                    envelopeID: try EnvelopeID(bytes: Array(row[0] as Data)), origin: try NodeID(row[1]),
                    kind: .document, urgency: urgency, receivedAt: row[2], status: status, statusAt: row[4],
                    reason: row[5], payloadSize: UInt64(row[7] as Int64))
                entry.recall = (row[8] as String?).flatMap(ReceiptStatus.init(rawValue:))
                entry.recallReason = row[9]
                let identity = (row[10] as String?).map { organ in
                    DocumentIdentity(
                        documentId: row[11], organId: organ, codeNumber: row[12], codeNotation: row[13],
                        promulgationDate: row[14], businessType: row[15], refersTo: row[16], subject: row[17])
                }
                out.append((entry, identity))
            }
            return out
        }
    }

    /// The listing's one query. CROSS JOIN keeps the inbox outermost, walked in
    /// `inbox_newest_first` order, so the rows come sorted and the limit stops the walk (SQLite
    /// otherwise scanned `envelope` and sorted); `SpoolInboxListingTests` checks the plan.
    static let inboxListingSQL = """
        SELECT i.envelope_id, i.origin, i.received_at, i.status, i.status_at, i.reason, e.urgency,
          e.payload_size, i.recall, i.recall_reason, d.organ_id, d.document_id, d.code_number,
          d.code_notation, d.promulgation_date, d.business_type, d.refers_to, d.subject
        FROM inbox i CROSS JOIN envelope e ON e.id = i.envelope_id
          LEFT JOIN document d ON d.envelope_id = i.envelope_id
        WHERE e.kind = ? ORDER BY i.received_at DESC, i.envelope_id LIMIT ?
        """

    public func inboxEntry(_ id: EnvelopeID) throws -> InboxEntry? {
        try read { db in
            try Row.fetchOne(db, sql: Self.inboxSelect + " WHERE i.envelope_id = ?", arguments: [Data(id.bytes)]).map(
                Self.inboxEntry)
        }
    }

    /// The clerk's business status for an inbox document; only moves forward. Returns whether it changed.
    @discardableResult
    public func setInboxStatus(
        _ id: EnvelopeID, _ status: ReceiptStatus, reason: String?, actor: String, now: Int64
    ) throws -> Bool {
        try write { db in
            guard
                let current = try String.fetchOne(
                    db, sql: "SELECT status FROM inbox WHERE envelope_id = ?", arguments: [Data(id.bytes)]
                )
                .flatMap(ReceiptStatus.init(rawValue:))
            else {
                throw SpoolError(.notFound, "envelope \(id.hex.prefix(16))… is not in this node's inbox")
            }
            guard status.rank > current.rank else { return false }
            try db.execute(
                sql: "UPDATE inbox SET status = ?, status_at = ?, reason = ? WHERE envelope_id = ?",
                arguments: [status.rawValue, now, reason, Data(id.bytes)])
            try AuditLog.append(
                db, at: now, event: .status, envelope: id, actor: actor,
                detail: status.rawValue + (reason.map { " " + $0 } ?? ""))
            return true
        }
    }

    /// Records a receipt for a document this node sent. Statuses only move forward: an older or
    /// repeated receipt changes nothing. Returns whether it changed the status.
    @discardableResult
    public func applyReceipt(
        _ id: EnvelopeID, recipient: NodeID, status: ReceiptStatus, reason: String?, at: Int64
    ) throws -> Bool {
        try write { db in
            let key = Data(id.bytes)
            guard
                let rank = try Int.fetchOne(
                    db, sql: "SELECT rank FROM receipt WHERE envelope_id = ? AND recipient = ?",
                    arguments: [key, recipient.rawValue])
            else {
                throw SpoolError(.notFound, "no document \(id.hex.prefix(16))… sent by this node to \(recipient)")
            }
            guard status.rank > rank else { return false }
            try db.execute(
                sql:
                    """
                    UPDATE receipt SET status = ?, rank = ?, reason = ?, updated_at = ? WHERE envelope_id = ? \
                    AND recipient = ?
                    """,
                arguments: [status.rawValue, status.rank, reason, at, key, recipient.rawValue])
            try AuditLog.append(
                db, at: at, event: .receipt, envelope: id, peer: recipient.rawValue, actor: recipient.rawValue,
                detail: status.rawValue + (reason.map { " " + $0 } ?? ""))
            return true
        }
    }

    /// Per-recipient status of a document this node sent.
    public func tracking(_ id: EnvelopeID) throws -> [RecipientStatus] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT recipient, status, reason, updated_at, recall, recall_reason FROM receipt
                    WHERE envelope_id = ? ORDER BY recipient
                    """, arguments: [Data(id.bytes)]
            ).map { row in
                guard let status = ReceiptStatus(rawValue: row["status"]) else {
                    throw SpoolError(.corrupt, "a receipt row has an unknown status")
                }
                var entry = RecipientStatus(
                    recipient: try NodeID(row["recipient"]), status: status,
                    reason: row["reason"],
                    updatedAt: row["updated_at"])
                entry.recall = (row["recall"] as String?).flatMap(ReceiptStatus.init(rawValue:))
                entry.recallReason = row["recall_reason"]
                return entry
            }
        }
    }

    static let inboxSelect = """
        SELECT i.envelope_id, i.origin, i.received_at, i.status, i.status_at, i.reason, e.kind, e.urgency,
          e.payload_size, i.recall, i.recall_reason
        FROM inbox i JOIN envelope e ON e.id = i.envelope_id
        """

    static func inboxEntry(_ row: Row) throws -> InboxEntry {
        guard let status = ReceiptStatus(rawValue: row["status"]),
            let kind = EnvelopeKind(rawValue: UInt8(row["kind"] as Int)),
            let urgency = Urgency(rawValue: UInt8(row["urgency"] as Int))
        else {
            throw SpoolError(.corrupt, "an inbox row has an unknown status, kind or urgency")
        }
        var entry = InboxEntry(
            envelopeID: try EnvelopeID(bytes: Array(row["envelope_id"] as Data)),
            origin: try NodeID(row["origin"]), kind: kind, urgency: urgency,
            receivedAt: row["received_at"], status: status, statusAt: row["status_at"],
            reason: row["reason"], payloadSize: UInt64(row["payload_size"] as Int64))
        entry.recall = (row["recall"] as String?).flatMap(ReceiptStatus.init(rawValue:))
        entry.recallReason = row["recall_reason"]
        return entry
    }
}
