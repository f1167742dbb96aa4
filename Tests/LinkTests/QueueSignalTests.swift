import Foundation
import Testing
import Envelope
import Spool
@testable import Link

/// The hand-off of Hỏa tốc envelopes to a live session (no network: sessions are stand-ins that
/// register a box, as `LinkSession.run` does).
@Suite struct QueueSignalTests {
    let district = LinkTestNet.district, other = LinkTestNet.otherDistrict

    /// An envelope in the hub's spool for a commune behind each district, and the hub's custody for it.
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
        let owner = NSObject(), box = HandoffBox {}
        signal.register(owner, peer: district, box: box) {}
        for urgency in Urgency.allCases {
            var (header, table, custody) = try envelope(net, urgency: urgency)
            #expect(Set(custody.nextHops.keys) == [district, other])
            let plan = signal.planHandoff(&custody, urgency: urgency)
            let hoaToc = urgency.rank == Urgency.hoaToc.rank
            #expect(custody.handedTo == (hoaToc ? [district] : []), "\(urgency)")
            #expect(!plan.coversAll(of: custody))  // the other district has no session: its sender is woken
            _ = plan.complete(accepted: false, header: header, table: table, custody: custody, now: 0)
        }
        signal.unregister(owner)
        var custody = try envelope(net, urgency: .hoaToc).2
        _ = signal.planHandoff(&custody, urgency: .hoaToc)
        #expect(custody.handedTo.isEmpty)  // no live session: claimed as usual
    }

    @Test func theSessionGetsWhatTheCustodyTransactionEnqueuedAndIsWokenForIt() throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let signal = QueueSignal()
        let woken = Counter(), notified = Counter()
        let owner = NSObject(), box = HandoffBox { woken.value.wrappingAdd(1, ordering: .relaxed) }
        signal.register(owner, peer: district, box: box) { notified.value.wrappingAdd(1, ordering: .relaxed) }
        var (header, table, custody) = try envelope(net, urgency: .hoaTocHenGio)
        let plan = signal.planHandoff(&custody, urgency: header.urgency)
        #expect(plan.complete(accepted: true, header: header, table: table, custody: custody, now: 1234).isEmpty)
        let taken = box.takeAll()
        // The sender is woken, but not told the queue changed (that would make it claim).
        #expect(taken.count == 1 && woken.value.load(ordering: .relaxed) == 1 && notified.value.load(ordering: .relaxed) == 0)
        let h = try #require(taken.first)
        #expect(h.header.id == header.id && h.table == table)
        #expect(h.entry == QueueEntry(envelopeID: header.id, peer: district, state: .inflight, urgency: .hoaTocHenGio, origin: LinkTestNet.hub,
                                      recipients: [LinkTestNet.commune], bodySize: UInt64(header.layout.bodySize), enqueuedAt: 1234,
                                      attempts: 1, nextAttemptAt: 1234, lastError: nil, expiresAt: header.expiresAt))
        #expect(box.takeAll().isEmpty)
    }

    @Test func aPlanFillsOnlyTheBoxItReservedAndANewSessionNeverGetsTheOldOnesHandOff() throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let signal = QueueSignal()
        let old = NSObject(), oldBox = HandoffBox {}
        signal.register(old, peer: district, box: oldBox) {}
        var (header, table, custody) = try envelope(net, urgency: .hoaToc)
        let plan = signal.planHandoff(&custody, urgency: .hoaToc)
        #expect(custody.handedTo == [district])
        // The link drops and comes back while the transaction commits: the old session closes its
        // box (and puts its in-flight entries back); the new one registers before the old is gone.
        oldBox.close()
        let new = NSObject(), newBox = HandoffBox {}
        signal.register(new, peer: district, box: newBox) {}
        #expect(plan.complete(accepted: true, header: header, table: table, custody: custody, now: 1) == [district])  // refused: put it back
        #expect(oldBox.takeAll().isEmpty && newBox.takeAll().isEmpty)
        // The next plan skips the closed box and reserves in the new session's.
        var again = custody
        let next = signal.planHandoff(&again, urgency: .hoaToc)
        #expect(again.handedTo == [district])
        #expect(next.complete(accepted: true, header: header, table: table, custody: again, now: 2).isEmpty)
        #expect(newBox.takeAll().map(\.entry.enqueuedAt) == [2] && oldBox.takeAll().isEmpty)
    }

    @Test func aFullBoxTakesNoMoreAndAGivenBackPlaceIsFreeAgain() throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let signal = QueueSignal()
        let owner = NSObject(), box = HandoffBox {}
        signal.register(owner, peer: district, box: box) {}
        let (header, table, custody) = try envelope(net, urgency: .hoaToc)
        var plans: [(HandoffPlan, Custody)] = []
        for _ in 0..<HandoffBox.capacity {
            var c = custody
            plans.append((signal.planHandoff(&c, urgency: .hoaToc), c))
            #expect(c.handedTo == [district])
        }
        // Reserved places count: a session that is not keeping up gets no more.
        var full = custody
        _ = signal.planHandoff(&full, urgency: .hoaToc)
        #expect(full.handedTo.isEmpty)
        // A duplicate (or a failed transaction) gives its place back.
        let (first, firstCustody) = plans.removeFirst()
        #expect(first.complete(accepted: false, header: header, table: table, custody: firstCustody, now: 1).isEmpty)
        var room = custody
        plans.append((signal.planHandoff(&room, urgency: .hoaToc), room))
        #expect(room.handedTo == [district])
        for (plan, c) in plans { #expect(plan.complete(accepted: true, header: header, table: table, custody: c, now: 1).isEmpty) }
        #expect(box.takeAll().count == HandoffBox.capacity)
    }
}
