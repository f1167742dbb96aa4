import Foundation
import Testing
import GRDB
import Envelope
@testable import Spool

@Suite struct SpoolStoreTests {
    @Test func synchronousIsFullOnTheWriterAndJournalIsWAL() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        #expect(try spool.writerSetting(.synchronous) == 2)  // FULL
        #expect(try spool.journalMode() == "wal")
        #expect(try spool.writerSetting(.secureDelete) == 2)  // FAST: no second write of freed pages
        #expect(try spool.writerSetting(.tempStore) == 2)  // MEMORY: statement journals stay off the disk
        #expect(FileManager.default.fileExists(atPath: f.path))
        // Still FULL after reopening and after writes.
        _ = try spool.accept(try f.incoming(try f.envelope()), now: SpoolFixture.now)
        #expect(try Spool(path: f.path).writerSetting(.synchronous) == 2)
    }

    @Test func newSpoolsUse16KiBPagesAndOldOnesKeepTheirs() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        #expect(try spool.pool.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == Spool.pageSize)
        #expect(try spool.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == Spool.checkpointBytes / Spool.pageSize)

        // A spool created by an earlier build (4 KiB pages, already in WAL mode) keeps its page
        // size, and its checkpoint interval is still `checkpointBytes` of WAL.
        let old = try SpoolFixture()
        let raw = try DatabaseQueue(path: old.path)
        try raw.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 4096")
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "CREATE TABLE earlier (x)")
        }
        try raw.close()
        let reopened = try old.open()
        #expect(try reopened.pool.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == 4096)
        #expect(try reopened.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == Spool.checkpointBytes / 4096)
        #expect(try reopened.accept(try old.incoming(try old.envelope()), now: SpoolFixture.now) == .accepted)
    }

    @Test func acceptIsOneCustodyTransaction() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(recipients: ["000.01.01.H27", "000.01.02.H27", "000.02.01.H27", "000.00.01.H27"])
        let result = try spool.accept(try f.incoming(e, hops: ["000.01.00.H27": ["000.01.01.H27", "000.01.02.H27"], "000.02.00.H27": ["000.02.01.H27"]], local: true),
                                      now: SpoolFixture.now)
        #expect(result == .accepted)
        let entries = try spool.queueEntries()
        #expect(entries.map(\.peer.rawValue).sorted() == ["000.01.00.H27", "000.02.00.H27"])  // one per next hop
        #expect(entries.first { $0.peer.rawValue == "000.01.00.H27" }?.recipients.count == 2)
        #expect(entries.allSatisfy { $0.state == .ready && $0.enqueuedAt == SpoolFixture.now && $0.attempts == 0 })
        #expect(try spool.inbox().count == 1)
        #expect(try spool.hasSeen(e.0.header.id))
        #expect(try spool.auditRecords().map(\.event) == [.accepted, .delivered])
        // A second copy is acknowledged but neither stored nor forwarded again.
        #expect(try spool.accept(try f.incoming(e), now: SpoolFixture.now + 5) == .duplicate)
        #expect(try spool.queueEntries().count == 2)
        #expect(try spool.inbox().count == 1)
        #expect(try spool.auditRecords().count == 2)
    }

    @Test func batchAcceptCommitsAllOrNothing() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let good = try (0..<20).map { _ in try f.incoming(try f.envelope()) }
        #expect(try spool.acceptBatch(good, now: SpoolFixture.now).allSatisfy { $0 == .accepted })
        var bad = try f.envelope()
        bad.1[0][10] ^= 1
        let more = try (0..<5).map { _ in try f.incoming(try f.envelope()) } + [try f.incoming(bad)]
        #expect { try spool.acceptBatch(more, now: SpoolFixture.now) } throws: { code(of: $0) == .chunkRejected }
        #expect(try spool.queueEntries().count == 20)  // none of the failed batch
    }

    @Test func partialEnvelopeResumesChunkByChunkAcrossReopen() throws {
        let f = try SpoolFixture()
        let e = try f.envelope(size: 10_000, chunkSize: 1024)
        let count = e.0.header.layout.chunkCount
        do {
            let spool = try f.open()
            #expect(try spool.begin(e.0, from: "000.00.00.H27", now: SpoolFixture.now) == .resume(from: 0))
            #expect(try spool.appendChunks(e.0, first: 0, chunks: Array(e.1[0..<3])) == 3)
            // Out of order is refused: chunks are stored contiguously, so the count is the resume point.
            #expect { try spool.appendChunks(e.0, first: 5, chunks: [e.1[5]]) } throws: { code(of: $0) == .invalidState }
            #expect { try spool.complete(e.0.header.id, custody: Custody(nextHops: [:], deliverLocally: true), now: SpoolFixture.now) }
                throws: { code(of: $0) == .invalidState }
            #expect(try spool.inbox().isEmpty)
        }
        let spool = try f.open()
        #expect(try spool.begin(e.0, from: "000.00.00.H27", now: SpoolFixture.now) == .resume(from: 3))
        #expect(try spool.appendChunks(e.0, first: 3, chunks: Array(e.1[3...])) == count)
        #expect(try spool.complete(e.0.header.id, custody: Custody(nextHops: [:], deliverLocally: true), now: SpoolFixture.now) == .accepted)
        #expect(try spool.begin(e.0, from: "000.00.00.H27", now: SpoolFixture.now) == .duplicate)
        #expect(try spool.chunks(of: e.0.header.id, from: 0, limit: 100) == e.1)
        #expect(try spool.storedEnvelope(e.0.header.id)?.complete == true)
    }

    @Test func storedHeadsReadTheStartOfCompleteEnvelopesOnly() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let complete = try f.envelope(size: 5000, chunkSize: 1024)
        let partial = try f.envelope(size: 5000, chunkSize: 1024)
        let unknown = try f.envelope()
        _ = try spool.accept(try f.incoming(complete), now: SpoolFixture.now)
        _ = try spool.begin(partial.0, from: "p", now: SpoolFixture.now)
        _ = try spool.appendChunks(partial.0, first: 0, chunks: [partial.1[0]])
        let heads = try spool.storedHeads([complete.0.header.id, partial.0.header.id, unknown.0.header.id])
        #expect(heads.count == 1)
        let head = try #require(heads[complete.0.header.id])
        #expect(head.header.id == complete.0.header.id)
        #expect(head.table.bytes == complete.0.table.bytes)
        #expect(head.firstChunk == complete.1[0])
        #expect(try spool.storedHeads([]).isEmpty)
        // Larger bodies are left to the caller's one-by-one read: a batch's memory stays bounded.
        #expect(try spool.storedHeads([complete.0.header.id], maxBodyBytes: 1000).isEmpty)
    }

    @Test func aBadChunkIsNeverStoredAndIsAskedForAgain() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(size: 5000, chunkSize: 1024)
        _ = try spool.begin(e.0, from: "p", now: SpoolFixture.now)
        var tampered = e.1
        tampered[1][3] ^= 0xff
        #expect { try spool.appendChunks(e.0, first: 0, chunks: Array(tampered[0..<3])) } throws: {
            code(of: $0) == .chunkRejected && "\($0)".contains("chunk 1")
        }
        #expect(try spool.begin(e.0, from: "p", now: SpoolFixture.now) == .resume(from: 1))
        #expect(try spool.chunks(of: e.0.header.id, from: 0, limit: 10) == [e.1[0]])
    }

    @Test func aChunkTableThatDoesNotMatchTheHeaderIsRefused() throws {
        let f = try SpoolFixture()
        let e = try f.envelope()
        var t = e.0.table.bytes
        t[0] ^= 1
        #expect(throws: EnvelopeError.self) { try ChunkVerifier(header: e.0.header, table: try ChunkTable(bytes: t)) }
    }

    @Test func seenEntriesOutliveTheEnvelopeUntilExpiry() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(lifetime: 60_000)
        _ = try spool.accept(try f.incoming(e), now: SpoolFixture.now)
        try spool.ack(e.0.header.id, peer: node("000.01.00.H27"), now: SpoolFixture.now + 1)
        #expect(try spool.storedEnvelope(e.0.header.id) == nil)  // body gone once handed on
        #expect(try spool.accept(try f.incoming(e), now: SpoolFixture.now + 2) == .duplicate)  // still recognised
        #expect(try spool.pruneSeen(now: SpoolFixture.now + 30_000, grace: 0) == 0)
        #expect(try spool.pruneSeen(now: SpoolFixture.now + 60_001, grace: 0) == 1)
    }
}

