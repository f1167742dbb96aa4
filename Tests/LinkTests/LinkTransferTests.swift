import Foundation
import Testing
import Envelope
import Spool
import Wire
@testable import Link

@Suite(.serialized) struct LinkTransferTests {
    @Test func envelopesFlowBothWaysExactlyOnce() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let hub = LinkTestNet.hub, district = LinkTestNet.district
        var down: Set<EnvelopeID> = [], up: Set<EnvelopeID> = []
        for _ in 0..<1000 { down.insert(try net.send(from: hub, to: [district], size: 4096)) }
        for _ in 0..<1000 { up.insert(try net.send(from: district, to: [hub], size: 4096)) }
        down.insert(try net.send(from: hub, to: [district], size: 50 << 20))
        up.insert(try net.send(from: district, to: [hub], size: 50 << 20))

        let (port, listener) = try await net.listen(hub)
        let session = try net.dial(district, to: hub, port: port)
        let hubSpool = try net.spool(hub), districtSpool = try net.spool(district)
        let done = try await net.waitUntil(timeout: .seconds(120)) {
            try hubSpool.queueEntries().isEmpty && districtSpool.queueEntries().isEmpty
                && hubSpool.inbox(limit: 5000).count == 1001 && districtSpool.inbox(limit: 5000).count == 1001
        }
        session.cancel()
        listener.cancel()
        _ = try? await session.value
        #expect(done)
        // Exactly once: every envelope in the right inbox once, and nowhere else.
        #expect(Set(try districtSpool.inbox(limit: 5000).map(\.envelopeID)) == down)
        #expect(Set(try hubSpool.inbox(limit: 5000).map(\.envelopeID)) == up)
        #expect(try hubSpool.verifyAudit().ok && districtSpool.verifyAudit().ok)
        // Each side's audit shows one ACK per envelope it handed over.
        #expect(try districtSpool.auditRecords(limit: 10_000).filter { $0.event == .acked }.count == 1001)
    }

    @Test func anUrgentEnvelopeOvertakesABulkOneBetweenChunks() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let hub = LinkTestNet.hub, district = LinkTestNet.district
        var config = LinkConfiguration()
        config.window = 256 << 10
        let bulk = try net.send(from: hub, to: [district], size: 60 << 20, urgency: .thuong)
        let (port, listener) = try await net.listen(hub, configuration: config)
        let session = try net.dial(district, to: hub, port: port, configuration: config)
        let districtSpool = try net.spool(district)
        // Once the bulk transfer has started, an urgent one is sent.
        #expect(try await net.waitUntil { (try districtSpool.storedEnvelope(bulk)?.chunksStored ?? 0) > 20 })
        let urgent = try net.send(from: hub, to: [district], size: 2 << 20, urgency: .hoaToc)
        #expect(try await net.waitUntil { try districtSpool.inboxEntry(urgent) != nil })
        let bulkStoredWhenUrgentArrived = try districtSpool.storedEnvelope(bulk)
        #expect(bulkStoredWhenUrgentArrived?.complete == false)  // overtaken, not queued behind
        #expect(try await net.waitUntil { try districtSpool.inboxEntry(bulk) != nil })
        session.cancel()
        listener.cancel()
        _ = try? await session.value
    }

    /// A relay hands Hỏa tốc envelopes (one chunk, and several: both commit paths) from the
    /// custody commit straight to its live session with the next hop; with no session up it
    /// queues them as usual. Either way: exactly once, nothing left in flight.
    @Test func aRelayHandsUrgentEnvelopesOnAndQueuesThemWhenTheNextHopIsDown() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let hub = LinkTestNet.hub, district = LinkTestNet.district, commune = LinkTestNet.commune
        // The district's session with the commune does not poll its queue, and a hint does not
        // tell it the queue changed: an urgent envelope gets through only if it was hinted.
        let slow = LinkConfiguration()
        let (hubPort, hubListener) = try await net.listen(hub)
        let upstream = try net.dial(district, to: hub, port: hubPort)
        let log = SessionLog()
        let (districtPort, districtListener) = try await net.listen(district, configuration: slow, sessions: log)
        var downstream = try net.dial(commune, to: district, port: districtPort)
        let districtSpool = try net.spool(district), communeSpool = try net.spool(commune)
        #expect(try await net.waitUntil { net.signal(district).liveSessionCount == 2 })
        try await Task.sleep(for: .milliseconds(200))  // the session's first claim has run

        let small = try net.send(from: hub, to: [commune], size: 4096, urgency: .hoaToc)
        let large = try net.send(from: hub, to: [commune], size: 300_000, urgency: .hoaTocHenGio)  // 5 chunks
        net.signal(hub).notify()
        #expect(try await net.waitUntil(timeout: .seconds(30)) {
            try communeSpool.inboxEntry(small) != nil && communeSpool.inboxEntry(large) != nil && districtSpool.queueEntries().isEmpty
        })

        downstream.cancel()
        _ = try? await downstream.value
        #expect(try await net.waitUntil { net.signal(district).liveSessionCount == 1 && log.results.withLock({ $0.count }) == 1 })
        // Both were offered from the hand-off (the session's queue poll never came round).
        let first = try #require(try log.results.withLock { $0.first }?.get())
        #expect(first.envelopesHandedOff == 2 && first.envelopesSent == 2)
        let queued = try net.send(from: hub, to: [commune], size: 4096, urgency: .hoaToc)
        net.signal(hub).notify()
        #expect(try await net.waitUntil { try districtSpool.queueEntries(peer: commune).first?.envelopeID == queued })
        let entry = try districtSpool.queueEntries(peer: commune).first
        #expect(entry?.state == .ready && entry?.attempts == 0)  // not handed to a session that is gone
        downstream = try net.dial(commune, to: district, port: districtPort)
        #expect(try await net.waitUntil { try communeSpool.inboxEntry(queued) != nil && districtSpool.queueEntries().isEmpty })

        #expect(Set(try communeSpool.inbox(limit: 10).map(\.envelopeID)) == [small, large, queued])
        #expect(try communeSpool.inbox(limit: 10).count == 3)
        #expect(try districtSpool.auditRecords(limit: 100).filter { $0.event == .acked }.count == 3)
        for task in [upstream, downstream] { task.cancel(); _ = try? await task.value }
        hubListener.cancel()
        districtListener.cancel()
    }
}

