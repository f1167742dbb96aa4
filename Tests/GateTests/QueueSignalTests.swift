import Foundation
@testable import Gate
import Testing
import Envelope
import Spool


/// Hints of Hỏa tốc envelopes to a live session (no network: sessions are stand-ins that
/// register a box, as `LinkSession.run` does). A hint is a copy in memory: the entry is ready in
/// the spool whatever happens to it.
@Suite struct QueueSignalTests {
    let district = GateTestNet.district, other = GateTestNet.otherDistrict

    /// An envelope in the hub's spool for a commune behind each district, and the hub's custody for it.
    func envelope(_ net: GateTestNet, urgency: Urgency) throws -> (EnvelopeHeader, ChunkTable, Custody) {
        let id = try net.send(from: GateTestNet.hub, to: [GateTestNet.commune, GateTestNet.otherCommune], size: 4096, urgency: urgency)
        let stored = try #require(try net.spool(GateTestNet.hub).storedEnvelope(id))
        let custody = try CustodyGate(me: GateTestNet.hub, topology: net.topology, spool: net.spool(GateTestNet.hub)).custody(for: stored.header, from: "local")
        return (stored.header, stored.table, custody)
    }

    @Test func onlyHoaTocEnvelopesAreHintedAndOnlyToPeersWithALiveSession() throws {
        let net = try GateTestNet()
        let signal = QueueSignal()
        let owner = NSObject(), box = HintBox()
        signal.register(owner, peer: district, hints: box) {}
        for urgency in Urgency.allCases {
            let (header, table, custody) = try envelope(net, urgency: urgency)
            #expect(Set(custody.nextHops.keys) == [district, other])
            // The other district has no session: its sender must be woken to claim.
            #expect(!signal.hint(header, table, custody, now: 0))
            let hoaToc = urgency.rank == Urgency.hoaToc.rank
            #expect(box.takeAll().map(\.entry.peer) == (hoaToc ? [district] : []), "\(urgency)")
        }
        signal.unregister(owner)
        let (header, table, custody) = try envelope(net, urgency: .hoaToc)
        #expect(!signal.hint(header, table, custody, now: 0))
        #expect(box.takeAll().isEmpty)  // no live session: claimed as usual
    }

    @Test func theHintIsTheEntryAsTheCustodyTransactionWroteItAndWakesOnlyThatSender() throws {
        let net = try GateTestNet()
        let signal = QueueSignal()
        let woken = Counter(), notified = Counter()
        let owner = NSObject(), box = HintBox { woken.add() }
        signal.register(owner, peer: district, hints: box) { notified.add() }
        let (header, table, custody) = try envelope(net, urgency: .hoaTocHenGio)
        let row = try #require(try net.spool(GateTestNet.hub).queueEntries(peer: district, envelope: header.id).first)
        #expect(row.state == .ready && row.attempts == 0)
        _ = signal.hint(header, table, custody, now: row.enqueuedAt)
        let taken = box.takeAll()
        // The sender is woken, but not told the queue changed (that would make it claim).
        #expect(taken.count == 1 && woken.count == 1 && notified.count == 0)
        let h = try #require(taken.first)
        #expect(h.header.id == header.id && h.table == table)
        #expect(h.entry == row)
        #expect(box.takeAll().isEmpty)
    }

    @Test func aClosedBoxTakesNoHintAndTheNextSessionGetsTheNextOnes() throws {
        let net = try GateTestNet()
        let signal = QueueSignal()
        let old = NSObject(), oldBox = HintBox()
        signal.register(old, peer: district, hints: oldBox) {}
        let (header, table, custody) = try envelope(net, urgency: .hoaToc)
        var only = custody
        only.nextHops[other] = nil
        #expect(signal.hint(header, table, only, now: 1))
        // The link drops: the old session closes its box (its hints are dropped; the entry is
        // still ready in the spool); the new one registers before the old is gone.
        oldBox.close()
        #expect(oldBox.takeAll().isEmpty)
        #expect(try net.spool(GateTestNet.hub).queueEntries(peer: district, envelope: header.id).map(\.state) == [.ready])
        let new = NSObject(), newBox = HintBox()
        signal.register(new, peer: district, hints: newBox) {}
        #expect(signal.hint(header, table, only, now: 2))
        #expect(newBox.takeAll().map(\.entry.enqueuedAt) == [2] && oldBox.takeAll().isEmpty)
        signal.unregister(new)
        #expect(!signal.hint(header, table, only, now: 3))  // closed box only: the senders are woken
    }

    @Test func aFullBoxTakesNoMore() throws {
        let net = try GateTestNet()
        let signal = QueueSignal()
        let owner = NSObject(), box = HintBox(capacity: 4)
        signal.register(owner, peer: district, hints: box) {}
        var (header, table, custody) = try envelope(net, urgency: .hoaToc)
        custody.nextHops[other] = nil
        for _ in 0..<4 { #expect(signal.hint(header, table, custody, now: 1)) }
        #expect(!signal.hint(header, table, custody, now: 1))  // not keeping up: claimed in order instead
        #expect(box.takeAll().count == 4)
        #expect(signal.hint(header, table, custody, now: 1))  // room again
    }
}
