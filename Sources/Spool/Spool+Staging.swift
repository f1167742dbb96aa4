import Envelope
import Foundation
import GRDB

/// A document this node is sealing, stored chunk by chunk before its header exists.
public struct StagedEnvelope: Sendable, Hashable {
    /// The provisional key its chunks are stored under until `completeStaged`.
    public let key: EnvelopeID
}

extension Spool {
    /// What `received_from` holds for a staged row: never a node id, never `local`.
    static let stagingMark = "(staging)"

    // MARK: - Staging: sealing straight into the spool

    /// Starts storing a document this node is sealing. An envelope's id is the hash of its signed
    /// header, which exists only once the last chunk is sealed; so the chunks are stored under a
    /// random provisional key in a placeholder row (not complete, in no queue, never offered) and
    /// `completeStaged` gives them their id. This replaces sealing into a scratch file and
    /// reading it back: that read-back (read, hash again, write) was 35 % of the province's CPU in
    /// `Scripts/bench` b. A placeholder left by a stopped process is removed by
    /// `dropAbandonedStaging` at the daemon's start, or by `expire` once past `expiresAt`.
    public func beginStaging(_ p: SealParameters, now: Int64) throws -> StagedEnvelope {
        var random = SystemRandomNumberGenerator()
        let key = try EnvelopeID(
            bytes: (0..<EnvelopeID.byteCount).map { _ in UInt8.random(in: 0...255, using: &random) })
        try write { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO envelope (id, header, chunk_table, origin, kind, urgency, created_at, expires_at, \
                    payload_size, body_size,
                                          chunk_count, chunks_stored, complete, received_from, received_at)
                    VALUES (?, x'', x'', ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?, ?)
                    """
            ).execute(arguments: [
                Data(key.bytes), p.origin.rawValue, Int(p.kind.rawValue), Int(p.urgency.rawValue),
                p.createdAt, p.expiresAt, Self.stagingMark, now,
            ])
        }
        return StagedEnvelope(key: key)
    }

    /// Stores chunks `first ..< first + chunks.count` of a staged document, in one transaction.
    /// They are stored as this process's sealer produced them, not hashed again: the signed chunk
    /// table is built from the sealer's own digests of these bytes (`sealedHere` in `CustodyGate`
    /// skips the signature check for the same reason). Chunks from peers, files and imports
    /// always go through `appendChunks` or `acceptBatch`, which verify each one.
    public func appendStaged(_ staged: StagedEnvelope, first: Int, chunks: [[UInt8]]) throws {
        let key = Data(staged.key.bytes)
        try write { db in
            let have = try stagedChunks(db, key)
            guard first == have else {
                throw SpoolError(
                    .invalidState, "the staged document holds \(have) chunks; chunk \(first) cannot be stored next")
            }
            let statement = try db.cachedStatement(sql: "INSERT INTO chunk (envelope_id, idx, data) VALUES (?, ?, ?)")
            for (i, c) in chunks.enumerated() {
                try Self.borrowing(c) { try statement.execute(arguments: [key, first + i, $0]) }
            }
            try db.cachedStatement(sql: "UPDATE envelope SET chunks_stored = ? WHERE id = ?").execute(arguments: [
                have + chunks.count, key,
            ])
        }
    }

    /// The custody transaction for a staged document, now sealed: its chunks take the envelope's
    /// id (an `UPDATE` of the key column only; SQLite rewrites the first page of each row, not
    /// the chunk bytes), the placeholder goes, and the envelope is accepted as `accept` would.
    /// The caller has checked the header (`CustodyGate.check`); the chunk table is checked against
    /// the signed digest when `verifier` is made.
    public func completeStaged(
        _ staged: StagedEnvelope, as verifier: ChunkVerifier, custody: Custody, now: Int64
    ) throws -> AcceptResult {
        let key = Data(staged.key.bytes)
        let h = verifier.header
        let id = Data(h.id.bytes)
        return try write { db in
            let have = try stagedChunks(db, key)
            guard have == h.layout.chunkCount else {
                throw SpoolError(
                    .invalidState,
                    "the staged document holds \(have) of \(h.layout.chunkCount) chunks; it cannot be accepted")
            }
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM seen WHERE id = ?"), arguments: [id]) == true {
                try db.cachedStatement(sql: "DELETE FROM envelope WHERE id = ?").execute(arguments: [key])
                return .duplicate
            }
            // A partial copy gives way.
            try db.cachedStatement(sql: "DELETE FROM envelope WHERE id = ?").execute(arguments: [id])
            try insertEnvelope(db, h, table: verifier.table, from: "local", now: now, complete: true)
            try db.cachedStatement(sql: "UPDATE chunk SET envelope_id = ? WHERE envelope_id = ?").execute(arguments: [
                id, key,
            ])
            try db.cachedStatement(sql: "DELETE FROM envelope WHERE id = ?").execute(arguments: [key])
            try commitCustody(db, h, custody: custody, from: "local", now: now)
            return .accepted
        }
    }

    /// How many chunks the staged row `key` holds; `notFound` when it is gone.
    private func stagedChunks(_ db: Database, _ key: Data) throws -> Int {
        guard
            let have = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT chunks_stored FROM envelope WHERE id = ? AND received_from = ?"),
                arguments: [key, Self.stagingMark])
        else {
            throw SpoolError(
                .notFound,
                "the document being sealed is no longer staged (a daemon start clears unfinished sends); send it again")
        }
        return have
    }

    /// Removes a staged document and its chunks (sealing failed or was refused).
    public func dropStaged(_ staged: StagedEnvelope) throws {
        try write { db in
            try db.cachedStatement(sql: "DELETE FROM envelope WHERE id = ? AND received_from = ?").execute(arguments: [
                Data(staged.key.bytes), Self.stagingMark,
            ])
        }
    }

    /// Removes every staged document: run by the daemon at start-up (like `resetInFlight`),
    /// when no send can be in progress. Returns how many there were.
    @discardableResult
    public func dropAbandonedStaging() throws -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM envelope WHERE received_from = ?", arguments: [Self.stagingMark])
            return db.changesCount
        }
    }
}
