import Foundation
import Testing
import Envelope
import SodiumKit
import Spool
import Wire
@testable import Gate

/// The one way into the queue, without a network: sessions are stand-ins that register a hint
/// box and a wake-up, as `LinkSession.run` does.
@Suite struct CustodyGateTests {
    let hub = GateTestNet.hub, district = GateTestNet.district, other = GateTestNet.otherDistrict

    /// A signal with one stand-in session per peer given; what each was told.
    final class Sessions: @unchecked Sendable {
        let signal = QueueSignal()
        let boxes: [NodeID: HintBox]
        let woken: [NodeID: Counter]
        private let owners: [NSObject]

        init(_ peers: [NodeID]) {
            var boxes: [NodeID: HintBox] = [:]
            var woken: [NodeID: Counter] = [:]
            var owners: [NSObject] = []
            for p in peers {
                let owner = NSObject(), box = HintBox(), counter = Counter()
                signal.register(owner, peer: p, hints: box) { counter.add() }
                boxes[p] = box
                woken[p] = counter
                owners.append(owner)
            }
            self.boxes = boxes
            self.woken = woken
            self.owners = owners
        }

        func hinted(_ p: NodeID) -> [EnvelopeID] { boxes[p]!.takeAll().map(\.entry.envelopeID) }
    }

    @Test func aCommitWakesTheSendersThatMustClaimAndHintsHoaTocEnvelopesToTheirNextHops() throws {
        let net = try GateTestNet()
        let sessions = Sessions([district, other])
        let to = [GateTestNet.commune, GateTestNet.otherCommune]
        // Thường: queued, both senders woken to claim it, nothing hinted.
        let plain = try net.send(from: hub, to: to, size: 4000, signal: sessions.signal)
        #expect(sessions.woken[district]!.count == 1 && sessions.woken[other]!.count == 1)
        #expect(sessions.hinted(district).isEmpty && sessions.hinted(other).isEmpty)
        #expect(Set(try net.spool(hub).queueEntries().filter { $0.envelopeID == plain }.map(\.peer)) == [district, other])
        // Hỏa tốc: both next hops have a live session and take the hint; no one needs to claim.
        let urgent = try net.send(from: hub, to: to, size: 4000, urgency: .hoaToc, signal: sessions.signal)
        #expect(sessions.hinted(district) == [urgent] && sessions.hinted(other) == [urgent])
        #expect(sessions.woken[district]!.count == 1 && sessions.woken[other]!.count == 1)
        // The rows are there whatever happens to the hints.
        let rows = try net.spool(hub).queueEntries().filter { $0.envelopeID == urgent }
        #expect(rows.map(\.state) == [.ready, .ready] && rows.allSatisfy { $0.attempts == 0 })
    }

    @Test func aHoaTocEnvelopeWithoutALiveSessionForOneHopWakesTheSendersInstead() throws {
        let net = try GateTestNet()
        let sessions = Sessions([district])
        let urgent = try net.send(
            from: hub, to: [GateTestNet.commune, GateTestNet.otherCommune], size: 4000, urgency: .hoaToc,
            signal: sessions.signal)
        #expect(sessions.hinted(district) == [urgent])
        #expect(sessions.woken[district]!.count == 1)  // notified: the other hop's session may come up
    }

    @Test func aDuplicateOrAFailedTransactionHintsAndWakesNoOne() throws {
        let net = try GateTestNet()
        let sessions = Sessions([district])
        let e = try net.seal(from: hub, to: [GateTestNet.commune], size: 4000, urgency: .hoaToc)
        let gate = try net.gate(hub, signal: sessions.signal)
        let incoming = IncomingEnvelope(
            verifier: try ChunkVerifier(header: e.header, table: e.table), chunks: e.chunks, from: "local",
            custody: try gate.custody(for: e.header, from: "local"))
        #expect(try gate.accept([incoming], now: GateTestNet.now) == [.accepted])
        #expect(sessions.hinted(district) == [e.header.id])
        #expect(try gate.accept([incoming], now: GateTestNet.now) == [.duplicate])
        struct Broken: Error {}
        #expect(throws: Broken.self) {
            _ = try gate.commit([(e.header, e.table, incoming.custody)], now: GateTestNet.now) { _ in throw Broken() }
        }
        #expect(sessions.hinted(district).isEmpty && sessions.woken[district]!.count == 0)
    }

    @Test func offlineTheGateCommitsWithNoOneToWake() throws {
        let net = try GateTestNet()
        let id = try net.send(from: hub, to: [GateTestNet.commune], size: 4000, urgency: .hoaToc)
        #expect(try net.spool(hub).queueEntries().map(\.envelopeID) == [id])
    }

    /// `envelope import` goes through the same commit: hinted or woken like a link's envelope.
    @Test func anImportedFileGoesThroughTheSameCommit() throws {
        let net = try GateTestNet()
        let sessions = Sessions([district])
        let gate = try net.gate(hub, signal: sessions.signal)
        for (urgency, hinted) in [(Urgency.thuong, false), (.hoaToc, true)] {
            let e = try net.seal(from: GateTestNet.otherDistrict, to: [GateTestNet.commune], size: 200_000, urgency: urgency)
            let file = net.dir + "/\(e.header.id.hex).lte"
            try Data(e.header.encoded + e.table.bytes + e.body).write(to: URL(fileURLWithPath: file))
            let before = sessions.woken[district]!.count
            let (_, result, custody) = try gate.acceptFile(file, from: other.rawValue, now: GateTestNet.now)
            #expect(result == .accepted && Array(custody.nextHops.keys) == [district])
            #expect(sessions.hinted(district) == (hinted ? [e.header.id] : []), "\(urgency)")
            #expect(sessions.woken[district]!.count == before + (hinted ? 0 : 1), "\(urgency)")
            #expect(try gate.acceptFile(file, from: other.rawValue, now: GateTestNet.now).1 == .duplicate)
        }
    }

    @Test func anEnvelopeIsNeverRoutedBackToTheNeighbourItCameFrom() throws {
        let net = try GateTestNet()
        let gate = try net.gate(hub)
        let both = try net.seal(from: district, to: [GateTestNet.commune, GateTestNet.otherCommune], size: 100)
        #expect(Array(try gate.custody(for: both.header, from: district.rawValue).nextHops.keys) == [other])
        let back = try net.seal(from: district, to: [GateTestNet.commune], size: 100)
        let error = try #require(throws: IngressError.self) { try gate.custody(for: back.header, from: district.rawValue) }
        #expect(error.reason == .notRoutedHere && error.errorCode == "INGRESS-NOT-ROUTED-HERE")
        // From here (a local send), the same recipients are routed down the tree.
        #expect(Array(try gate.custody(for: back.header, from: "local").nextHops.keys) == [district])
    }
}
