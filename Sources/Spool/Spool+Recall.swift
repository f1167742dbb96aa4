import Envelope
import Foundation
import GRDB

/// Recall (Decree 30/2020 Phụ lục VI): the origin sends 13 to its recipients; each recipient's
/// clerk answers 15 (agree: the content is destroyed, the metadata and the record kept) or 16.
/// The recall is kept beside the processing status (`recall` columns), never in it.
extension Spool {
    /// How long a recall that overtook its document waits for it (the notice's own lifetime).
    static let pendingRecallLifetime: Int64 = 30 * 86_400_000

    /// The origin recalls a document it sent: every recipient without a recall yet is marked 13,
    /// and the recall notices (`receipts`) are accepted in the same commit. Returns how many
    /// recipients it reached.
    public func recallSent(
        _ id: EnvelopeID, to recipients: [NodeID], receipts: [IncomingEnvelope], reason: String,
        actor: String, now: Int64
    ) throws -> Int {
        try verifyWhole(receipts)
        return try write { db in
            var changed = 0
            for recipient in recipients {
                try db.execute(
                    sql: """
                        UPDATE receipt SET recall = '13', recall_reason = ?, updated_at = ?
                        WHERE envelope_id = ? AND recipient = ? AND recall IS NULL
                        """, arguments: [reason, now, Data(id.bytes), recipient.rawValue])
                guard db.changesCount > 0 else { continue }
                changed += 1
                try AuditLog.append(
                    db, at: now, event: .recall, envelope: id, peer: recipient.rawValue, actor: actor,
                    detail: "13 " + reason)
            }
            if changed > 0 { _ = try acceptVerified(db, receipts, now: now) }
            return changed
        }
    }

