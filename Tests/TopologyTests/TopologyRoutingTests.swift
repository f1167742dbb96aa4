import Envelope
import Testing
@testable import Topology

@Suite("Routes and next hops")
struct TopologyRoutingTests {
    let hub = id("000.00.00.H27")
    let tinhUy = id("000.00.01.H27")

    @Test("commune to commune across districts goes commune → district → hub → district → commune")
    func pathAcrossDistricts() throws {
        let t = try loadHoaBinh()
        let p = try t.path(from: id("000.01.11.H27"), to: id("000.02.03.H27"))
        #expect(p == [id("000.01.11.H27"), id("000.01.00.H27"), hub, id("000.02.00.H27"), id("000.02.03.H27")])
    }

    @Test("paths within a district, up, down and to oneself")
    func otherPaths() throws {
        let t = try loadHoaBinh()
        #expect(try t.path(from: id("000.03.01.H27"), to: id("000.03.02.H27"))
                == [id("000.03.01.H27"), id("000.03.00.H27"), id("000.03.02.H27")])
        #expect(try t.path(from: id("000.03.01.H27"), to: tinhUy) == [id("000.03.01.H27"), id("000.03.00.H27"), hub, tinhUy])
        #expect(try t.path(from: tinhUy, to: id("000.10.10.H27")) == [tinhUy, hub, id("000.10.00.H27"), id("000.10.10.H27")])
        #expect(try t.path(from: hub, to: id("000.04.00.H27")) == [hub, id("000.04.00.H27")])
        #expect(try t.path(from: id("000.04.00.H27"), to: hub) == [id("000.04.00.H27"), hub])
        #expect(try t.path(from: tinhUy, to: tinhUy) == [tinhUy])
    }

    @Test("a broadcast from Tỉnh ủy to all 151 communes leaves as one copy, to the hub")
    func broadcastFromTinhUy() throws {
        let t = try loadHoaBinh()
        let communes = t.nodes.filter { $0.level == .commune }.map(\.id)
        #expect(communes.count == 151)
        let plan = try t.nextHops(from: tinhUy, recipients: communes)
        #expect(!plan.local)
        #expect(plan.nextHops == [hub])
        #expect(plan.byNextHop[hub] == communes.sorted())
    }

    @Test("from the hub the broadcast splits into exactly the 10 districts")
    func broadcastFromHub() throws {
        let t = try loadHoaBinh()
        let communes = t.nodes.filter { $0.level == .commune }.map(\.id)
        let plan = try t.nextHops(from: hub, recipients: communes)
        let districts = t.nodes.filter { $0.level == .district }.map(\.id)
        #expect(plan.nextHops == districts.sorted())
        #expect(plan.byNextHop.values.reduce(0) { $0 + $1.count } == 151)
        #expect(plan.recipientCount == 151)
        for d in districts { #expect(plan.byNextHop[d] == t.children(of: d).sorted()) }
    }

    @Test("from a district each of its communes is its own next hop; others go up")
    func fromDistrict() throws {
        let t = try loadHoaBinh()
        let d = id("000.05.00.H27")
        let own = t.children(of: d)
        let plan = try t.nextHops(from: d, recipients: own + [id("000.06.01.H27"), tinhUy])
        #expect(plan.byNextHop.count == own.count + 1)
        for c in own { #expect(plan.byNextHop[c] == [c]) }
        #expect(plan.byNextHop[hub] == [tinhUy, id("000.06.01.H27")].sorted())
    }

    @Test("the sender among the recipients is flagged local; duplicates count once")
    func localAndDuplicates() throws {
        let t = try loadHoaBinh()
        let c = id("000.01.05.H27")
        let plan = try t.nextHops(from: hub, recipients: [hub, c, c, c])
        #expect(plan.local)
        #expect(plan.byNextHop == [id("000.01.00.H27"): [c]])
        #expect(plan.recipientCount == 2)
        let onlyLocal = try t.nextHops(from: c, recipients: [c])
        #expect(onlyLocal.local && onlyLocal.byNextHop.isEmpty)
        let none = try t.nextHops(from: c, recipients: [NodeID]())
        #expect(!none.local && none.byNextHop.isEmpty)
    }

    @Test("an unknown recipient or sender is TOPO-UNKNOWN-NODE naming it")
    func unknownRecipient() throws {
        let t = try loadHoaBinh()
        let e = expectTopologyError(.unknownNode) {
            _ = try t.nextHops(from: hub, recipients: [id("000.01.01.H27"), id("000.99.99.H27")])
        }
        #expect(e?.node == id("000.99.99.H27"))
        #expect(e?.message.contains("000.99.99.H27") == true)
        expectTopologyError(.unknownNode) { _ = try t.nextHops(from: id("ghost"), recipients: [hub]) }
        expectTopologyError(.unknownNode) { _ = try t.path(from: hub, to: id("ghost")) }
        expectTopologyError(.unknownNode) { _ = try t.nextHop(from: id("ghost"), to: hub) }
    }

    @Test("nextHop for single recipients")
    func singleNextHop() throws {
        let t = try loadHoaBinh()
        #expect(try t.nextHop(from: hub, to: id("000.07.03.H27")) == id("000.07.00.H27"))
        #expect(try t.nextHop(from: id("000.07.03.H27"), to: id("000.07.04.H27")) == id("000.07.00.H27"))
        #expect(try t.nextHop(from: hub, to: hub) == nil)
    }

    @Test("routing follows primary parents; failover parents are neighbours only")
    func failover() throws {
        let t = try decode(document(tinyNodes + [node("C13", parents: ["D1", "D2"])]))
        #expect(try t.path(from: id("C13"), to: id("C21")) == [id("C13"), id("D1"), id("P"), id("D2"), id("C21")])
        #expect(try t.nextHops(from: id("D2"), recipients: [id("C13")]).byNextHop == [id("P"): [id("C13")]])
        #expect(try t.nextHops(from: id("D1"), recipients: [id("C13")]).byNextHop == [id("C13"): [id("C13")]])
    }

    @Test("deeper trees (villages) route through every level")
    func villages() throws {
        let t = try decode(document(tinyNodes + [node("V1", parents: ["C11"], level: "village"),
                                                 node("V2", parents: ["C21"], level: "village")]))
        #expect(t.maxDepth == 3)
        #expect(try t.path(from: id("V1"), to: id("V2")).map(\.rawValue) == ["V1", "C11", "D1", "P", "D2", "C21", "V2"])
        let plan = try t.nextHops(from: id("D1"), recipients: [id("V1"), id("C12"), id("V2")])
        #expect(plan.byNextHop == [id("C11"): [id("V1")], id("C12"): [id("C12")], id("P"): [id("V2")]])
    }

    @Test("2,000 recipients on the province tree route quickly")
    func manyRecipients() throws {
        let t = try loadHoaBinh()
        let all = t.nodes.map(\.id)
        let recipients = (0..<2_000).map { all[$0 % all.count] }
        let start = ContinuousClock.now
        for _ in 0..<10 { _ = try t.nextHops(from: id("000.03.04.H27"), recipients: recipients) }
        let elapsed = ContinuousClock.now - start
        let plan = try t.nextHops(from: id("000.03.04.H27"), recipients: recipients)
        #expect(plan.local)
        #expect(plan.recipientCount == 167)
        #expect(plan.nextHops == [id("000.03.00.H27")])
        // Ten plans in well under a second even in a debug build (they take milliseconds).
        #expect(elapsed < .seconds(1), "10 × 2,000-recipient plans took \(elapsed)")
    }

    @Test("2,000 distinct recipients on a large synthetic tree")
    func largeTree() throws {
        var nodes = [node("P", parents: [], level: "province")]
        for d in 0..<20 {
            nodes.append(node("D\(d)", parents: ["P"], level: "district"))
            for c in 0..<120 { nodes.append(node("C\(d)-\(c)", parents: ["D\(d)"])) }
        }
        let t = try decode(document(nodes))
        let communes = t.nodes.filter { $0.level == .commune }.prefix(2_000).map(\.id)
        let plan = try t.nextHops(from: id("P"), recipients: communes)
        #expect(plan.recipientCount == 2_000)
        #expect(plan.byNextHop.count == 17)  // 2,000 = 16 full districts of 120 + 80 in the 17th
    }
}
