import Envelope
import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// An envelope being received from a peer, chunk batch by chunk batch, not yet complete.
public struct PartialEnvelope: Sendable, Equatable, Codable {
    public let envelopeID: EnvelopeID
    /// The peer sending it.
    public let peer: String
    public let origin: String
    /// Declared (signed) payload size.
    public let payloadSize: UInt64
    public let chunkCount: Int
    public let chunksStored: Int
    /// Ciphertext bytes stored so far.
    public let bytesStored: UInt64
    public let receivedAt: Int64
    /// When the last chunks were stored (or when it was offered, if none were).
    public let lastProgressAt: Int64
}

/// What partial envelopes from one peer may hold on disk: declared bytes, at most
/// `maxBytesPerPeer` and at most `maxShareOfFreeDisk` of the spool's free disk. Beyond it a new
/// partial envelope from that peer is refused for now (`SPOOL-PARTIAL-QUOTA`, a temporary refusal:
/// the sender retries with backoff), so one neighbour cannot fill the disk the others need.
public struct PartialQuota: Sendable, Equatable {
    public var maxBytesPerPeer: UInt64
    public var maxShareOfFreeDisk: Double

    public init(maxBytesPerPeer: UInt64 = 8 << 30, maxShareOfFreeDisk: Double = 0.25) {
        self.maxBytesPerPeer = maxBytesPerPeer
        self.maxShareOfFreeDisk = maxShareOfFreeDisk
    }
}

extension Spool {
    /// Partial envelopes from peers (not this node's own staging), oldest first.
    public func partialEnvelopes(peer: String? = nil, envelope: EnvelopeID? = nil) throws -> [PartialEnvelope] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT e.id, e.received_from, e.origin, e.payload_size, e.chunk_count, e.chunks_stored, \
                    e.received_at,
                           COALESCE(e.progress_at, e.received_at) AS progress,
                           (SELECT COALESCE(SUM(length(c.data)), 0) FROM chunk c WHERE c.envelope_id = e.id) AS \
                    stored_bytes
                    FROM envelope e WHERE e.complete = 0 AND e.received_from != 'local'
                      AND (?1 IS NULL OR e.received_from = ?1) AND (?2 IS NULL OR e.id = ?2)
                    ORDER BY e.received_at, e.id
                    """, arguments: [peer, envelope.map { Data($0.bytes) }]
            ).map(Self.partial)
        }
    }

    /// Drops partial envelopes that made no progress since `idleSince` (ms), each audited: the
    /// sender starts again from the first chunk if it comes back. Returns what was dropped.
    @discardableResult
    public func dropStalePartials(idleSince: Int64, now: Int64) throws -> [PartialEnvelope] {
        try write { db in
            let stale = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.id, e.received_from, e.origin, e.payload_size, e.chunk_count, e.chunks_stored, \
                    e.received_at,
                           COALESCE(e.progress_at, e.received_at) AS progress, 0 AS stored_bytes
                    FROM envelope e WHERE e.complete = 0 AND e.received_from != 'local'
                      AND COALESCE(e.progress_at, e.received_at) < ?
                    """, arguments: [idleSince]
            ).map(Self.partial)
            for p in stale {
                try db.execute(
                    sql: "DELETE FROM envelope WHERE id = ? AND complete = 0",
                    arguments: [Data(p.envelopeID.bytes)])
                try AuditLog.append(
                    db, at: now, event: .dropped, envelope: p.envelopeID, peer: p.peer, actor: "node",
                    detail: "partial: \(p.chunksStored) of \(p.chunkCount) chunks, no progress since "
                        + "\(p.lastProgressAt)")
            }
            return stale
        }
    }

    /// `queue delete` of partial envelopes: removed for good, audited with who and why.
    @discardableResult
    public func deletePartials(_ ids: [EnvelopeID], actor: String, reason: String, now: Int64) throws -> Int {
        try write { db in
            var deleted = 0
            for id in ids {
                guard
                    let peer = try String.fetchOne(
                        db,
                        sql: """
                            SELECT received_from FROM envelope WHERE id = ? AND complete = 0 AND received_from != \
                            'local'
                            """, arguments: [Data(id.bytes)])
                else { continue }
                try db.execute(sql: "DELETE FROM envelope WHERE id = ?", arguments: [Data(id.bytes)])
                try AuditLog.append(
                    db, at: now, event: .deleted, envelope: id, peer: peer, actor: actor,
                    detail: "partial envelope: \(reason)")
                deleted += 1
            }
            return deleted
        }
    }

    /// Throws `diskFull` if `size` declared bytes cannot fit the spool's free disk at all, and
    /// `partialQuota` if a new partial envelope from `peer` would take that peer's partials over
    /// `quota` (inside `begin`'s transaction). A peer holding no partial envelope may always begin
    /// one that fits the disk: the share bounds what one neighbour holds at once, not how large a
    /// document may be (a 3 GiB map on a disk with 10 GiB free must still arrive).
    func checkPartialQuota(_ db: Database, peer: String, size: UInt64, quota: PartialQuota) throws {
        let free = freeDiskBytes()
        if let free, size > free {
            throw SpoolError(
                .diskFull,
                "the disk holding \(path) has \(free >> 20) MiB free, too little for an "
                    + "envelope of \(size >> 20) MiB from \(peer): free space on it; the sender offers it "
                    + "again later")
        }
        let held = UInt64(
            try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT COALESCE(SUM(payload_size), 0) FROM envelope WHERE complete = 0 AND received_from = ?
                        """), arguments: [peer]) ?? 0)
        guard held > 0 else { return }
        let fraction = max(0, min(1, quota.maxShareOfFreeDisk))
        let share = free.map { UInt64(Double($0) * fraction) } ?? quota.maxBytesPerPeer
        let limit = min(quota.maxBytesPerPeer, share)
        guard held + size <= limit else {
            throw SpoolError(
                .partialQuota,
                "partial envelopes from \(peer) would hold \((held + size) >> 20) MiB, "
                    + "over its quota of \(limit >> 20) MiB (\(quota.maxBytesPerPeer >> 20) MiB, at most "
                    + "\(Int(quota.maxShareOfFreeDisk * 100)) % of free disk); offer it again once those "
                    + "finish")
        }
    }

    /// Free bytes on the file system of the spool (nil if it cannot be read).
    public func freeDiskBytes() -> UInt64? {
        var s = statvfs()
        let directory = (path as NSString).deletingLastPathComponent
        guard statvfs(directory.isEmpty ? "." : directory, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }

    static func partial(_ row: Row) throws -> PartialEnvelope {
        PartialEnvelope(
            envelopeID: try EnvelopeID(bytes: Array(row["id"] as Data)), peer: row["received_from"],
            origin: row["origin"], payloadSize: UInt64(row["payload_size"] as Int64),
            chunkCount: row["chunk_count"], chunksStored: row["chunks_stored"],
            bytesStored: UInt64(row["stored_bytes"] as Int64), receivedAt: row["received_at"],
            lastProgressAt: row["progress"])
    }
}
