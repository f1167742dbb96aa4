import Envelope
import Foundation
import GRDB

/// One queue entry whose next hop changed with the topology: where its recipients go now.
/// A queue entry as re-routing sees it.
public struct RoutedEntry: Sendable, Equatable {
    public let envelopeID: EnvelopeID
    public let peer: NodeID
    public let recipients: [NodeID]
    /// Documents follow merges to a retired unit's successor; receipts and notices do not.
    public let isDocument: Bool

    public init(envelopeID: EnvelopeID, peer: NodeID, recipients: [NodeID], isDocument: Bool = true) {
        self.envelopeID = envelopeID
        self.peer = peer
        self.recipients = recipients
        self.isDocument = isDocument
    }
}

public struct QueueReroute: Sendable, Equatable {
    public let envelopeID: EnvelopeID
    public let fromPeer: NodeID
    /// New next hop → the entry's recipients behind it (the old peer may be among them).
    public let to: [NodeID: [NodeID]]
    /// Recipients the new topology no longer has.
    public let dropped: [NodeID]
    /// Some recipients are retired units merged into this node: it goes into this node's inbox.
    public let deliverHere: Bool

    public init(
        envelopeID: EnvelopeID, fromPeer: NodeID, to: [NodeID: [NodeID]], dropped: [NodeID], deliverHere: Bool = false
    ) {
        self.envelopeID = envelopeID
        self.fromPeer = fromPeer
        self.to = to
        self.dropped = dropped
        self.deliverHere = deliverHere
    }
}