@Suite(.serialized) struct LinkResumeTests {
    @Test(arguments: [UInt64(1), 42])
    func aCutLinkResumesFromTheLastStoredChunk(seed: UInt64) async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let hub = LinkTestNet.hub, district = LinkTestNet.district
        let id = try net.send(from: district, to: [hub], size: 50 << 20)
        let stored = try #require(try net.spool(district).storedEnvelope(id))
        let body = Int(stored.header.layout.bodySize)
        let offer = stored.header.encoded.count + stored.table.bytes.count + 64
        let (hubPort, listener) = try await net.listen(hub)
        let proxy = CuttingProxy(upstreamPort: hubPort, seed: seed, cutRange: (2 << 20)...(9 << 20), maxCuts: 5)
        let (proxyPort, proxyTask) = try await proxy.start(group: net.group)
        let hubSpool = try net.spool(hub)
        // The district redials whenever its link drops, as its daemon will.
        let districtSpool = try net.spool(district)
        let sessions = try await net.redialUntil(district, to: hub, port: proxyPort, maxSessions: 20) {
            try hubSpool.inboxEntry(id) != nil && districtSpool.queueEntries().isEmpty
        }
        // One session per cut plus the last one; on a loaded machine a session may also end for
        // another reason (and is then counted in the allowance below).
        #expect(sessions >= 6)
        proxyTask.cancel()
        listener.cancel()
        #expect(try hubSpool.inboxEntry(id) != nil)
        let cuts = proxy.cuts.load(ordering: .relaxed), forwarded = proxy.forwardedUp.load(ordering: .relaxed)
        #expect(cuts == 5)
        // Everything that crossed the link: the body once with its framing (58 bytes per chunk
        // frame), plus per session its handshake and the offer (signed header and chunk table,
        // sent again after each reconnection), plus at most one chunk per cut (the one being sent
        // when the link broke).
        let chunk = 65_536 + 17, chunks = body / chunk + 1
        let allowance = body + chunks * 58 + cuts * chunk + max(sessions, cuts + 1) * (offer + 1024)
        #expect(forwarded <= allowance, "forwarded \(forwarded) for a body of \(body) with \(cuts) cuts (allowed \(allowance))")
        print("resume: seed \(seed): \(cuts) cuts, \(forwarded) bytes crossed for a \(body)-byte body (\(String(format: "%.4f", Double(forwarded) / Double(body))))")
    }
}
