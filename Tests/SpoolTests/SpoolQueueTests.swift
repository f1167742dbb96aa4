import Foundation
import Testing
import Envelope
@testable import Spool

@Suite struct SpoolQueueTests {
    let peer = node("000.01.00.H27")

    @Test func claimOrdersByUrgencyThenAgeAndMatchesThePurePolicy() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let plan: [(Urgency, Int64)] = [(.thuong, 0), (.khan, 10), (.hoaToc, 20), (.thuong, 5), (.hoaTocHenGio, 30), (.thuongKhan, 40), (.hoaToc, 1)]
        var ids: [Urgency: [EnvelopeID]] = [:]
        for (u, t) in plan {
            let e = try f.envelope(urgency: u)
            ids[u, default: []].append(e.0.header.id)
            _ = try spool.accept(try f.incoming(e), now: SpoolFixture.now + t)
        }
        let expected = QueuePolicy.due(try spool.queueEntries(peer: peer), now: SpoolFixture.now + 100, limit: 10).map(\.envelopeID)
        let claimed = try spool.claim(peer: peer, now: SpoolFixture.now + 100, limit: 10)
        #expect(claimed.map(\.envelopeID) == expected)
        #expect(claimed.map(\.urgency) == [.hoaToc, .hoaToc, .hoaTocHenGio, .thuongKhan, .khan, .thuong, .thuong])
        #expect(claimed.map(\.enqueuedAt) == [1, 20, 30, 40, 10, 0, 5].map { SpoolFixture.now + $0 })
        #expect(try spool.queueEntries(state: .inflight).count == 7)
        #expect(try spool.claim(peer: peer, now: SpoolFixture.now + 100, limit: 10).isEmpty)  // nothing claimed twice
    }

    @Test func inFlightEntriesReturnToReadyAtStartUp() throws {
        let f = try SpoolFixture()
        do {
            let spool = try f.open()
            _ = try spool.accept(try f.incoming(try f.envelope()), now: SpoolFixture.now)
            #expect(try spool.claim(peer: peer, now: SpoolFixture.now, limit: 5).count == 1)
            #expect(try spool.queueEntries(state: .inflight).count == 1)
        }
        // Opening the spool again (as the CLI does beside a running node) leaves the running
        // node's in-flight entries alone: returning them made its link offer them twice and stall.
        let reopened = try f.open()
        #expect(try reopened.queueEntries(state: .inflight).count == 1)
        // The daemon's start-up step returns them to ready.
        #expect(try reopened.resetInFlight() == 1)
        #expect(try reopened.queueEntries(state: .ready).count == 1)
        #expect(try reopened.queueEntries(state: .inflight).isEmpty)
    }

    @Test func nextAttemptIsWhenTheNextClaimableEntryFallsDue() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(urgency: .hoaToc)
        #expect(try spool.nextAttempt(peer: peer, now: SpoolFixture.now) == nil)
        #expect(try spool.accept(try f.incoming(e, hops: ["000.01.00.H27": ["000.01.01.H27"]]), now: SpoolFixture.now) == .accepted)
        #expect(try spool.nextAttempt(peer: peer, now: SpoolFixture.now) == SpoolFixture.now)
        // Claimed (in flight): nothing waits.
        #expect(try spool.claim(peer: peer, now: SpoolFixture.now, limit: 10).count == 1)
        #expect(try spool.nextAttempt(peer: peer, now: SpoolFixture.now) == nil)
        // Deferred: due when its backoff ends.
        try spool.deferEntry(e.0.header.id, peer: peer, error: "refused", delay: 60_000, now: SpoolFixture.now)
        #expect(try spool.nextAttempt(peer: peer, now: SpoolFixture.now) == SpoolFixture.now + 60_000)
        // Expired: never due.
        #expect(try spool.nextAttempt(peer: peer, now: e.0.header.expiresAt) == nil)
    }

    @Test func ackRemovesTheEntryOnceAndDropsTheBody() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope()
        _ = try spool.accept(try f.incoming(e, hops: ["000.01.00.H27": ["000.01.01.H27"], "000.02.00.H27": ["000.02.01.H27"]]), now: SpoolFixture.now)
        #expect(try spool.ack(e.0.header.id, peer: peer, now: SpoolFixture.now + 1))
        #expect(try !spool.ack(e.0.header.id, peer: peer, now: SpoolFixture.now + 2))  // idempotent
        #expect(try spool.storedEnvelope(e.0.header.id) != nil)  // still queued for the other peer
        #expect(try spool.ack(e.0.header.id, peer: node("000.02.00.H27"), now: SpoolFixture.now + 3))
        #expect(try spool.storedEnvelope(e.0.header.id) == nil)
        #expect(try spool.auditRecords().map(\.event) == [.accepted, .acked, .acked])
    }

    @Test func deferredEntriesWaitForTheirBackoff() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope()
        _ = try spool.accept(try f.incoming(e), now: SpoolFixture.now)
        _ = try spool.claim(peer: peer, now: SpoolFixture.now, limit: 1)
        try spool.deferEntry(e.0.header.id, peer: peer, error: "connection reset", delay: 10_000, now: SpoolFixture.now)
        let entry = try #require(try spool.queueEntries().first)
        #expect(entry.state == .deferred && entry.lastError == "connection reset" && entry.attempts == 1)
        #expect(entry.enqueuedAt == SpoolFixture.now && entry.nextAttemptAt == SpoolFixture.now + 10_000)  // age unchanged
        #expect(try spool.claim(peer: peer, now: SpoolFixture.now + 9_999, limit: 1).isEmpty)
        #expect(try spool.claim(peer: peer, now: SpoolFixture.now + 10_000, limit: 1).count == 1)
    }

    @Test func aQuarantinedEnvelopeNeverBlocksThePeer() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let bad = try f.envelope(urgency: .hoaToc), good = try f.envelope()
        _ = try spool.accept(try f.incoming(bad), now: SpoolFixture.now)
        _ = try spool.accept(try f.incoming(good), now: SpoolFixture.now + 1)
        _ = try spool.claim(peer: peer, now: SpoolFixture.now + 2, limit: 1)
        try spool.quarantine(bad.0.header.id, peer: peer, reason: "refused downstream: recipient unknown (permanent)", now: SpoolFixture.now + 3)
        #expect(try spool.claim(peer: peer, now: SpoolFixture.now + 4, limit: 5).map(\.envelopeID) == [good.0.header.id])
        #expect(try spool.queueEntries(state: .quarantined).first?.lastError?.contains("permanent") == true)
    }

    @Test func operatorHoldReleaseRetryDelete() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let a = try f.envelope(), b = try f.envelope()
        _ = try spool.accept(try f.incoming(a), now: SpoolFixture.now)
        _ = try spool.accept(try f.incoming(b, hops: ["000.02.00.H27": ["000.02.01.H27"]]), now: SpoolFixture.now)
        #expect(try spool.hold(.all(peer: peer), actor: "operator:an", now: SpoolFixture.now + 1) == 1)
        #expect(try spool.claim(peer: peer, now: SpoolFixture.now + 2, limit: 5).isEmpty)
        #expect(try spool.release(.envelopes([a.0.header.id], peer: nil), actor: "operator:an", now: SpoolFixture.now + 3) == 1)
        #expect(try spool.queueEntries(peer: peer).first?.state == .ready)
        _ = try spool.claim(peer: peer, now: SpoolFixture.now + 4, limit: 5)
        try spool.deferEntry(a.0.header.id, peer: peer, error: "timeout", delay: 3_600_000, now: SpoolFixture.now + 5)
        #expect(try spool.retry(.all(peer: nil), actor: "operator:an", now: SpoolFixture.now + 6) == 2)
        #expect(try spool.claim(peer: peer, now: SpoolFixture.now + 6, limit: 5).count == 1)
        #expect(try spool.delete(.envelopes([b.0.header.id], peer: nil), actor: "operator:an", reason: "sent by mistake", now: SpoolFixture.now + 7) == 1)
        #expect(try spool.queueEntries().count == 1)
        let deleted = try #require(try spool.auditRecords().last)
        #expect(deleted.event == .deleted && deleted.actor == "operator:an" && deleted.detail == "sent by mistake")
        #expect { try spool.hold(.envelopes([b.0.header.id], peer: nil), actor: "x", now: 0) } throws: { code(of: $0) == .notFound }
        #expect(try spool.verifyAudit().ok)
    }

    @Test func expiredEntriesBecomeUndeliverableEvents() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(recipients: ["000.01.01.H27", "000.01.02.H27"], lifetime: 60_000)
        _ = try spool.accept(try f.incoming(e, hops: ["000.01.00.H27": ["000.01.01.H27", "000.01.02.H27"]]), now: SpoolFixture.now)
        let partial = try f.envelope(size: 5000, chunkSize: 1024, lifetime: 60_000)
        _ = try spool.begin(partial.0, from: "p", now: SpoolFixture.now)
        #expect(try spool.expire(now: SpoolFixture.now + 59_999).isEmpty)
        let events = try spool.expire(now: SpoolFixture.now + 60_000)
        #expect(events == [UndeliverableEvent(envelopeID: e.0.header.id, origin: f.originID, kind: .document, peer: peer,
                                              recipients: [node("000.01.01.H27"), node("000.01.02.H27")], expiresAt: SpoolFixture.now + 60_000)])
        #expect(try spool.queueEntries().isEmpty)
        #expect(try spool.storedEnvelope(partial.0.header.id) == nil)
        #expect(try spool.auditRecords().last?.event == .expired)
    }

    @Test func inboxStatusAndReceiptsOnlyMoveForward() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let e = try f.envelope(recipients: ["000.01.01.H27", "000.01.02.H27"])
        _ = try spool.accept(try f.incoming(e, local: true, track: true), now: SpoolFixture.now)
        let id = e.0.header.id
        #expect(try spool.inboxEntry(id)?.status == .arrived)
        #expect(try spool.setInboxStatus(id, .processing, reason: nil, actor: "operator:van-thu", now: SpoolFixture.now + 1))
        #expect(try !spool.setInboxStatus(id, .accepted, reason: nil, actor: "operator:van-thu", now: SpoolFixture.now + 2))
        #expect(try spool.inboxEntry(id)?.status == .processing)
        let r = node("000.01.01.H27")
        #expect(try spool.tracking(id).map(\.status) == [.pending, .pending])
        #expect(try spool.applyReceipt(id, recipient: r, status: .accepted, reason: nil, at: SpoolFixture.now + 3))
        #expect(try !spool.applyReceipt(id, recipient: r, status: .arrived, reason: nil, at: SpoolFixture.now + 4))  // late 01 does not go back
        #expect(try spool.applyReceipt(id, recipient: r, status: .rejected, reason: "sai thẩm quyền", at: SpoolFixture.now + 5))
        #expect(try !spool.applyReceipt(id, recipient: r, status: .done, reason: nil, at: SpoolFixture.now + 6))  // final
        let other = node("000.01.02.H27")
        #expect(try spool.applyReceipt(id, recipient: other, status: .undeliverable, reason: nil, at: SpoolFixture.now + 7))
        #expect(try spool.applyReceipt(id, recipient: other, status: .arrived, reason: nil, at: SpoolFixture.now + 8))  // it arrived after all
        #expect(try spool.tracking(id).map(\.status) == [.rejected, .arrived])
        #expect(try spool.tracking(id).first?.reason == "sai thẩm quyền")
    }
}

