import Envelope
import Testing
@testable import Topology

/// Retired units (`mergedInto`, the 2025 reorganisation): validation, successors, routing.
@Suite("Merged units")
struct TopologyMergeTests {
    /// tinyNodes after a merge: C12 merged into C11, and D2 retired into P with C21 moved under P.
    static let merged = [
        node("P", parents: [], level: "province", name: "Tỉnh"),
        node("D1", parents: ["P"], level: "district", name: "Huyện Một"),
        node("D2", parents: ["P"], level: "district", name: "Huyện Hai", extra: ", \"mergedInto\": \"P\""),
        node("C11", parents: ["D1"]),
        node("C12", parents: ["D1"], extra: ", \"mergedInto\": \"C11\""),
        node("C21", parents: ["P"]),
    ]

    @Test("successors, predecessors, and a retired node is still a leaf of its parent")
    func successors() throws {
        let t = try decode(document(Self.merged))
        #expect(t.successor(of: id("C12")) == id("C11") && t.successor(of: id("D2")) == id("P"))
        #expect(t.successor(of: id("C11")) == id("C11") && t.successor(of: id("ghost")) == nil)
        #expect(t.predecessors(of: id("C11")) == [id("C12")] && t.predecessors(of: id("P")) == [id("D2")])
        #expect(t.predecessors(of: id("D1")).isEmpty)
        #expect(t[id("C12")]?.isRetired == true && t[id("C11")]?.isRetired == false)
        #expect(t.neighbours(of: id("D2")) == [id("P")])  // it may still hand on what it holds
    }

    @Test("a chain of merges ends at a live node")
    func chains() throws {
        var nodes = Self.merged
        nodes[3] = node("C11", parents: ["D1"], extra: ", \"mergedInto\": \"C21\"")
        let t = try decode(document(nodes))
        #expect(t.successor(of: id("C12")) == id("C21"))
        #expect(t.predecessors(of: id("C21")) == [id("C11"), id("C12")])
    }

    @Test("envelopes for a retired unit go to its successor, still named as themselves")
    func routing() throws {
        let t = try decode(document(Self.merged))
        // From the province: C12 lies behind D1 (its successor C11 does); D2 is the province itself.
        let atP = try t.nextHops(from: id("P"), recipients: [id("C12"), id("D2"), id("C21")])
        #expect(atP.local)
        #expect(atP.byNextHop == [id("D1"): [id("C12")], id("C21"): [id("C21")]])
        let atD1 = try t.nextHops(from: id("D1"), recipients: [id("C12")])
        #expect(!atD1.local && atD1.byNextHop == [id("C11"): [id("C12")]])
        #expect(try t.nextHops(from: id("C11"), recipients: [id("C12")]).local)
        #expect(try t.nextHop(from: id("D1"), to: id("C12")) == id("C11"))
        // A retired relay still running sends everything up, even what is addressed to itself.
        #expect(try t.nextHops(from: id("D2"), recipients: [id("D2"), id("C21")]).byNextHop
                == [id("P"): [id("C21"), id("D2")]])
    }

    @Test("bad merges are refused, naming the node")
    func refusals() throws {
        var itself = Self.merged
        itself[4] = node("C12", parents: ["D1"], extra: ", \"mergedInto\": \"C12\"")
        expectTopologyError(.badMerge) { _ = try decode(document(itself)) }
        var unknown = Self.merged
        unknown[4] = node("C12", parents: ["D1"], extra: ", \"mergedInto\": \"C99\"")
        let e = expectTopologyError(.badMerge) { _ = try decode(document(unknown)) }
        #expect(e?.node == id("C12") && e?.message.contains("C99") == true)
        var loop = Self.merged
        loop[3] = node("C11", parents: ["D1"], extra: ", \"mergedInto\": \"C12\"")
        #expect(expectTopologyError(.badMerge) { _ = try decode(document(loop)) }?.message.contains("loop") == true)
        // A retired district that still has a commune under it.
        var parent = Self.merged
        parent[5] = node("C21", parents: ["D2"])
        let p = expectTopologyError(.badMerge) { _ = try decode(document(parent)) }
        #expect(p?.node == id("C21") && p?.message.contains("re-parent") == true)
        var failover = Self.merged
        failover[5] = node("C21", parents: ["P", "D2"])
        expectTopologyError(.badMerge) { _ = try decode(document(failover)) }
        var badID = Self.merged
        badID[4] = node("C12", parents: ["D1"], extra: ", \"mergedInto\": \"bad id!\"")
        expectTopologyError(.invalidID) { _ = try decode(document(badID)) }
        var notText = Self.merged
        notText[4] = node("C12", parents: ["D1"], extra: ", \"mergedInto\": 7")
        expectTopologyError(.syntax) { _ = try decode(document(notText)) }
    }

    @Test("mergedInto survives encoding")
    func encoding() throws {
        let t = try decode(document(Self.merged))
        let again = try Topology.decode(t.encoded())
        #expect(again.nodes == t.nodes)
        #expect(again.successor(of: id("C12")) == id("C11"))
    }
}
