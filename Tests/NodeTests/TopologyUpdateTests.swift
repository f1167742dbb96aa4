import Control
import Foundation
import Testing

/// Signed topology updates on real daemons (issue 18): published at the province, flooded once
/// per link, applied without a restart; a commune moved to another district receives what its
/// old district was holding for it, once.
@Suite(.serialized)
struct TopologyUpdateTests {
    struct Status: Decodable { let topologyVersion: Int? }
    struct Event: Decodable { let event: String, detail: String?, peer: String? }

    /// net/topology.json changed by `edit`, signed as `version` by the network's authority.
    static func signed(_ net: TestNetwork, version: Int, _ edit: (inout [[String: Any]]) -> Void) throws -> String {
        var topology = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: net.dir + "/net/topology.json"))) as? [String: Any] ?? [:]
        var nodes = topology["nodes"] as? [[String: Any]] ?? []
        edit(&nodes)
        topology["nodes"] = nodes
        let plain = net.dir + "/topology-v\(version).json"
        try JSONSerialization.data(withJSONObject: topology).write(to: URL(fileURLWithPath: plain))
        let out = net.dir + "/topology-v\(version).signed.json"
        try net.cli([
            "topology", "sign", plain, "--authority", net.dir + "/net/authority", "--version", "\(version)", "--out", out,
        ])
        return out
    }

    func version(_ net: TestNetwork, _ node: String) throws -> Int? {
        try net.json(Status.self, node, "status").topologyVersion
    }

    @Test func anUpdateFloodsOncePerLinkAndEveryNodeAppliesItWithoutARestart() throws {
        let net = try TestNetwork()
        try net.startAll()
        defer { net.stopAll() }
        let file = try Self.signed(net, version: 2) { nodes in
            nodes[0]["name"] = "Trục liên thông tỉnh Hòa Bình (2025)"
        }
        let said = try net.cli(hub, "topology", "publish", file)
        #expect(said.contains("version 2 in force") && said.contains("2 neighbour"))
        try waitUntil("every node has version 2") { try net.nodes.allSatisfy { try version(net, $0) == 2 } }
        let pids = net.nodes.map { net.pid($0) }
        for node in net.nodes {
            let audit = try net.json([Event].self, node, "audit", "list", "--limit", "10000")
            let applied = audit.filter { $0.event == "topology" && ($0.detail ?? "").contains("applied version 2") }
            #expect(applied.count == 1, "\(node) applied it \(applied.count) times")
            // One copy per link: each node but the province got it from exactly one neighbour.
            let copies = audit.filter {
                $0.event == "accepted" && $0.peer != "local" && ($0.detail ?? "").contains("kind=control")
            }
            #expect(copies.count == (node == hub ? 0 : 1), "\(node) received \(copies.count) copies")
        }
        #expect(net.nodes.map { net.pid($0) } == pids, "no daemon restarted")
        // An older or the same version, a forged file and another authority's are refused, named.
        var stale = ""
        do { try net.cli(hub, "topology", "publish", file) } catch { stale = "\(error)" }
        #expect(stale.contains("TOPO-STALE-VERSION"))
        // The signed bytes altered (a version 3 slipped in) under the old signature.
        var wrapper = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as! [String: String]
        let inner = String(decoding: Data(base64Encoded: wrapper["topology"]!)!, as: UTF8.self)
        wrapper["topology"] = Data(inner.replacingOccurrences(of: "\"version\": 2", with: "\"version\": 3").utf8)
            .base64EncodedString()
        try JSONSerialization.data(withJSONObject: wrapper).write(to: URL(fileURLWithPath: net.dir + "/forged.json"))
        var refused = ""
        do { try net.cli(hub, "topology", "publish", net.dir + "/forged.json") } catch { refused = "\(error)" }
        #expect(refused.contains("TOPO-BAD-SIGNATURE"), "\(refused)")
        let hubAudit = try net.json([Event].self, hub, "audit", "list", "--limit", "10000")
        #expect(hubAudit.contains { $0.event == "topology" && ($0.detail ?? "").contains("refused an update") })
        try net.cli(["authority", "init", "--out", net.dir + "/rogue"])
        let plain = net.dir + "/topology-v2.json"
        let rogue = net.dir + "/rogue.signed.json"
        try net.cli(["topology", "sign", plain, "--authority", net.dir + "/rogue", "--version", "9", "--out", rogue])
        var wrong = ""
        do { try net.cli(hub, "topology", "publish", rogue) } catch { wrong = "\(error)" }
        #expect(wrong.contains("TOPO-WRONG-AUTHORITY"))
        #expect(try version(net, hub) == 2)
        let shown = try net.cli(commune22, "topology", "show")
        #expect(shown.contains("version 2"))
        #expect(try net.cli(commune22, "peers").contains("topology version 2"))
        // Version 3 leaves commune 000.02.02 out: the others apply it, the commune refuses it,
        // audited with the reason, and keeps version 2.
        let without = try Self.signed(net, version: 3) { nodes in nodes.removeAll { $0["id"] as? String == commune22 } }
        try net.cli(hub, "topology", "publish", without)
        try waitUntil("the commune refuses it") {
            try net.json([Event].self, commune22, "audit", "list", "--limit", "10000").contains {
                $0.event == "topology" && ($0.detail ?? "").contains("TOPO-NODE-MISSING")
            }
        }
        #expect(try version(net, commune22) == 2)
        try waitUntil("the others have version 3") {
            try net.nodes.filter { $0 != commune22 }.allSatisfy { try version(net, $0) == 3 }
        }
        // Its district lets it go once nothing is queued for it: it is no longer a neighbour.
        try waitUntil("district 2 closes the link to its former child", timeout: 30) {
            net.log(district2).contains("closing the link to a former neighbour")
        }
    }

    @Test func aCommuneMovedToAnotherDistrictGetsWhatItsOldDistrictHeldOnce() throws {
        let net = try TestNetwork()
        // The commune is down: the province's documents for it wait at its district.
        try net.start([hub, district1, district2, commune12, commune21])
        defer { net.stopAll() }
        var ids: [String] = []
        for i in 0..<5 { ids.append(try net.send(from: hub, to: commune11, subject: "Công văn \(i)")) }
        try waitUntil("district 1 holds them") {
            try net.json(QueueList.self, district1, "queue", "list").entries.filter { $0.peer == commune11 }.count == 5
        }
        // Version 2: commune 000.01.01 now hangs under district 2.
        let file = try Self.signed(net, version: 2) { nodes in
            for i in nodes.indices where nodes[i]["id"] as? String == commune11 { nodes[i]["parents"] = [district2] }
        }
        try net.cli(hub, "topology", "publish", file)
        try waitUntil("the running nodes have version 2") {
            try [hub, district1, district2].allSatisfy { try version(net, $0) == 2 }
        }
        // The commune comes back with version 1: its old district lets it in, tells it, and it
        // moves to district 2, where its documents are.
        try net.start([commune11])
        do {
            try waitUntil("the commune has version 2 and all five documents", timeout: 60) {
                try version(net, commune11) == 2 && Set(try net.inbox(commune11).map(\.id)) == Set(ids)
            }
        } catch {
            for n in [commune11, district1, district2, hub] {
                print("=== \(n)\n" + net.log(n).split(separator: "\n").suffix(40).joined(separator: "\n"))
                print((try? net.cli(n, "queue", "list")) ?? "")
            }
            throw error
        }
        try waitUntil("every 01 is back at the province", timeout: 60) {
            try ids.allSatisfy { try net.track(hub, $0).counts["01"] == 1 }
        }
        #expect(try net.inbox(commune11).count == 5, "each exactly once")
        try waitUntil("district 1 holds nothing") {
            try net.json(NodeStatusReport.self, district1, "status").queueTotal == 0
        }
        struct Peer: Decodable { let peer: String, connected: Bool }
        try waitUntil("the commune's link is with district 2") {
            try net.json([Peer].self, commune11, "peers").contains { $0.peer == district2 && $0.connected }
        }
        #expect(net.log(commune11).contains("parents changed with the topology"))
        // The province took the five back from district 1, which re-routed them up.
        let audit = try net.json([Event].self, hub, "audit", "list", "--limit", "10000")
        #expect(audit.filter { ($0.detail ?? "").contains("taken back from \(district1)") }.count == 5)
    }

    /// `topology install` into a running node's home and SIGHUP: applied and passed on, no restart.
    @Test func aTopologyInstalledAndReloadedWithSIGHUPIsAppliedAndPassedOn() throws {
        let net = try TestNetwork()
        try net.startAll()
        defer { net.stopAll() }
        let file = try Self.signed(net, version: 2) { nodes in nodes[1]["name"] = "Thành phố Hòa Bình (mới)" }
        try net.cli(hub, "topology", "install", file)
        let pid = try #require(net.pid(hub))
        kill(pid, SIGHUP)
        try waitUntil("every node has version 2") { try net.nodes.allSatisfy { try version(net, $0) == 2 } }
        #expect(net.pid(hub) == pid)
        #expect(net.log(hub).contains("topology version 2 in force"))
    }
}
