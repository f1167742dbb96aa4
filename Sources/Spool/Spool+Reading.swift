import Envelope
import Foundation
import GRDB

/// Reading stored envelopes back: headers, chunk tables and chunks, for link senders,
/// deliveries and exports.
extension Spool {
    // MARK: - Reading back

    /// The signed header and chunk table of a stored envelope (complete or partial).
    public func storedEnvelope(
        _ id: EnvelopeID
    ) throws -> (header: EnvelopeHeader, table: ChunkTable, chunksStored: Int, complete: Bool)? {
        try read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT header, chunk_table, chunks_stored, complete FROM envelope WHERE id = ?"),
                    arguments: [Data(id.bytes)])
            else { return nil }
            let header = try EnvelopeHeader.parse(Array(row["header"] as Data))
            return (
                header, try ChunkTable(bytes: Array(row["chunk_table"] as Data)), row["chunks_stored"], row["complete"]
            )
        }
    }

    /// The signed header, chunk table and first chunk of each complete envelope among `ids`, in
    /// one read transaction: a recipient's delivery probe reads only the start of each document,
    /// and two reads per document were a sixth of a commune's CPU for small ones
    /// (docs/BENCHMARKS.md). Left out, for the caller to read one by one: envelopes not
    /// completely stored here, bodies over `maxBodyBytes` (so a batch of 256 holds at most
    /// 256 × `maxBodyBytes` — whatever chunk size an origin chose), and rows that do not parse.
    public func storedHeads(_ ids: [EnvelopeID], maxBodyBytes: Int = 16 << 10) throws -> [EnvelopeID: StoredHead] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT e.header, e.chunk_table, c.data FROM envelope e JOIN chunk c ON c.envelope_id = e.id AND \
                    c.idx = 0
                    WHERE e.id = ? AND e.complete = 1 AND e.body_size <= ?
                    """)
            var heads: [EnvelopeID: StoredHead] = [:]
            for id in ids {
                guard let row = try Row.fetchOne(statement, arguments: [Data(id.bytes), maxBodyBytes]) else { continue }
                // A row that does not parse is left to the one-by-one path, which refuses that
                // document alone instead of failing the whole batch.
                guard let header = try? EnvelopeHeader.parse(Array(row[0] as Data)),
                    let table = try? ChunkTable(bytes: Array(row[1] as Data))
                else { continue }
                heads[id] = StoredHead(header: header, table: table, firstChunk: Array(row[2] as Data))
            }
            return heads
        }
    }

    /// The signed headers of the documents in this node's inbox (archived ones, whose files are
    /// out of the spool, left out), `limit` at a time in id order
    /// after `after`: a key rotation asks which of them are still sealed to a retired key.
    /// (A row whose header does not parse comes back as nil, so the paging goes on past it.)
    public func inboxHeaders(after: EnvelopeID?, limit: Int) throws -> [(EnvelopeID, EnvelopeHeader?)] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT e.id, e.header FROM inbox i JOIN envelope e ON e.id = i.envelope_id \
                    WHERE i.envelope_id > ? AND i.envelope_id NOT IN (SELECT envelope_id FROM archived) \
                    ORDER BY i.envelope_id LIMIT ?
                    """, arguments: [Data(after?.bytes ?? []), limit]
            ).compactMap { row in
                guard let id = try? EnvelopeID(bytes: Array(row[0] as Data)) else { return nil }
                return (id, try? EnvelopeHeader.parse(Array(row[1] as Data)))
            }
        }
    }

    /// Up to `limit` stored chunks from `first` on: an envelope streams out a few chunks at a time.
    public func chunks(of id: EnvelopeID, from first: Int, limit: Int) throws -> [[UInt8]] {
        try read { db in
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT data FROM chunk WHERE envelope_id = ? AND idx >= ? ORDER BY idx LIMIT ?"),
                arguments: [Data(id.bytes), first, limit])
            var chunks: [[UInt8]] = []
            while let row = try rows.next() { chunks.append(try Self.bytes(row)) }
            return chunks
        }
    }

    /// Single chunks of several envelopes in one read transaction (the link sender's batch);
    /// nil where the spool does not hold that chunk.
    public func chunks(_ picks: [(id: EnvelopeID, index: Int)]) throws -> [[UInt8]?] {
        try read { db in
            let statement = try db.cachedStatement(sql: "SELECT data FROM chunk WHERE envelope_id = ? AND idx = ?")
            return try picks.map { p in
                try Row.fetchOne(statement, arguments: [Data(p.id.bytes), p.index]).map { try Self.bytes($0) }
            }
        }
    }

    /// Whether an envelope id is in the seen-set (accepted here before).
    public func hasSeen(_ id: EnvelopeID) throws -> Bool {
        try read {
            try Bool.fetchOne($0.cachedStatement(sql: "SELECT 1 FROM seen WHERE id = ?"), arguments: [Data(id.bytes)])
                == true
        }
    }
}
