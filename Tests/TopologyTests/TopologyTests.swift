import Envelope
import SodiumKit
import Testing
@testable import Topology

@Suite("Tree queries and provisioning setters")
struct TopologyTests {
    @Test("parents, children, neighbours, subtree, depth")
    func relations() throws {
        let t = try decode(document(tinyNodes + [node("C13", parents: ["D1", "D2"])]))
        #expect(t.root.id == id("P"))
        #expect(t.parents(of: id("C13")) == [id("D1"), id("D2")])
        #expect(t.primaryParent(of: id("C13")) == id("D1"))
        #expect(t.primaryParent(of: id("P")) == nil)
        #expect(t.children(of: id("D1")) == [id("C11"), id("C12"), id("C13")])
        #expect(t.children(of: id("D2")) == [id("C21")])
        #expect(t.failoverChildren(of: id("D2")) == [id("C13")])
        #expect(t.neighbours(of: id("D2")) == [id("P"), id("C21"), id("C13")])
        #expect(t.neighbours(of: id("C13")) == [id("D1"), id("D2")])
        #expect(t.areNeighbours(id("C13"), id("D2")) && t.areNeighbours(id("D2"), id("C13")))
        #expect(!t.areNeighbours(id("C11"), id("C12")) && !t.areNeighbours(id("P"), id("C11")))
        #expect(t.hasChildren(id("D2")) && !t.hasChildren(id("C21")))
        #expect(t.descendants(of: id("P")).map(\.rawValue) == ["D1", "C11", "C12", "C13", "D2", "C21"])
        #expect(t.subtree(of: id("D1")).map(\.rawValue) == ["D1", "C11", "C12", "C13"])
        #expect(t.descendants(of: id("C11")).isEmpty && t.subtree(of: id("C11")) == [id("C11")])
        #expect(t.depth(of: id("P")) == 0 && t.depth(of: id("D2")) == 1 && t.depth(of: id("C13")) == 2)
        #expect(t.maxDepth == 2)
        #expect(t.countByLevel == [.province: 1, .district: 2, .commune: 4])
    }

    @Test("unknown ids give empty answers, not crashes")
    func unknownQueries() throws {
        let t = try decode(document(tinyNodes))
        let ghost = id("ghost")
        #expect(!t.contains(ghost) && t[ghost] == nil)
        #expect(t.children(of: ghost).isEmpty && t.parents(of: ghost).isEmpty && t.neighbours(of: ghost).isEmpty)
        #expect(t.subtree(of: ghost).isEmpty && t.depth(of: ghost) == nil && t.primaryParent(of: ghost) == nil)
    }

    @Test("settingKeys sets one node's keys and nothing else")
    func settingKeys() throws {
        let t = try decode(document(tinyNodes))
        let (s, b) = freshKeys()
        let u = t.settingKeys(for: id("C12"), signing: s, encryption: b)
        #expect(u[id("C12")]?.signingKey == s && u[id("C12")]?.encryptionKey == b)
        #expect(t[id("C12")]?.signingKey == nil)  // the original is a value, untouched
        #expect(u.nodes.filter { $0.hasKeys }.map(\.id) == [id("C12")])
        let (s2, b2) = freshKeys()
        #expect(u.settingKeys(for: id("C12"), signing: s2, encryption: b2)[id("C12")]?.signingKey == s2)
        #expect(u.settingKeys(for: id("ghost"), signing: s2, encryption: b2).nodes == u.nodes)
    }

    @Test("settingEndpoint sets and clears an endpoint")
    func settingEndpoint() throws {
        let t = try decode(document(tinyNodes))
        let e = try Endpoint.parse("127.0.0.1:7101")
        let u = t.settingEndpoint(for: id("D1"), e)
        #expect(u[id("D1")]?.endpoint == e)
        #expect(u.nodes.compactMap(\.endpoint) == [e])
        #expect(u.settingEndpoint(for: id("D1"), nil)[id("D1")]?.endpoint == nil)
        // Queries still work on the copy: the precomputed maps are shared.
        #expect(try u.path(from: id("C11"), to: id("C21")).count == 5)
    }

    @Test("a topology can be built from nodes in code")
    func fromNodes() throws {
        let t = try Topology(network: "code-net", note: "built in code", nodes: [
            TopologyNode(id: id("P"), name: "Tỉnh", level: .province, parents: []),
            TopologyNode(id: id("D"), name: "Huyện", level: .district, parents: [id("P")]),
        ])
        #expect(t.children(of: id("P")) == [id("D")])
        expectTopologyError(.unknownParent) {
            _ = try Topology(network: "n", nodes: [TopologyNode(id: id("P"), name: "x", level: .province, parents: [id("Q")])])
        }
    }

    @Test("levels are ordered province < district < commune < village")
    func levels() {
        #expect(NodeLevel.allCases.sorted() == [.province, .district, .commune, .village])
        #expect(NodeLevel(rawValue: "commune") == .commune)
    }
}
