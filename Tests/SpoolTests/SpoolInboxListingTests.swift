import Envelope
import Foundation
import GRDB
import Testing
@testable import Spool

/// `inbox list` at scale (issue 22, point 9): newest first, cut at its limit, and answered by
/// walking `inbox_newest_first` (migration v8) rather than sorting every inbox row.
@Suite struct SpoolInboxListingTests {
    @Test func theListingIsNewestFirstCutAtItsLimitAndWalksTheIndex() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        var ids: [EnvelopeID] = []
        for i in 0..<5 {
            let e = try f.envelope(size: 100)
            ids.append(e.0.header.id)
            #expect(try spool.accept(try f.incoming(e, hops: [:], local: true), now: SpoolFixture.now + Int64(i)) == .accepted)
        }
        #expect(try spool.inboxListing(limit: 3).map(\.entry.envelopeID) == Array(ids.reversed().prefix(3)))
        #expect(try spool.inboxListing(limit: 100).count == 5)
        let plan = try spool.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + Spool.inboxListingSQL, arguments: [Int(EnvelopeKind.document.rawValue), 10]
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("inbox_newest_first") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "no sort of every row: \(plan)")
        // The bulk read's larger page cache is given back.
        #expect(try spool.read { try Int.fetchOne($0, sql: "PRAGMA cache_size") } == -2000)
    }
}