@Suite struct SpoolFailureTests {
    @Test func newerDatabaseIsRefused() throws {
        let f = try SpoolFixture()
        _ = try f.open()
        let q = try DatabaseQueue(path: f.path)
        try q.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')") }
        #expect { try Spool(path: f.path) } throws: { code(of: $0) == .newerVersion }
    }

    @Test func corruptFileIsRefusedAndLeftUntouched() throws {
        let f = try SpoolFixture()
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: f.path))
        #expect { try Spool(path: f.path, integrityCheck: true) } throws: { code(of: $0) == .corrupt && "\($0)".contains("restore") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.path)) == garbage)
    }

    @Test func truncatedFileIsRefused() throws {
        let f = try SpoolFixture()
        do {
            let spool = try f.open()
            _ = try spool.acceptBatch(try (0..<50).map { _ in try f.incoming(try f.envelope(size: 8000)) }, now: SpoolFixture.now)
        }
        // Checkpoint the WAL into the main file, then cut the file in half.
        let q = try DatabaseQueue(path: f.path)
        try q.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try q.close()
        let size = try FileManager.default.attributesOfItem(atPath: f.path)[.size] as! Int
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: f.path))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        #expect { try Spool(path: f.path, integrityCheck: true) } throws: { code(of: $0) == .corrupt }
    }

    @Test func fullDiskRefusesNewEnvelopesAndLosesNothing() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let first = try f.envelope()
        _ = try spool.accept(try f.incoming(first), now: SpoolFixture.now)
        try spool.setMaxPageCount(1)  // clamps to the current size: any growth is SQLITE_FULL
        let big = try f.envelope(size: 200_000)
        #expect { try spool.accept(try f.incoming(big), now: SpoolFixture.now) } throws: {
            code(of: $0) == .diskFull && "\($0)".contains("refused")
        }
        #expect(try !spool.hasSeen(big.0.header.id))  // no partial state
        #expect(try spool.queueEntries().count == 1)
        try spool.setMaxPageCount(1_000_000)  // space returns
        #expect(try spool.accept(try f.incoming(big), now: SpoolFixture.now) == .accepted)
        #expect(try spool.queueEntries().count == 2)
        #expect(try spool.verifyAudit().ok)
    }

    @Test func lockedDatabaseGivesAClearError() throws {
        let f = try SpoolFixture()
        let spool = try Spool(path: f.path, busyTimeout: 0.2)
        let other = try DatabaseQueue(path: f.path)
        try other.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN EXCLUSIVE")
            defer { try? db.execute(sql: "ROLLBACK") }
            #expect { try spool.accept(try f.incoming(try f.envelope()), now: SpoolFixture.now) } throws: { code(of: $0) == .locked }
        }
    }
}
