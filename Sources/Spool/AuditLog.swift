import Envelope
import Foundation
import GRDB
import SodiumKit

/// What happened, as written to the audit log.
public enum AuditEvent: String, Sendable, CaseIterable, Codable {
    case accepted, delivered, forwarded, acked, deferred, expired, held, released, retried, deleted, quarantined
    /// A clerk changed an inbox document's business status.
    case status
    /// A receipt moved a sent document's status for one recipient.
    case receipt
    /// A delivered document was the same as one already in the inbox: recorded, not delivered again.
    case duplicate
    /// A sent document was recalled (13), or a recall reached this node's copy.
    case recall
    /// A recalled document's content (body and attachments) was destroyed; its metadata is kept.
    case destroyed
    /// A partial envelope from a peer made no progress for too long and was dropped.
    case dropped
    /// An account of the desk was added, removed, given a password or a token, or signed in.
    case account
    /// A document was submitted for sending by an account of the desk or the API.
    case submitted
    /// The node was restored from a backup (`lienthong restore`).
    case restored
    /// An old document's content was archived to `archiveDir` and removed from the spool.
    case archived
    /// A signed topology update was applied or refused; queue entries moved to their new next hop.
    case topology
}

/// One audit log row.
public struct AuditRecord: Sendable, Equatable, Codable {
    public let seq: Int64
    public let at: Int64
    public let event: AuditEvent
    public let envelopeID: EnvelopeID?
    public let peer: String?
    /// Who: `node`, a peer id, or `operator:<name>`.
    public let actor: String
    public let detail: String?

    public init(
        seq: Int64, at: Int64, event: AuditEvent, envelopeID: EnvelopeID?, peer: String?, actor: String, detail: String?
    ) {
        self.seq = seq
        self.at = at
        self.event = event
        self.envelopeID = envelopeID
        self.peer = peer
        self.actor = actor
        self.detail = detail
    }
}

/// The outcome of `Spool.verifyAudit()`.
public struct AuditVerification: Sendable, Equatable, Codable {
    public let ok: Bool
    public let records: Int64
    /// The first sequence number at which the chain breaks.
    public let brokenAt: Int64?
    public let problem: String?
}

/// The append-only, hash-chained audit log.
///
/// Each row's hash is BLAKE2b-256 over the previous row's hash and the row's canonical encoding
/// (docs/SPOOL.md §Audit). The head (last seq and hash) is kept in `audit_head`, in the same
/// transaction, so an edited, inserted, deleted or truncated row breaks verification.
enum AuditLog {
    static let genesis = [UInt8](repeating: 0, count: 32)

