import Foundation
import Testing
import Envelope
@testable import Spool

/// The node-facing transactions: settling deliveries with the receipts they cause, clerk
/// statuses with their receipt, expiry with its notice, failover retargeting, figures.
@Suite struct SpoolSettlementTests {
    let parent = "000.00.00.H27"

    @Test func aDeliveryIsSettledTogetherWithItsReceipt() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let doc = try f.envelope()
        _ = try spool.accept(try f.incoming(doc, hops: [:], local: true), now: SpoolFixture.now)
        let pending = try spool.unsettledDeliveries(limit: 10)
        #expect(pending.map(\.envelopeID) == [doc.0.header.id] && pending[0].kind == .document)
        let receipt = try f.incoming(try f.envelope(size: 100), from: "local", hops: [parent: [parent]])
        try spool.settle([.document(doc.0.header.id, receipt: receipt)], now: SpoolFixture.now)
        #expect(try spool.unsettledDeliveries(limit: 10).isEmpty)
        #expect(try spool.queueEntries(peer: node(parent)).map(\.envelopeID) == [receipt.header.id])
        #expect(try spool.inboxDocuments().map(\.envelopeID) == [doc.0.header.id])  // the document stays for the clerk
    }

    @Test func aFailedSettlementLeavesEverythingAsItWas() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let doc = try f.envelope()
        _ = try spool.accept(try f.incoming(doc, hops: [:], local: true), now: SpoolFixture.now)
        let e = try f.envelope(size: 70_000)
        var chunks = e.1
        chunks[1][0] ^= 1  // a receipt whose chunk does not match its digest
        let bad = IncomingEnvelope(verifier: e.0, chunks: chunks, from: "local", custody: Custody(nextHops: [node(parent): [node(parent)]], deliverLocally: false))
        #expect(throws: SpoolError.self) { try spool.settle([.document(doc.0.header.id, receipt: bad)], now: SpoolFixture.now) }
        #expect(try spool.unsettledDeliveries(limit: 10).count == 1)
        #expect(try spool.queueEntries().isEmpty)
    }

    @Test func receiptsApplyForwardOnlyAndLeaveTheInbox() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let sent = try f.envelope(recipients: ["000.01.01.H27", "000.02.01.H27"])
        _ = try spool.accept(try f.incoming(sent, from: "local", track: true), now: SpoolFixture.now)
        let notice = try f.envelope(size: 200)
        _ = try spool.accept(try f.incoming(notice, hops: [:], local: true), now: SpoolFixture.now)
        let id = sent.0.header.id
        try spool.settle([.tracking(notice.0.header.id, updates: [
            .init(envelopeID: id, recipient: node("000.01.01.H27"), status: .done, reason: nil, at: 5),
            .init(envelopeID: id, recipient: node("000.01.01.H27"), status: .arrived, reason: nil, at: 6),  // older news: ignored
            .init(envelopeID: id, recipient: node("000.02.01.H27"), status: .undeliverable, reason: "expired", at: 7),
            .init(envelopeID: id, recipient: node("000.09.09.H27"), status: .arrived, reason: nil, at: 8),  // not a recipient: ignored
        ])], now: SpoolFixture.now)
        let statuses = Dictionary(uniqueKeysWithValues: try spool.tracking(id).map { ($0.recipient.rawValue, $0.status) })
        #expect(statuses == ["000.01.01.H27": .done, "000.02.01.H27": .undeliverable])
        #expect(try spool.inboxEntry(notice.0.header.id) == nil)
        #expect(try spool.unsettledDeliveries(limit: 10).isEmpty)
    }

    @Test func aClerkStatusAndItsReceiptCommitTogetherAndNeverGoBack() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let doc = try f.envelope()
        _ = try spool.accept(try f.incoming(doc, hops: [:], local: true), now: SpoolFixture.now)
        let r1 = try f.incoming(try f.envelope(size: 100), from: "local", hops: [parent: [parent]])
        #expect(try spool.setInboxStatus(doc.0.header.id, .processing, reason: nil, actor: "operator:t", now: 1, receipt: r1))
        let r2 = try f.incoming(try f.envelope(size: 101), from: "local", hops: [parent: [parent]])
        #expect(try spool.setInboxStatus(doc.0.header.id, .accepted, reason: nil, actor: "operator:t", now: 2, receipt: r2) == false)
        #expect(try spool.queueEntries().map(\.envelopeID) == [r1.header.id])
        #expect(try spool.inboxEntry(doc.0.header.id)?.status == .processing)
    }

    @Test func expiryQueuesItsNoticeInTheSameTransaction() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let doc = try f.envelope(lifetime: 1000)
        _ = try spool.accept(try f.incoming(doc), now: SpoolFixture.now)
        let notice = try f.incoming(try f.envelope(size: 100), from: "local", hops: [parent: [parent]])
        // A notice that cannot be built: nothing expires, nothing is lost.
        #expect(throws: SpoolError.self) {
            _ = try spool.expire(now: SpoolFixture.now + 2000) { _ in throw SpoolError(.io, "sealing failed") }
        }
        #expect(try spool.queueEntries().map(\.envelopeID) == [doc.0.header.id])
        let events = try spool.expire(now: SpoolFixture.now + 2000) { events in
            #expect(events.map(\.recipients) == [[node("000.01.01.H27")]])
            return [notice]
        }
        #expect(events.count == 1)
        #expect(try spool.queueEntries().map(\.envelopeID) == [notice.header.id])
    }

    @Test func failoverRetargetsWaitingEntriesButNotHeldOnes() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let a = try f.envelope(), b = try f.envelope(), c = try f.envelope()
        for e in [a, b, c] { _ = try spool.accept(try f.incoming(e, hops: ["000.01.00.H27": ["000.00.00.H27"]]), now: SpoolFixture.now) }
        try spool.hold(.envelopes([c.0.header.id], peer: nil), actor: "operator:t", now: SpoolFixture.now)
        try spool.deferEntry(b.0.header.id, peer: node("000.01.00.H27"), error: "refused", delay: 60_000, now: SpoolFixture.now)
        #expect(try spool.retarget(from: node("000.01.00.H27"), to: node("000.02.00.H27"), now: SpoolFixture.now) == 2)
        let byPeer = Dictionary(grouping: try spool.queueEntries(), by: \.peer.rawValue).mapValues { Set($0.map(\.envelopeID)) }
        #expect(byPeer == ["000.02.00.H27": [a.0.header.id, b.0.header.id], "000.01.00.H27": [c.0.header.id]])
        #expect(try spool.queueEntries(peer: node("000.02.00.H27")).allSatisfy { $0.state == .ready })
    }

    @Test func figuresForStatusAndPeers() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let a = try f.envelope(size: 1000), b = try f.envelope(size: 2000)
        _ = try spool.accept(try f.incoming(a, hops: ["000.01.00.H27": ["000.01.01.H27"]]), now: SpoolFixture.now)
        _ = try spool.accept(try f.incoming(b, hops: ["000.01.00.H27": ["000.01.01.H27"], "000.02.00.H27": ["000.02.01.H27"]]), now: SpoolFixture.now + 10)
        let s = try spool.statistics()
        #expect(s.entriesByState == ["ready": 3] && s.oldestEnqueuedAt == SpoolFixture.now && s.inboxDocuments == 0)
        let backlog = try spool.backlog()
        #expect(backlog[node("000.01.00.H27")]?.entries == 2 && backlog[node("000.02.00.H27")]?.entries == 1)
        #expect(backlog[node("000.01.00.H27")]?.bytes == a.0.header.layout.bodySize + b.0.header.layout.bodySize)
    }
}