    /// At the origin: a recipient's answer to a recall (15, 16), or to a revocation package.
    func applyRecallAnswer(_ db: Database, _ u: ReceiptUpdate) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE receipt SET recall = ?, recall_reason = ?, updated_at = ?
                WHERE envelope_id = ? AND recipient = ? AND (recall IS NULL OR recall = '13')
                """, arguments: [u.status.rawValue, u.reason, u.at, Data(u.envelopeID.bytes), u.recipient.rawValue])
        guard db.changesCount > 0 else { return false }
        try AuditLog.append(
            db, at: u.at, event: .receipt, envelope: u.envelopeID, peer: u.recipient.rawValue,
            actor: u.recipient.rawValue, detail: u.status.rawValue + (u.reason.map { " " + $0 } ?? ""))
        return true
    }

    /// A recall reached this node's copy (a 13 from its origin, or a revocation package from the
    /// same origin): the inbox entry is marked 13 unless it has a recall already. A recall of a
    /// duplicate lands on the entry it repeats; one that overtook its document waits for it.
    @discardableResult
    func requestRecall(
        _ db: Database, _ id: EnvelopeID, origin: NodeID, reason: String?, actor: String,
        at: Int64
    ) throws -> Bool {
        let target =
            try Data.fetchOne(
                db, sql: "SELECT duplicate_of FROM document WHERE envelope_id = ?",
                arguments: [Data(id.bytes)]
            ).map { try EnvelopeID(bytes: Array($0)) } ?? id
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT origin, recall FROM inbox WHERE envelope_id = ?",
                arguments: [Data(target.bytes)])
        else {
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO pending_recall (envelope_id, origin, reason, at) VALUES (?, ?, ?, ?)
                    """,
                arguments: [Data(id.bytes), origin.rawValue, reason, at])
            return false
        }
        guard row["origin"] == origin.rawValue, (row["recall"] as String?) == nil else { return false }
        try db.execute(
            sql: "UPDATE inbox SET recall = '13', recall_reason = ? WHERE envelope_id = ?",
            arguments: [reason, Data(target.bytes)])
        try AuditLog.append(
            db, at: at, event: .recall, envelope: target, peer: origin.rawValue, actor: actor,
            detail: "13" + (reason.map { " " + $0 } ?? ""))
        return true
    }

    /// A document just settled: a recall that arrived before it applies now.
    func applyPendingRecall(_ db: Database, _ id: EnvelopeID, now: Int64) throws {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT origin, reason FROM pending_recall WHERE envelope_id = ?",
                arguments: [Data(id.bytes)])
        else { return }
        try db.execute(sql: "DELETE FROM pending_recall WHERE envelope_id = ?", arguments: [Data(id.bytes)])
        try requestRecall(
            db, id, origin: try NodeID(row["origin"]), reason: row["reason"],
            actor: row["origin"], at: now)
    }

    /// The clerk answers a recall: 15 (agree) or 16 (refuse), only after 13, with the receipt to
    /// the origin in the same commit. On 15 the content is destroyed now, or as soon as no queue
    /// entry still needs it for other recipients (`destroyRecalledContent`); `metadata` (the
    /// document's metadata JSON) and `identity` are kept. After 16 the handling goes on.
    public func answerRecall(
        _ id: EnvelopeID, accept: Bool, reason: String?, identity: DocumentIdentity,
        metadata: [UInt8], actor: String, now: Int64, receipt: IncomingEnvelope
    ) throws {
        try verifyWhole([receipt])
        let answer: ReceiptStatus = accept ? .recallAccepted : .recallRefused
        try write { db in
            let key = Data(id.bytes)
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT recall FROM inbox WHERE envelope_id = ?",
                    arguments: [key])
            else {
                throw SpoolError(.notFound, "envelope \(id.hex.prefix(16))… is not in this node's inbox")
            }
            let recall: String? = row["recall"]
            guard recall == ReceiptStatus.recalled.rawValue else {
                let state = recall.map { "already answered \($0)" } ?? "no recall"
                throw SpoolError(
                    .invalidState,
                    "the document has \(state): a recall is answered (15 or 16) once, "
                        + "after its sender recalled it")
            }
            try db.execute(
                sql: "UPDATE inbox SET recall = ?, recall_reason = ? WHERE envelope_id = ?",
                arguments: [answer.rawValue, reason, key])
            try AuditLog.append(
                db, at: now, event: .status, envelope: id, actor: actor,
                detail: answer.rawValue + (reason.map { " " + $0 } ?? ""))
            _ = try acceptVerified(db, [receipt], now: now)
            guard accept else { return }
            try Self.recordDocument(db, id, .received, identity, now: now)
            try db.execute(
                sql: "UPDATE document SET metadata = ? WHERE envelope_id = ?",
                arguments: [Data(metadata), key])
            try destroyContentIfUnused(db, id, now: now)
        }
    }

    /// Destroys the content of recalled documents whose last onward queue entry has left, and
    /// forgets recalls whose document never came.
    @discardableResult
    public func destroyRecalledContent(now: Int64) throws -> Int {
        let waiting = try read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM document WHERE metadata IS NOT NULL AND content_destroyed_at IS NULL)
                      OR EXISTS (SELECT 1 FROM pending_recall WHERE at < ?)
                    """, arguments: [now - Self.pendingRecallLifetime]) ?? false
        }
        guard waiting else { return 0 }  // the usual case: no write transaction every sweep
        return try write { db in
            try db.execute(
                sql: "DELETE FROM pending_recall WHERE at < ?",
                arguments: [now - Self.pendingRecallLifetime])
            let ids = try Data.fetchAll(
                db,
                sql: """
                    SELECT envelope_id FROM document d WHERE metadata IS NOT NULL AND content_destroyed_at IS NULL
                    AND NOT EXISTS (SELECT 1 FROM queue_entry q WHERE q.envelope_id = d.envelope_id) LIMIT 100
                    """)
            var destroyed = 0
            for key in ids where try destroyContentIfUnused(db, try EnvelopeID(bytes: Array(key)), now: now) {
                destroyed += 1
            }
            return destroyed
        }
    }

    /// Deletes a recalled document's body unless a queue entry still carries it to other recipients.
    @discardableResult
    private func destroyContentIfUnused(_ db: Database, _ id: EnvelopeID, now: Int64) throws -> Bool {
        let key = Data(id.bytes)
        guard
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM queue_entry WHERE envelope_id = ?)",
                arguments: [key]) == false
        else { return false }
        let chunks =
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM chunk WHERE envelope_id = ?",
                arguments: [key]) ?? 0
        try db.execute(sql: "DELETE FROM chunk WHERE envelope_id = ?", arguments: [key])
        try db.execute(sql: "UPDATE envelope SET chunks_stored = 0 WHERE id = ?", arguments: [key])
        try db.execute(
            sql: "UPDATE document SET content_destroyed_at = ? WHERE envelope_id = ?", arguments: [now, key])
        try AuditLog.append(
            db, at: now, event: .destroyed, envelope: id, actor: "node",
            detail: "content destroyed after 15 (\(chunks) chunk(s)); metadata kept")
        return true
    }
}