    /// Appends one event inside the caller's transaction.
    static func append(
        _ db: Database, at: Int64, event: AuditEvent, envelope: EnvelopeID? = nil, peer: String? = nil,
        actor: String, detail: String? = nil
    ) throws {
        // Cached statements: this runs once per event, inside hot custody transactions.
        let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit_head WHERE one = 1"))
        let seq: Int64 = (head?["seq"] ?? 0) + 1
        let prev: [UInt8] = head.map { Array(($0["hash"] as Data?) ?? Data()) } ?? genesis
        let hash = digest(
            prev: prev, seq: seq, at: at, event: event.rawValue, envelope: envelope?.bytes, peer: peer, actor: actor,
            detail: detail)
        try db.cachedStatement(
            sql: """
                INSERT INTO audit (seq, at, event, envelope_id, peer, actor, detail, prev_hash, hash) VALUES (?, ?, \
                ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            seq, at, event.rawValue, envelope.map { Data($0.bytes) }, peer, actor, detail, Data(prev), Data(hash),
        ])
        try db.cachedStatement(
            sql:
                """
                INSERT INTO audit_head (one, seq, hash) VALUES (1, ?, ?) ON CONFLICT(one) DO UPDATE SET seq = \
                excluded.seq, hash = excluded.hash
                """
        )
        .execute(arguments: [seq, Data(hash)])
    }

    static func digest(
        prev: [UInt8], seq: Int64, at: Int64, event: String, envelope: [UInt8]?, peer: String?, actor: String,
        detail: String?
    ) -> [UInt8] {
        var bytes = prev
        func u64(_ v: UInt64) {
            for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((v >> UInt64(s)) & 0xff)) }
        }
        func field(_ b: [UInt8]?) {
            guard let b else {
                bytes.append(0)
                return
            }
            bytes.append(1)
            u64(UInt64(b.count))
            bytes.append(contentsOf: b)
        }
        u64(UInt64(bitPattern: seq))
        u64(UInt64(bitPattern: at))
        field(Array(event.utf8))
        field(envelope)
        field(peer.map { Array($0.utf8) })
        field(Array(actor.utf8))
        field(detail.map { Array($0.utf8) })
        return Blake2b.hash(bytes)
    }

    static func verify(_ db: Database) throws -> AuditVerification {
        var expected: Int64 = 1
        var prev = genesis
        let cursor = try Row.fetchCursor(
            db, sql: "SELECT seq, at, event, envelope_id, peer, actor, detail, prev_hash, hash FROM audit ORDER BY seq")
        while let row = try cursor.next() {
            let seq: Int64 = row["seq"]
            guard seq == expected else {
                return AuditVerification(
                    ok: false, records: expected - 1, brokenAt: expected,
                    problem: "row \(expected) is missing (next row is \(seq))")
            }
            let rowPrev = Array((row["prev_hash"] as Data?) ?? Data())
            let rowHash = Array((row["hash"] as Data?) ?? Data())
            guard rowPrev == prev else {
                return AuditVerification(
                    ok: false, records: seq - 1, brokenAt: seq,
                    problem: "row \(seq) does not follow row \(seq - 1) (previous hash differs)")
            }
            let computed = digest(
                prev: prev, seq: seq, at: row["at"], event: row["event"],
                envelope: (row["envelope_id"] as Data?).map { Array($0) },
                peer: row["peer"], actor: row["actor"], detail: row["detail"])
            guard computed == rowHash else {
                return AuditVerification(
                    ok: false, records: seq - 1, brokenAt: seq,
                    problem: "row \(seq) was altered (its hash does not match its contents)")
            }
            prev = computed
            expected += 1
        }
        let count = expected - 1
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE one = 1")
        let headSeq: Int64 = head?["seq"] ?? 0
        let headHash = head.map { Array(($0["hash"] as Data?) ?? Data()) } ?? genesis
        guard headSeq == count, headHash == prev else {
            return AuditVerification(
                ok: false, records: count, brokenAt: count + 1,
                problem:
                    """
                    the log ends at row \(count) but its recorded head is row \(headSeq): rows were removed \
                    from the end
                    """
            )
        }
        return AuditVerification(ok: true, records: count, brokenAt: nil, problem: nil)
    }

    static func record(_ row: Row) throws -> AuditRecord {
        guard let event = AuditEvent(rawValue: row["event"]) else {
            throw SpoolError(
                .corrupt, "audit row \(row["seq"] as Int64) has an unknown event '\(row["event"] as String)'")
        }
        return AuditRecord(
            seq: row["seq"], at: row["at"], event: event,
            envelopeID: try (row["envelope_id"] as Data?).map { try EnvelopeID(bytes: Array($0)) },
            peer: row["peer"], actor: row["actor"], detail: row["detail"])
    }
}

extension Spool {
    /// Checks the audit chain end to end.
    public func verifyAudit() throws -> AuditVerification {
        try read { try AuditLog.verify($0) }
    }

    /// Audit rows, newest last; optionally only one envelope's, at most `limit` (the newest).
    public func auditRecords(envelope: EnvelopeID? = nil, limit: Int = 1000) throws -> [AuditRecord] {
        try read { db in
            let rows: [Row]
            if let envelope {
                rows = try Row.fetchAll(
                    db,
                    sql:
                        """
                        SELECT * FROM (SELECT * FROM audit WHERE envelope_id = ? ORDER BY seq DESC LIMIT ?) \
                        ORDER BY seq
                        """,
                    arguments: [Data(envelope.bytes), limit])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM (SELECT * FROM audit ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                    arguments: [limit])
            }
            return try rows.map(AuditLog.record)
        }
    }
}