/// The topology's named transactions: moving queue entries to their new next hops in one
/// transaction when a topology update is applied (custody stays with this node throughout), and
/// recording updates in the audit log.
extension Spool {
    /// Every queue entry with its peer and recipients (the input of a re-routing plan).
    public func routedEntries() throws -> [RoutedEntry] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT q.envelope_id, q.peer, q.recipients, e.kind FROM queue_entry q \
                    JOIN envelope e ON e.id = q.envelope_id ORDER BY q.id
                    """
            ).map { row in
                let recipients = (row["recipients"] as String).split(separator: ",").compactMap {
                    try? NodeID(String($0))
                }
                return RoutedEntry(
                    envelopeID: try EnvelopeID(bytes: Array(row["envelope_id"] as Data)),
                    peer: try NodeID(row["peer"] as String), recipients: recipients,
                    isDocument: (row["kind"] as Int) == Int(EnvelopeKind.document.rawValue))
            }
        }
    }

    /// Applies `plan` in one transaction: each entry is replaced by entries for its new next hops
    /// (merged into an entry the envelope already has for that peer), ready to send, keeping its
    /// urgency, age and expiry; an in-flight one starts again on its new link. Returns how many
    /// entries moved; held and quarantined entries move too and keep their state.
    @discardableResult
    public func reroute(_ plan: [QueueReroute], detail: String, now: Int64) throws -> Int {
        guard !plan.isEmpty else { return 0 }
        return try write { db in
            var moved = 0
            for item in plan {
                let key = Data(item.envelopeID.bytes)
                guard
                    let row = try Row.fetchOne(
                        db, sql: "SELECT * FROM queue_entry WHERE envelope_id = ? AND peer = ?",
                        arguments: [key, item.fromPeer.rawValue])
                else { continue }
                try db.execute(
                    sql: "DELETE FROM queue_entry WHERE envelope_id = ? AND peer = ?",
                    arguments: [key, item.fromPeer.rawValue])
                let state: String = row["state"]
                let kept = ["held", "quarantined"].contains(state) ? state : "ready"
                for (peer, recipients) in item.to.sorted(by: { $0.key < $1.key }) {
                    let existing = try String.fetchOne(
                        db, sql: "SELECT recipients FROM queue_entry WHERE envelope_id = ? AND peer = ?",
                        arguments: [key, peer.rawValue])
                    let merged = Set(
                        recipients.map(\.rawValue) + (existing?.split(separator: ",").map(String.init) ?? []))
                    if existing != nil {
                        try db.execute(
                            sql: "UPDATE queue_entry SET recipients = ? WHERE envelope_id = ? AND peer = ?",
                            arguments: [merged.sorted().joined(separator: ","), key, peer.rawValue])
                    } else {
                        try db.execute(
                            sql: """
                                INSERT INTO queue_entry (envelope_id, peer, recipients, state, held_state, priority, \
                                enqueued_at, attempts, next_attempt_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, \
                                ?, ?)
                                """,
                            arguments: [
                                key, peer.rawValue, merged.sorted().joined(separator: ","), kept,
                                row["held_state"] as String?, row["priority"] as Int64, row["enqueued_at"] as Int64,
                                now,
                                row["expires_at"] as Int64,
                            ])
                    }
                }
                if item.deliverHere {
                    // Its successor's inbox, once (a second entry of the same envelope finds it there).
                    let origin = try String.fetchOne(
                        db, sql: "SELECT origin FROM envelope WHERE id = ?", arguments: [key])
                    if let origin,
                        try Bool.fetchOne(
                            db, sql: "SELECT EXISTS (SELECT 1 FROM inbox WHERE envelope_id = ?)", arguments: [key])
                            == false
                    {
                        try db.execute(
                            sql: """
                                INSERT INTO inbox (envelope_id, origin, received_at, status, status_at) \
                                VALUES (?, ?, ?, ?, ?)
                                """,
                            arguments: [key, origin, now, ReceiptStatus.arrived.rawValue, now])
                        try AuditLog.append(
                            db, at: now, event: .delivered, envelope: item.envelopeID, actor: "node",
                            detail: "inbox, as the successor of a unit merged into this node (\(detail))")
                    }
                }
                moved += 1
                let targets = (item.to.keys.sorted().map(\.rawValue) + (item.deliverHere ? ["inbox"] : []))
                    .joined(separator: ",")
                try AuditLog.append(
                    db, at: now, event: .topology, envelope: item.envelopeID, peer: item.fromPeer.rawValue,
                    actor: "node",
                    detail: "moved to \(targets.isEmpty ? "-" : targets)"
                        + (item.dropped.isEmpty
                            ? ""
                            : "; no longer in the topology: "
                                + item.dropped.map(\.rawValue).joined(separator: ","))
                        + " (\(detail))")
            }
            try dropBodyIfUnusedAfterReroute(db, plan)
            return moved
        }
    }

    /// An envelope none of whose entries survived (every recipient gone) is dropped like a
    /// delivered one; its seen-set entry stays.
    private func dropBodyIfUnusedAfterReroute(_ db: Database, _ plan: [QueueReroute]) throws {
        for item in plan where item.to.isEmpty && !item.deliverHere { try dropBodyIfUnused(db, item.envelopeID) }
    }

    /// A neighbour offering an envelope this node has seen, which it must take into custody again
    /// because routes changed: the neighbour got it from here (acknowledged) and its new route goes
    /// back through here, or — `custody` being where it would go from here now — it would go to a
    /// next hop this node has neither handed it to nor holds it for, or into an inbox here it never
    /// reached (a retired district's copy for its offline commune, moved up to the province after
    /// the province had passed the same broadcast on to the other district). A "duplicate" would
    /// make the neighbour drop the recipients it carried. Then the seen-set entry is dropped so the
    /// envelope is taken into custody again — merged into the entries (and inbox row) this node may
    /// still have for it, the body kept if it is still here. Any other seen envelope, a resend
    /// after a lost ACK among them, stays a duplicate, so a re-admission never runs on down a
    /// subtree that already has it.
    static func admitBounce(_ db: Database, _ key: Data, from: String, custody: Custody?, now: Int64) throws -> Bool {
        guard (try? NodeID(from)) != nil else { return false }
        let handedBack =
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM audit WHERE envelope_id = ?1 AND event = 'acked' AND peer = ?2)
                    """, arguments: [key, from]) ?? false
        var newHops: [String] = []
        var newHere = false
        if !handedBack, let custody {
            // Handed on, taken out of the queue by an operator, or still queued: nothing new there.
            let done = Set(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT peer FROM audit WHERE envelope_id = ?1 AND event IN ('acked', 'deleted')
                          AND peer IS NOT NULL
                        UNION SELECT peer FROM queue_entry WHERE envelope_id = ?1
                        """, arguments: [key]))
            newHops = custody.nextHops.keys.map(\.rawValue).filter { !done.contains($0) }.sorted()
            newHere =
                try custody.deliverLocally
                && Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM audit WHERE envelope_id = ? AND event = 'delivered')",
                    arguments: [key]) == false
        }
        guard handedBack || !newHops.isEmpty || newHere else { return false }
        try db.execute(sql: "DELETE FROM seen WHERE id = ?", arguments: [key])
        let detail =
            handedBack
            ? "taken back from \(from), which re-routed it after a topology change"
            : "taken again from \(from) after a route change: now also for "
                + (newHops + (newHere ? ["inbox"] : [])).joined(separator: ",")
        try AuditLog.append(
            db, at: now, event: .topology, envelope: try EnvelopeID(bytes: Array(key)), peer: from, actor: from,
            detail: detail)
        return true
    }

    /// After a merge, the documents this node sent to a retired unit and to its successor alike:
    /// the successor opened the one envelope both were named in, so the retired unit's status
    /// follows its successor's (forward only; audited). Returns the rows changed.
    @discardableResult
    public func followSuccessors(_ merges: [(retired: NodeID, successor: NodeID)], now: Int64) throws -> Int {
        guard !merges.isEmpty else { return 0 }
        return try write { db in
            var changed = 0
            for (retired, successor) in merges {
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT r.envelope_id, s.status, s.rank FROM receipt r JOIN receipt s
                          ON s.envelope_id = r.envelope_id AND s.recipient = ?2
                        WHERE r.recipient = ?1 AND r.rank < s.rank
                        """, arguments: [retired.rawValue, successor.rawValue])
                for row in rows {
                    let key: Data = row["envelope_id"]
                    let status: String = row["status"]
                    let reason = "\(successor) nhận thay: \(retired) đã sáp nhập vào \(successor)"
                    try db.execute(
                        sql: """
                            UPDATE receipt SET status = ?, rank = ?, reason = ?, updated_at = ? \
                            WHERE envelope_id = ? AND recipient = ?
                            """,
                        arguments: [status, row["rank"] as Int, reason, now, key, retired.rawValue])
                    try AuditLog.append(
                        db, at: now, event: .receipt, envelope: try EnvelopeID(bytes: Array(key)),
                        peer: retired.rawValue, actor: successor.rawValue, detail: "\(status) \(reason)")
                    changed += 1
                }
            }
            return changed
        }
    }

    /// Records a topology update (applied or refused) in the audit log.
    public func recordTopology(detail: String, actor: String, now: Int64) throws {
        try write { db in try AuditLog.append(db, at: now, event: .topology, actor: actor, detail: detail) }
    }
}
