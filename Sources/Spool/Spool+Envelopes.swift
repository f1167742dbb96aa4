import Envelope
import Foundation
import GRDB

/// A whole envelope to accept in one transaction (small documents, local sends, batches).
public struct IncomingEnvelope: Sendable {
    public let verifier: ChunkVerifier
    public let chunks: [[UInt8]]
    /// `local` for this node's own sends, else the peer it came from.
    public let from: String
    /// Where it goes: a queue entry per next hop (ready), the inbox, tracking.
    public var custody: Custody

    /// `verifier` must come from a header whose signature the caller has checked.
    public init(verifier: ChunkVerifier, chunks: [[UInt8]], from: String, custody: Custody) {
        self.verifier = verifier
        self.chunks = chunks
        self.from = from
        self.custody = custody
    }

    public var header: EnvelopeHeader { verifier.header }
}

extension Spool {
    // MARK: - Chunk by chunk (resumable)

    /// Registers an offered envelope, or finds how much of it the spool already holds.
    /// The caller has verified the header's signature; the chunk table is checked here.
    /// A new partial envelope from a peer is held to `quota` (`SPOOL-PARTIAL-QUOTA`); resuming one
    /// is not.
    /// `custody`, where the envelope would go from here, lets a seen envelope a route change sent
    /// here again be taken (`admitBounce`); without it a seen envelope is a duplicate unless it
    /// comes back from a neighbour this node handed it to.
    public func begin(
        _ verifier: ChunkVerifier, from: String, now: Int64, quota: PartialQuota? = nil, custody: Custody? = nil
    ) throws -> BeginResult {
        let h = verifier.header
        let id = Data(h.id.bytes)
        return try write { db in
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM seen WHERE id = ?"), arguments: [id]) == true,
                try !Self.admitBounce(db, id, from: from, custody: custody, now: now)
            {
                return .duplicate
            }
            if let stored = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT chunks_stored FROM envelope WHERE id = ?"), arguments: [id])
            {
                return .resume(from: stored)
            }
            if let quota { try checkPartialQuota(db, peer: from, size: h.layout.payloadSize, quota: quota) }
            try insertEnvelope(db, h, table: verifier.table, from: from, now: now, complete: false)
            return .resume(from: 0)
        }
    }

