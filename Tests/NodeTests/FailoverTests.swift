import Foundation
import Testing
import Control

/// A commune with two parents (its district, then a neighbouring district as failover).
@Suite(.serialized)
struct FailoverTests {
    /// small.json with commune 000.01.01 also listing district 000.02.00 as a failover parent.
    static func topology() throws -> String {
        let source = try String(contentsOfFile: TestNetwork.repositoryRoot + "/Topology/small.json", encoding: .utf8)
        let changed = source.replacingOccurrences(of: #""id": "000.01.01.H27", "name": "Phường Thái Bình", "level": "commune", "gso": "04789", "parents": ["000.01.00.H27"]"#,
                                                  with: #""id": "000.01.01.H27", "name": "Phường Thái Bình", "level": "commune", "gso": "04789", "parents": ["000.01.00.H27", "000.02.00.H27"]"#)
        guard changed != source else { throw TestFailure("small.json changed; update the failover test's topology edit") }
        let path = NSTemporaryDirectory() + "lt-failover-\(UUID().uuidString.prefix(8)).json"
        try changed.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aCommuneFailsOverToItsSecondParentAndReturnsWhenThePrimaryIsBack() throws {
        let topology = try Self.topology()
        defer { unlink(topology) }
        let net = try TestNetwork(topology: topology, settings: ["failoverAfterMs": 1000])
        // The primary parent (district 1) is down from the start.
        try net.start([hub, district2, commune11])
        let id = try net.send(from: commune11, to: hub, subject: "Báo cáo qua đường dự phòng")
        try waitUntil("the report reaches the province through the failover parent", timeout: 30) { try net.inbox(hub).map(\.id) == [id] }
        let peers = try net.json([PeerReport].self, commune11, "peers")
        #expect(peers.first { $0.peer == district2 }?.role == "failover-parent")
        #expect(peers.first { $0.peer == district2 }?.connected == true)
        #expect(try net.json(QueueList.self, commune11, "queue", "list").entries.isEmpty)
        // The 01 receipt travels down the routing tree, through the primary: it waits there
        // until the primary is back and the commune has returned to it.
        try net.start([district1])
        try waitUntil("the commune returns to its primary and the receipt arrives", timeout: 30) {
            try net.track(commune11, id).counts["01"] == 1
        }
        try waitUntil("the primary link is up") { try net.json([PeerReport].self, commune11, "peers").first { $0.peer == district1 }?.connected == true }
        #expect(net.log(commune11).contains("failover: parent unreachable too long"))
        #expect(net.log(commune11).contains("primary parent reachable again"))
        net.stopAll()
    }

    /// Down-routing (issue 18, point 5): a document from the province for a commune that failed
    /// over reaches it through its failover parent; once it is back at its primary, the next one
    /// goes the normal way. Each arrives once.
    @Test func documentsForAFailedOverCommuneReachItThereAndGoBackTheNormalWayWhenItReturns() throws {
        struct Event: Decodable { let event: String, peer: String? }
        let topology = try Self.topology()
        defer { unlink(topology) }
        let net = try TestNetwork(topology: topology, settings: ["failoverAfterMs": 1000])
        defer { net.stopAll() }
        try net.start([hub, district2, commune11])
        try waitUntil("the commune is on its failover parent", timeout: 30) {
            try net.json([PeerReport].self, commune11, "peers").first { $0.peer == district2 }?.connected == true
        }
        let away = try net.send(from: hub, to: commune11, subject: "Gửi khi xã dùng đường dự phòng")
        try waitUntil("it reaches the commune through district 2", timeout: 60) {
            try net.inbox(commune11).map(\.id) == [away]
        }
        #expect(
            try net.json([Event].self, district2, "audit", "list", "--envelope", away).contains {
                $0.event == "accepted" && $0.peer == hub
            })
        // The primary comes back; the commune returns to it and the province hears of it.
        try net.start([district1])
        try waitUntil("the commune is back at district 1", timeout: 60) {
            try net.json([PeerReport].self, commune11, "peers").first { $0.peer == district1 }?.connected == true
        }
        try waitUntil("the province routes it through district 1 again", timeout: 60) {
            let data = FileManager.default.contents(atPath: net.home(hub) + "/routes.json") ?? Data()
            let routes = (try? JSONSerialization.jsonObject(with: data)) as? [String: [String: Any]]
            return routes?[commune11]?["parent"] as? String == district1
        }
        let back = try net.send(from: hub, to: commune11, subject: "Gửi khi xã đã về")
        try waitUntil("it arrives the normal way", timeout: 60) { Set(try net.inbox(commune11).map(\.id)) == [away, back] }
        #expect(
            try net.json([Event].self, district1, "audit", "list", "--envelope", back).contains {
                $0.event == "accepted" && $0.peer == hub
            })
        #expect(try net.inbox(commune11).count == 2, "each exactly once")
        try waitUntil("both 01 receipts are back") {
            try [away, back].allSatisfy { try net.track(hub, $0).counts["01"] == 1 }
        }
    }

    /// What the primary parent held for a commune that then failed over is handed back up and
    /// reaches it on its failover parent, once (issue 18, point 5).
    @Test func whatThePrimaryHeldForAFailedOverCommuneIsHandedOverOnce() throws {
        let topology = try Self.topology()
        defer { unlink(topology) }
        let net = try TestNetwork(topology: topology, settings: ["failoverAfterMs": 1000])
        defer { net.stopAll() }
        try net.start([hub, district1, district2])
        let held = try (0..<2).map { try net.send(from: hub, to: commune11, subject: "Chờ ở huyện \($0)") }
        try waitUntil("district 1 holds them for its offline commune") {
            try net.json(QueueList.self, district1, "queue", "list").entries.filter { $0.peer == commune11 }.count == 2
        }
        // The commune comes up unable to reach district 1 (its copy of the topology points at a
        // port nobody listens on), so it fails over to district 2.
        var tree = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: net.dir + "/net/topology.json"))) as? [String: Any] ?? [:]
        let dead = try TestNetwork.freePortBase(count: 1)
        tree["nodes"] = (tree["nodes"] as? [[String: Any]] ?? []).map { n in
            var n = n
            if n["id"] as? String == district1 { n["endpoint"] = "127.0.0.1:\(dead)" }
            return n
        }
        let own = net.dir + "/own-\(commune11).json"
        try JSONSerialization.data(withJSONObject: tree).write(to: URL(fileURLWithPath: own))
        try net.cli([
            "topology", "sign", own, "--authority", net.dir + "/net/authority", "--version", "1", "--out",
            net.home(commune11) + "/topology.json",
        ])
        try net.start([commune11])
        try waitUntil("both reach the commune through district 2", timeout: 60) {
            Set(try net.inbox(commune11).map(\.id)) == Set(held)
        }
        #expect(try net.inbox(commune11).count == 2, "each exactly once")
        try waitUntil("district 1 holds nothing for it") {
            try net.json(QueueList.self, district1, "queue", "list").entries.allSatisfy { $0.peer != commune11 }
        }
        do {
            try waitUntil("both 01 receipts are back") { try held.allSatisfy { try net.track(hub, $0).counts["01"] == 1 } }
        } catch {
            for n in [commune11, district2, district1, hub] {
                print("=== \(n)\n" + net.log(n).split(separator: "\n").suffix(25).joined(separator: "\n"))
                print((try? net.cli(n, "queue", "list")) ?? "")
                print((try? net.cli(n, "peers")) ?? "")
            }
            throw error
        }
    }
}

