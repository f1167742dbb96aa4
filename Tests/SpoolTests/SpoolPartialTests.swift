import Foundation
import Testing
import Envelope
@testable import Spool

/// Partial envelopes from peers: held to a per-peer quota, listed with their progress, dropped
/// when stale and deleted by an operator — each drop and deletion audited.
@Suite struct SpoolPartialTests {
    let now = SpoolFixture.now

    @Test func aPeersPartialsAreHeldToItsQuotaAndOthersAreNot() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let quota = PartialQuota(maxBytesPerPeer: 10_000, maxShareOfFreeDisk: 1)
        let a = try f.envelope(size: 6000, chunkSize: 1024), b = try f.envelope(size: 6000, chunkSize: 1024)
        #expect(try spool.begin(a.0, from: "000.01.01.H27", now: now, quota: quota) == .resume(from: 0))
        let refused = #expect(throws: SpoolError.self) {
            try spool.begin(b.0, from: "000.01.01.H27", now: now, quota: quota)
        }
        #expect(refused?.code == .partialQuota && refused?.message.contains("000.01.01.H27") == true)
        // Another peer has its own quota; resuming an envelope already begun is not held to it.
        #expect(try spool.begin(b.0, from: "000.01.02.H27", now: now, quota: quota) == .resume(from: 0))
        #expect(try spool.begin(a.0, from: "000.01.01.H27", now: now, quota: quota) == .resume(from: 0))
        // A share of free disk bounds what a peer holds at once, not how large one document may be:
        // a peer holding nothing may begin one that fits the disk; beside it, nothing more.
        let none = PartialQuota(maxBytesPerPeer: 1 << 40, maxShareOfFreeDisk: 0)
        let c = try f.envelope(size: 100, chunkSize: 1024), d = try f.envelope(size: 100, chunkSize: 1024)
        #expect(try spool.begin(c.0, from: "000.01.03.H27", now: now, quota: none) == .resume(from: 0))
        let beside = #expect(throws: SpoolError.self) {
            try spool.begin(d.0, from: "000.01.03.H27", now: now, quota: none)
        }
        #expect(beside?.code == .partialQuota)
        #expect((spool.freeDiskBytes() ?? 0) > 0)
    }

    @Test func partialsAreListedWithProgressDroppedWhenStaleAndDeletedAudited() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let stale = try f.envelope(size: 5000, chunkSize: 1024), moving = try f.envelope(size: 5000, chunkSize: 1024)
        let gone = try f.envelope(size: 3000, chunkSize: 1024)
        for e in [stale, moving, gone] { _ = try spool.begin(e.0, from: "000.01.01.H27", now: now) }
        _ = try spool.appendChunks(moving.0, first: 0, chunks: [moving.1[0], moving.1[1]], now: now + 3_600_000)
        let listed = try spool.partialEnvelopes()
        #expect(listed.count == 3)
        let m = try #require(listed.first { $0.envelopeID == moving.0.header.id })
        #expect(m.chunksStored == 2 && m.chunkCount == 5 && m.payloadSize == 5000 && m.peer == "000.01.01.H27")
        #expect(m.bytesStored == UInt64(moving.1[0].count + moving.1[1].count) && m.lastProgressAt == now + 3_600_000)
        #expect(try spool.partialEnvelopes(peer: "000.01.02.H27").isEmpty)

        // An operator deletes one; the janitor drops the one that made no progress for a day.
        #expect(try spool.deletePartials([gone.0.header.id], actor: "operator:t", reason: "thử", now: now) == 1)
        let dropped = try spool.dropStalePartials(idleSince: now + 1, now: now + 86_400_000)
        #expect(dropped.map(\.envelopeID) == [stale.0.header.id])
        #expect(try spool.partialEnvelopes().map(\.envelopeID) == [moving.0.header.id])
        #expect(try spool.storedEnvelope(stale.0.header.id) == nil)
        let audit = try spool.auditRecords()
        #expect(audit.contains { $0.event == .dropped && $0.envelopeID == stale.0.header.id && $0.actor == "node" })
        #expect(audit.contains {
            $0.event == .deleted && $0.envelopeID == gone.0.header.id && $0.actor == "operator:t"
        })
        #expect(try spool.verifyAudit().ok)
        // The sender starts again from the first chunk when it comes back.
        #expect(try spool.begin(stale.0, from: "000.01.01.H27", now: now) == .resume(from: 0))
    }
}
