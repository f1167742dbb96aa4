import Envelope
import Foundation
import Node
import Spool
import Testing
import Topology

/// The re-routing plan of a topology update, pure: no spool, no network.
struct ReroutePlanTests {
    static let hubID = try! NodeID(hub), d1 = try! NodeID(district1), d2 = try! NodeID(district2)
    static let c11 = try! NodeID(commune11), c12 = try! NodeID(commune12), c21 = try! NodeID(commune21)

    static func id() throws -> EnvelopeID { try EnvelopeID(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }) }

    func topology(moving commune: NodeID? = nil, to parent: NodeID? = nil, dropping gone: NodeID? = nil) throws -> Topology {
        let old = try Topology.load(path: TestNetwork.repositoryRoot + "/Topology/small.json")
        let nodes = old.nodes.compactMap { n -> TopologyNode? in
            if n.id == gone { return nil }
            var n = n
            if n.id == commune, let parent { n.parents = [parent] }
            return n
        }
        return try Topology(network: old.network, nodes: nodes)
    }

    @Test func entriesWhoseNextHopChangedMoveAndTheOthersStay() throws {
        let e1 = try Self.id(), e2 = try Self.id(), e3 = try Self.id()
        let entries = [
            RoutedEntry(envelopeID: e1, peer: Self.c11, recipients: [Self.c11]),  // for the commune that moves
            RoutedEntry(envelopeID: e2, peer: Self.c12, recipients: [Self.c12]),  // stays
            RoutedEntry(envelopeID: e3, peer: Self.hubID, recipients: [Self.c21]),  // up to the province: stays
        ]
        let moved = try topology(moving: Self.c11, to: Self.d2)
        let plan = TopologyUpdater.reroutePlan(entries, me: Self.d1, topology: moved)
        #expect(plan == [QueueReroute(envelopeID: e1, fromPeer: Self.c11, to: [Self.hubID: [Self.c11]], dropped: [])])
        // Unchanged topology: nothing moves.
        #expect(TopologyUpdater.reroutePlan(entries, me: Self.d1, topology: try topology()).isEmpty)
    }

    @Test func recipientsSplitAcrossNewHopsAndGoneOnesAreNamed() throws {
        let e = try Self.id()
        // At the province: one entry to district 1 for both of its communes; one of them moves.
        let entries = [RoutedEntry(envelopeID: e, peer: Self.d1, recipients: [Self.c11, Self.c12])]
        let plan = TopologyUpdater.reroutePlan(entries, me: Self.hubID, topology: try topology(moving: Self.c11, to: Self.d2))
        #expect(plan == [QueueReroute(envelopeID: e, fromPeer: Self.d1, to: [Self.d1: [Self.c12], Self.d2: [Self.c11]], dropped: [])])
        let gone = TopologyUpdater.reroutePlan(entries, me: Self.hubID, topology: try topology(dropping: Self.c12))
        #expect(gone == [QueueReroute(envelopeID: e, fromPeer: Self.d1, to: [Self.d1: [Self.c11]], dropped: [Self.c12])])
    }

    /// small.json with commune 01.02 merged into 01.01 (its documents go to 01.01's inbox).
    func merged() throws -> Topology {
        let old = try Topology.load(path: TestNetwork.repositoryRoot + "/Topology/small.json")
        let nodes = old.nodes.map { n -> TopologyNode in
            var n = n
            if n.id == Self.c12 { n.mergedInto = Self.c11 }
            return n
        }
        return try Topology(network: old.network, nodes: nodes)
    }

    @Test func aRetiredUnitsEntriesGoToItsSuccessorAndIntoItsInboxOnceItHoldsTheKey() throws {
        let e = try Self.id()
        // District 1 holds it for the retired commune: it goes to the successor, still for 01.02.
        let atDistrict = TopologyUpdater.reroutePlan([RoutedEntry(envelopeID: e, peer: Self.c12, recipients: [Self.c12])], me: Self.d1, topology: try merged())
        #expect(atDistrict == [QueueReroute(envelopeID: e, fromPeer: Self.c12, to: [Self.c11: [Self.c12]], dropped: [])])
        // The successor holding an entry for it (say, it relays for it): into its own inbox, with the key.
        let entries = [RoutedEntry(envelopeID: e, peer: Self.c12, recipients: [Self.c12])]
        let withKey = TopologyUpdater.reroutePlan(entries, me: Self.c11, topology: try merged(), adopted: [Self.c12])
        #expect(withKey == [QueueReroute(envelopeID: e, fromPeer: Self.c12, to: [:], dropped: [], deliverHere: true)])
        // Without the key it stays where it is (and moves at the start after `keys adopt`).
        #expect(TopologyUpdater.reroutePlan(entries, me: Self.c11, topology: try merged()).isEmpty)
        // A receipt for the retired commune stays on its way to it, not to its successor: while
        // it runs, its tracking is its own.
        let receipt = [RoutedEntry(envelopeID: e, peer: Self.c12, recipients: [Self.c12], isDocument: false)]
        #expect(TopologyUpdater.reroutePlan(receipt, me: Self.d1, topology: try merged()).isEmpty)
    }
}