    /// Stores chunks `first ..< first + chunks.count`, each verified against the signed digest
    /// first. Chunks before a bad one are kept; the bad one is refused (`chunkRejected`) and
    /// never stored, so the sender can be asked for it again. Returns the new resume point.
    @discardableResult
    /// `now`, when given, is recorded as the envelope's last progress (`dropStalePartials`).
    public func appendChunks(_ verifier: ChunkVerifier, first: Int, chunks: [[UInt8]], now: Int64? = nil) throws -> Int
    {
        var good = 0
        var failure: (any Error)?
        for (i, chunk) in chunks.enumerated() {
            do { try verifier.verify(index: first + i, ciphertext: chunk) } catch {
                failure = error
                break
            }
            good += 1
        }
        let id = Data(verifier.header.id.bytes)
        let stored = try write { db -> Int in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT chunks_stored, complete FROM envelope WHERE id = ?"),
                    arguments: [id])
            else {
                throw SpoolError(
                    .notFound,
                    "envelope \(verifier.header.id.hex.prefix(16))… is not being received (call begin first)"
                )
            }
            let have: Int = row["chunks_stored"]
            guard first == have else {
                throw SpoolError(
                    .invalidState,
                    """
                    envelope \(verifier.header.id.hex.prefix(16))… holds \(have) chunks; chunk \(first) cannot \
                    be stored next
                    """
                )
            }
            guard good > 0 else { return have }
            let statement = try db.cachedStatement(sql: "INSERT INTO chunk (envelope_id, idx, data) VALUES (?, ?, ?)")
            for i in 0..<good {
                try Self.borrowing(chunks[i]) { try statement.execute(arguments: [id, first + i, $0]) }
            }
            try db.cachedStatement(
                sql: "UPDATE envelope SET chunks_stored = ?, progress_at = COALESCE(?, progress_at) WHERE id = ?"
            )
            .execute(arguments: [have + good, now, id])
            return have + good
        }
        if let failure {
            throw SpoolError(
                .chunkRejected,
                """
                chunk \(first + good) of envelope \(verifier.header.id.hex.prefix(16))… does not match its \
                signed digest; not stored
                """,
                cause: "\(failure)")
        }
        return stored
    }

    /// The custody transaction for an envelope whose chunks are all stored: marks it complete,
    /// enqueues it for every next hop and/or delivers it to the inbox, records it as seen and
    /// audits it — all in one commit. Only after this returns may the sender be acknowledged.
    public func complete(_ id: EnvelopeID, custody: Custody, now: Int64) throws -> AcceptResult {
        let key = Data(id.bytes)
        return try write { db in
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM seen WHERE id = ?"), arguments: [key]) == true {
                return .duplicate
            }
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT header, chunk_count, chunks_stored, received_from FROM envelope WHERE id = ?"),
                    arguments: [key])
            else {
                throw SpoolError(.notFound, "envelope \(id.hex.prefix(16))… is not in the spool")
            }
            let count: Int = row["chunk_count"]
            let stored: Int = row["chunks_stored"]
            guard stored == count else {
                throw SpoolError(
                    .invalidState,
                    "envelope \(id.hex.prefix(16))… has \(stored) of \(count) chunks; it cannot be accepted yet")
            }
            let header = try EnvelopeHeader.parse(Array(row["header"] as Data))
            try db.cachedStatement(sql: "UPDATE envelope SET complete = 1 WHERE id = ?").execute(arguments: [key])
            try commitCustody(db, header, custody: custody, from: row["received_from"], now: now)
            return .accepted
        }
    }

    // MARK: - Whole envelopes

    /// Accepts a complete envelope in one transaction (the custody rule). A duplicate is
    /// acknowledged and not stored again.
    public func accept(_ incoming: IncomingEnvelope, now: Int64) throws -> AcceptResult {
        try acceptBatch([incoming], now: now)[0]
    }

    /// Accepts many envelopes in one transaction: one fsync for the lot (group commit).
    /// A chunk that fails verification fails the whole batch before anything is written.
    public func acceptBatch(_ batch: [IncomingEnvelope], now: Int64) throws -> [AcceptResult] {
        try verifyWhole(batch)
        return try write { db in try acceptVerified(db, batch, now: now) }
    }

    /// The body of `acceptBatch`, for transactions that accept envelopes alongside other work
    /// (a receipt sent with the status change that caused it). Chunks are already verified.
    func acceptVerified(_ db: Database, _ batch: [IncomingEnvelope], now: Int64) throws -> [AcceptResult] {
        var results: [AcceptResult] = []
        results.reserveCapacity(batch.count)
        let seen = try db.cachedStatement(sql: "SELECT 1 FROM seen WHERE id = ?")
        let insertChunk = try db.cachedStatement(sql: "INSERT INTO chunk (envelope_id, idx, data) VALUES (?, ?, ?)")
        for e in batch {
            let key = Data(e.header.id.bytes)
            var returned = false
            if try Bool.fetchOne(seen, arguments: [key]) == true {
                guard try Self.admitBounce(db, key, from: e.from, custody: e.custody, now: now) else {
                    results.append(.duplicate)
                    continue
                }
                returned = true
            }
            // A bounce whose body is still here (held for other next hops) only takes custody again.
            let keep =
                try returned
                && Bool.fetchOne(db, sql: "SELECT complete FROM envelope WHERE id = ?", arguments: [key]) == true
            if !keep {
                // A partial copy (an earlier interrupted transfer) gives way to the complete one.
                try db.cachedStatement(sql: "DELETE FROM envelope WHERE id = ?").execute(arguments: [key])
                try insertEnvelope(db, e.header, table: e.verifier.table, from: e.from, now: now, complete: true)
                for (i, c) in e.chunks.enumerated() {
                    try Self.borrowing(c) { try insertChunk.execute(arguments: [key, i, $0]) }
                }
            }
            try commitCustody(db, e.header, custody: e.custody, from: e.from, now: now)
            results.append(.accepted)
        }
        return results
    }

    /// Verifies every chunk of whole envelopes before a transaction stores them.
    func verifyWhole(_ batch: [IncomingEnvelope]) throws {
        for e in batch {
            guard e.chunks.count == e.header.layout.chunkCount else {
                throw SpoolError(
                    .invalidArgument,
                    """
                    envelope \(e.header.id.hex.prefix(16))… has \(e.chunks.count) of \
                    \(e.header.layout.chunkCount) chunks
                    """
                )
            }
            for (i, c) in e.chunks.enumerated() {
                do { try e.verifier.verify(index: i, ciphertext: c) } catch {
                    throw SpoolError(
                        .chunkRejected,
                        """
                        chunk \(i) of envelope \(e.header.id.hex.prefix(16))… does not match its signed \
                        digest; envelope refused
                        """,
                        cause: "\(error)")
                }
            }
        }
    }

    // MARK: - Chunk bytes in and out without an extra copy

    /// `body` with `bytes` as a `Data` over the same memory. For binding a chunk: GRDB binds a
    /// blob as `SQLITE_TRANSIENT`, so SQLite takes its own copy before `execute` returns; a
    /// `Data(bytes)` first copied each chunk once more. (Copies of all kinds were 7 % of a relay's
    /// CPU in `Scripts/bench` b; this one alone is under the noise of a CPU measurement.)
    static func borrowing<T>(_ bytes: [UInt8], _ body: (Data) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, !raw.isEmpty else { return try body(Data()) }
            return try body(
                Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: raw.count, deallocator: .none))
        }
    }

    /// Column 0 of `row` (a chunk's data) copied once, straight from SQLite's buffer.
    static func bytes(_ row: Row) throws -> [UInt8] {
        try row.withUnsafeData(atIndex: 0) { data in data.map { [UInt8]($0) } ?? [] }
    }

    // MARK: - Shared pieces of the custody transactions

    func insertEnvelope(
        _ db: Database, _ h: EnvelopeHeader, table: ChunkTable, from: String, now: Int64, complete: Bool
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO envelope (id, header, chunk_table, origin, kind, urgency, created_at, expires_at, \
                payload_size, body_size,
                                      chunk_count, chunks_stored, complete, received_from, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            Data(h.id.bytes), Data(h.encoded), Data(table.bytes), h.origin.rawValue, Int(h.kind.rawValue),
            Int(h.urgency.rawValue), h.createdAt, h.expiresAt, Int64(h.layout.payloadSize), Int64(h.layout.bodySize),
            h.layout.chunkCount, complete ? h.layout.chunkCount : 0, complete, from, now,
        ])
    }

    func commitCustody(_ db: Database, _ h: EnvelopeHeader, custody: Custody, from: String, now: Int64) throws {
        let key = Data(h.id.bytes)
        // OR IGNORE: an envelope taken back after a topology change (`admitBounce`) may still have
        // entries and an inbox row here; its recipients are then merged into them.
        let enqueue = try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO queue_entry (envelope_id, peer, recipients, state, priority, enqueued_at, \
                attempts, next_attempt_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (peer, recipients) in custody.nextHops.sorted(by: { $0.key < $1.key }) {
            let list = recipients.map(\.rawValue).joined(separator: ",")
            try enqueue.execute(arguments: [
                key, peer.rawValue, list, QueueState.ready.rawValue, h.urgency.rank, now, 0, now, h.expiresAt,
            ])
            if db.changesCount == 0 { try mergeRecipients(db, key, peer: peer, recipients) }
        }
        var deliveredNow = false
        if custody.deliverLocally {
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO inbox (envelope_id, origin, received_at, status, status_at) \
                    VALUES (?, ?, ?, ?, ?)
                    """
            )
            .execute(arguments: [key, h.origin.rawValue, now, ReceiptStatus.arrived.rawValue, now])
            deliveredNow = db.changesCount > 0
        }
        if custody.trackAsOrigin {
            let track = try db.cachedStatement(
                sql:
                    """
                    INSERT OR IGNORE INTO receipt (envelope_id, recipient, status, rank, updated_at) VALUES \
                    (?, ?, ?, ?, ?)
                    """
            )
            for r in h.recipients {
                try track.execute(arguments: [
                    key, r.id.rawValue, ReceiptStatus.pending.rawValue, ReceiptStatus.pending.rank, now,
                ])
            }
        }
        if let document = custody.document, custody.trackAsOrigin {
            // Checked again here, in the commit: two sends of one package at once cannot both pass.
            if !custody.resend, let earlier = try Self.sentOriginal(db, of: document) {
                throw SpoolError(
                    .duplicateDocument,
                    "a document with the identity of "
                        + "\(document.documentId ?? "this one") "
                        + "was already sent as envelope \(earlier.hex.prefix(16))…; nothing was sent. "
                        + "Send it again with --resend only if it must go a second time")
            }
            try Self.recordDocument(db, h.id, .sent, document, now: now)
        }
        try db.cachedStatement(sql: "INSERT INTO seen (id, first_seen_at, expires_at) VALUES (?, ?, ?)").execute(
            arguments: [key, now, h.expiresAt])
        let hops = custody.nextHops.keys.sorted().map(\.rawValue)
        let detail =
            """
            kind=\(h.kind) urgency=\(h.urgency.cliName) size=\(h.layout.bodySize) \
            next=\(hops.isEmpty ? "-" : hops.joined(separator: ","))\(custody.deliverLocally ? " inbox" : "")
            """
        try AuditLog.append(
            db, at: now, event: .accepted, envelope: h.id, peer: from,
            actor: from == "local" ? custody.submittedBy ?? "node" : from,
            detail: detail)
        if deliveredNow {
            try AuditLog.append(db, at: now, event: .delivered, envelope: h.id, actor: "node", detail: "inbox")
        }
        if custody.nextHops.isEmpty && !custody.deliverLocally {
            try dropBodyIfUnused(db, h.id)
        }
    }

    /// Adds `recipients` to the entry `key` already has for `peer` (an envelope taken back).
    private func mergeRecipients(_ db: Database, _ key: Data, peer: NodeID, _ recipients: [NodeID]) throws {
        let existing =
            try String.fetchOne(
                db, sql: "SELECT recipients FROM queue_entry WHERE envelope_id = ? AND peer = ?",
                arguments: [key, peer.rawValue]) ?? ""
        let merged = Set(existing.split(separator: ",").map(String.init) + recipients.map(\.rawValue))
        try db.execute(
            sql: "UPDATE queue_entry SET recipients = ? WHERE envelope_id = ? AND peer = ?",
            arguments: [merged.sorted().joined(separator: ","), key, peer.rawValue])
    }

    /// Deletes an envelope's body and row once nothing needs them (no queue entry, not in the
    /// inbox). The seen-set entry stays, so a late copy is still recognised.
    func dropBodyIfUnused(_ db: Database, _ id: EnvelopeID) throws {
        let key = Data(id.bytes)
        let needed =
            try Bool.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM queue_entry WHERE envelope_id = ?1) OR EXISTS (SELECT 1 FROM \
                        inbox WHERE envelope_id = ?1)
                            OR EXISTS (SELECT 1 FROM receipt WHERE envelope_id = ?1)
                        """), arguments: [key]) == true
        guard !needed else { return }
        try db.cachedStatement(sql: "DELETE FROM envelope WHERE id = ?").execute(arguments: [key])
    }
}
