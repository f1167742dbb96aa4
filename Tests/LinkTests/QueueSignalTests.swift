import Foundation
import Testing
import Envelope
import Spool
@testable import Link

/// The hand-off of Hỏa tốc envelopes to a live session (no network: sessions are stand-ins that
/// register a box, as `LinkSession.run` does).
@Suite struct QueueSignalTests {
    let district = LinkTestNet.district, other = LinkTestNet.otherDistrict

    /// An envelope in the hub's spool, and what the hub's custody for it looks like.
    func envelope(_ net: LinkTestNet, urgency: Urgency) throws -> (EnvelopeHeader, ChunkTable, Custody) {
        let id = try net.send(from: LinkTestNet.hub, to: [LinkTestNet.commune, node("000.02.01.H27")], size: 4096, urgency: urgency)
        let stored = try #require(try net.spool(LinkTestNet.hub).storedEnvelope(id))
        let custody = try Ingress(me: LinkTestNet.hub, topology: net.topology, spool: net.spool(LinkTestNet.hub)).custody(for: stored.header, from: "local")
        return (stored.header, stored.table, custody)
    }

    @Test func onlyHoaTocEnvelopesAreHandedAndOnlyToPeersWithALiveSession() throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let signal = QueueSignal()
        let owner = NSObject(), box = HandoffBox()
        signal.register(owner, peer: district, box: box) {}
        for urgency in Urgency.allCases {
            var custody = try envelope(net, urgency: urgency).2
            #expect(Set(custody.nextHops.keys) == [district, other])
            signal.planHandoff(&custody, urgency: urgency)
            #expect(custody.handedTo == (urgency.rank == Urgency.hoaToc.rank ? [district] : []), "\(urgency)")
        }
        signal.unregister(owner)
        var custody = try envelope(net, urgency: .hoaToc).2
        signal.planHandoff(&custody, urgency: .hoaToc)
        #expect(custody.handedTo.isEmpty)  // no live session: claimed as usual
    }

    @Test func theSessionGetsWhatTheCustodyTransactionEnqueued() throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let signal = QueueSignal()
        let owner = NSObject(), box = HandoffBox()
        let woken = Counter()
        signal.register(owner, peer: district, box: box) { woken.value.wrappingAdd(1, ordering: .relaxed) }
        var (header, table, custody) = try envelope(net, urgency: .hoaTocHenGio)
        signal.planHandoff(&custody, urgency: header.urgency)
        #expect(signal.handOff(header, table: table, custody: custody, now: 1234).isEmpty)
        let taken = box.takeAll()
        #expect(taken.count == 1 && woken.value.load(ordering: .relaxed) == 1)
        let h = try #require(taken.first)
        #expect(h.header.id == header.id && h.table == table)
        #expect(h.entry == QueueEntry(envelopeID: header.id, peer: district, state: .inflight, urgency: .hoaTocHenGio, origin: LinkTestNet.hub,
                                      recipients: [LinkTestNet.commune], bodySize: UInt64(header.layout.bodySize), enqueuedAt: 1234,
                                      attempts: 1, nextAttemptAt: 1234, lastError: nil, expiresAt: header.expiresAt))
        #expect(box.takeAll().isEmpty)
    }

    @Test func aSessionThatClosedOrFellBehindRefusesAndTheCallerPutsTheEntryBack() throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let signal = QueueSignal()
        let owner = NSObject(), box = HandoffBox()
        signal.register(owner, peer: district, box: box) {}
        var (header, table, custody) = try envelope(net, urgency: .hoaToc)
        signal.planHandoff(&custody, urgency: .hoaToc)
        // Full: a session that does not take its hand-offs gets no more of them.
        for _ in 0..<HandoffBox.capacity { #expect(signal.handOff(header, table: table, custody: custody, now: 1).isEmpty) }
        #expect(signal.handOff(header, table: table, custody: custody, now: 1) == [district])
        #expect(box.takeAll().count == HandoffBox.capacity)
        // Closed: the session is ending; its in-flight entries are being put back.
        box.close()
        #expect(signal.handOff(header, table: table, custody: custody, now: 1) == [district])
        #expect(box.takeAll().isEmpty)
    }
}