@Suite struct QueuePolicyTests {
    struct FakeRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    @Test func retryBackoffDoublesWithinBoundsAndCaps() {
        let p = RetryPolicy(base: 10_000, cap: 1_800_000)
        #expect((1...12).map { p.ceiling(attempts: $0) } == [10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 1_800_000, 1_800_000, 1_800_000, 1_800_000])
        var rng = FakeRandom(state: 42)
        for attempts in 1...40 {
            let c = p.ceiling(attempts: attempts)
            for _ in 0..<50 {
                let d = p.delay(attempts: attempts, using: &rng)
                #expect(d >= c / 2 && d <= c)
            }
        }
        // Jitter spreads retries out.
        let delays = Set((0..<50).map { _ in p.delay(attempts: 5, using: &rng) })
        #expect(delays.count > 40)
    }

    @Test func linkBackoffIsSeparateAndResetsOnSuccess() {
        var link = LinkBackoff(base: 1_000, cap: 300_000)
        var rng = FakeRandom(state: 7)
        var now: Int64 = 0
        for n in 1...15 {
            let next = link.recordFailure(now: now, using: &rng)
            #expect(next >= now && next <= now + min(300_000, 1_000 << (n - 1)))
            #expect(!link.mayAttempt(now: next - 1) || next == now)
            #expect(link.mayAttempt(now: next))
            now = next
        }
        #expect(link.failures == 15)
        link.recordSuccess()
        #expect(link.failures == 0 && link.mayAttempt(now: 0))
        let next = link.recordFailure(now: 1_000_000, using: &rng)
        #expect(next <= 1_001_000)
    }
}
