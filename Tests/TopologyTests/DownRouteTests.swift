import Envelope
import Testing
@testable import Topology

/// Down-routes after a failover (issue 18, point 5): pure, no network.
@Suite("Down-routes")
struct DownRouteTests {
    let nodes = tinyNodes + [node("C13", parents: ["D1", "D2"])]

    @Test("a child routed through its failover parent is reached there, and only there")
    func routing() throws {
        let t = try decode(document(nodes))
        #expect(try t.nextHop(from: id("P"), to: id("C13")) == id("D1"))
        let routed = t.routing([id("C13"): id("D2")])
        #expect(try routed.nextHop(from: id("P"), to: id("C13")) == id("D2"))
        #expect(try routed.nextHop(from: id("D1"), to: id("C13")) == id("P"))  // the primary hands it up
        #expect(try routed.nextHop(from: id("D2"), to: id("C13")) == id("C13"))
        #expect(routed.neighbours(of: id("C13")).sorted() == [id("D1"), id("D2")])  // same links
        // A route through a node that is not one of its parents changes nothing.
        #expect(try t.routing([id("C13"): id("P")]).nextHop(from: id("P"), to: id("C13")) == id("D1"))
        #expect(try t.routing([id("C11"): id("D2")]).nextHop(from: id("P"), to: id("C11")) == id("D1"))
    }

    @Test("the newest announcement wins; coming back keeps its time; a new tree drops what it forbids")
    func attach() throws {
        let t = try decode(document(nodes))
        let live = LiveTopology(t)
        #expect(live.attach(id("C13"), to: id("D2"), at: 10))
        #expect(try live.current.nextHop(from: id("P"), to: id("C13")) == id("D2"))
        #expect(!live.attach(id("C13"), to: id("D1"), at: 5))  // older: ignored
        #expect(!live.attach(id("C13"), to: id("P"), at: 20))  // not its parent
        #expect(live.attach(id("C13"), to: id("D1"), at: 30))  // back at its primary
        #expect(try live.current.nextHop(from: id("P"), to: id("C13")) == id("D1"))
        #expect(!live.attach(id("C13"), to: id("D2"), at: 25))  // a late notice from before it came back
        #expect(try live.current.nextHop(from: id("P"), to: id("C13")) == id("D1"))
        #expect(live.attach(id("C13"), to: id("D2"), at: 40))
        // Version 2 no longer lists D2 as a parent of C13: the route goes with it.
        let v2 = try decode(document(tinyNodes + [node("C13", parents: ["D1"])]))
        live.replace(with: v2, signed: [])
        #expect(live.routes.isEmpty)
        #expect(try live.current.nextHop(from: id("P"), to: id("C13")) == id("D1"))
        #expect(live.signedTopology.parents(of: id("C13")) == [id("D1")])
    }
}
