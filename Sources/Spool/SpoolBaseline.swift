import Foundation
import GRDB

/// The physical limit the spool's chunk writes are compared with in `Scripts/bench-spool`:
/// plain SQLite inserts of the same bytes, same batch sizes, same durability and page size (WAL,
/// `synchronous=FULL`), with none of the spool's verification or bookkeeping. Measurement only.
public enum SpoolBaseline {
    /// Inserts `chunks` into a fresh database at `path`, `batch` rows per transaction.
    /// Returns the elapsed seconds.
    public static func rawInsert(path: String, chunks: [[UInt8]], batch: Int) throws -> Double {
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = \(Spool.pageSize)") }  // as the spool
        let pool = try DatabasePool(path: path, configuration: config)
        try pool.barrierWriteWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        try pool.write {
            try $0.execute(
                sql:
                    """
                    CREATE TABLE raw (owner BLOB NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY \
                    KEY (owner, idx))
                    """
            )
        }
        let owner = Data(repeating: 7, count: 32)
        let start = Date()
        var i = 0
        while i < chunks.count {
            let end = min(chunks.count, i + batch)
            try pool.write { db in
                let s = try db.cachedStatement(sql: "INSERT INTO raw (owner, idx, data) VALUES (?, ?, ?)")
                for j in i..<end { try s.execute(arguments: [owner, j, Data(chunks[j])]) }
            }
            i = end
        }
        return Date().timeIntervalSince(start)
    }
}
