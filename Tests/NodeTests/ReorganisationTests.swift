import Control
import Foundation
import Testing

/// The 2025 reorganisation on a small tree (issue 18, point 6): while documents are in flight and
/// two communes are offline, the authority retires both districts into the province, re-parents
/// every commune to it and merges commune 01.02 into 01.01. Every node applies it without a
/// restart; every document arrives exactly once at its recipient or that recipient's successor;
/// every receipt comes back.
@Suite(.serialized)
struct ReorganisationTests {
    struct Status: Decodable { let topologyVersion: Int? }

    @Test func theDistrictLevelIsRemovedUnderTrafficAndNothingIsLostOrDeliveredTwice() throws {
        let net = try TestNetwork()
        try net.startAll()
        defer { net.stopAll() }
        // The successors take the retired units' keys first (and restart), as the runbook says.
        for (successor, retired) in [(hub, district1), (hub, district2), (commune11, commune12)] {
            try net.cli(successor, "keys", "adopt", "--from", net.home(retired))
        }
        for n in [hub, commune11] {
            _ = net.stop(n)
            try net.start([n])
        }
        // 01.02 and 02.02 go offline: what is for them waits at their districts.
        _ = net.stop(commune12)
        _ = net.stop(commune22)
        let allCommunes = [commune11, commune12, commune21, commune22]
        var directives: [String] = []
        for i in 0..<3 {
            directives.append(
                try net.cli(
                    hub, "send", "--to", allCommunes.joined(separator: ","), "--subject", "Chỉ thị \(i)"
                ).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var reports: [(from: String, id: String)] = []
        for c in [commune11, commune21] {
            for i in 0..<2 { reports.append((c, try net.send(from: c, to: hub, subject: "Báo cáo \(i) của \(c)"))) }
        }
        let districtReport = try net.send(from: district1, to: hub, subject: "Báo cáo cuối của huyện")
        let forRetired = try net.send(from: hub, to: commune12, subject: "Gửi xã 01.02")

        // Version 2, published at once, while all that is on its way.
        let pids = [hub, district1, district2, commune11, commune21].map { net.pid($0) }
        let file = try TopologyUpdateTests.signed(net, version: 2) { nodes in
            for i in nodes.indices {
                switch nodes[i]["id"] as? String {
                case district1, district2: nodes[i]["mergedInto"] = hub
                case commune12:
                    nodes[i]["mergedInto"] = commune11
                    nodes[i]["parents"] = [hub]
                case commune11, commune21, commune22: nodes[i]["parents"] = [hub]
                default: break
                }
            }
        }
        let published = Date()
        try net.cli(hub, "topology", "publish", file)
        try waitUntil("the running nodes have version 2") {
            try [hub, district1, district2, commune11, commune21].allSatisfy {
                try net.json(Status.self, $0, "status").topologyVersion == 2
            }
        }
        let reached = Date().timeIntervalSince(published)
        #expect([hub, district1, district2, commune11, commune21].map { net.pid($0) } == pids, "no restart")
        // Sent after the change to a retired unit: its successor answers.
        let afterToRetired = try net.send(from: hub, to: district2, subject: "Gửi huyện đã giải thể")
        // 02.02 comes back with version 1; 01.02 never does (merged).
        try net.start([commune22])

        do {
            try waitUntil("every commune has every directive, once", timeout: 120) {
                try [commune11, commune21, commune22].allSatisfy {
                    let ids = try net.inbox($0).map(\.id)
                    return directives.allSatisfy(ids.contains)
                }
            }
            try waitUntil("01.01 has the document for 01.02", timeout: 60) {
                try net.inbox(commune11).map(\.id).contains(forRetired)
            }
            try waitUntil("the province has every report and the one for its retired district", timeout: 60) {
                let ids = Set(try net.inbox(hub).map(\.id))
                return ids.isSuperset(of: reports.map(\.id) + [districtReport, afterToRetired])
            }
            try waitUntil("every 01 is back", timeout: 120) {
                try directives.allSatisfy { try net.track(hub, $0).counts["01"] == 4 }
                    && net.track(hub, forRetired).counts["01"] == 1
                    && reports.allSatisfy { try net.track($0.from, $0.id).counts["01"] == 1 }
                    // The retired district still runs: receipts for its own sending reach it.
                    && net.track(district1, districtReport).counts["01"] == 1
            }
        } catch {
            for n in net.nodes where net.isRunning(n) {
                print("=== \(n)\n" + net.log(n).split(separator: "\n").suffix(30).joined(separator: "\n"))
                print((try? net.cli(n, "queue", "list")) ?? "")
            }
            throw error
        }
        // Exactly once: 01.01 holds three directives and the one for 01.02; the others three each.
        #expect(try net.inbox(commune11).count == directives.count + 1)
        #expect(try net.inbox(commune21).count == directives.count)
        #expect(try net.inbox(commune22).count == directives.count)
        #expect(try net.inbox(hub).count == reports.count + 2)
        let c12 = try #require(try net.track(hub, directives[0]).entries.first { $0.recipient == commune12 })
        #expect(c12.status == "01" && (c12.reason ?? "").contains("\(commune11) nhận thay"))
        // Every commune now hangs under the province.
        struct Peer: Decodable { let peer: String, connected: Bool }
        try waitUntil("the communes' links are with the province") {
            try [commune11, commune21, commune22].allSatisfy {
                try net.json([Peer].self, $0, "peers").contains { $0.peer == hub && $0.connected }
            }
        }
        print("reorganisation: version 2 on the five running nodes \(String(format: "%.1f", reached)) s after publish")
    }

    /// A commune that was down through the update, whose retired district then restarted (and so
    /// has no children under the new tree): the district still listens for the previous tree's
    /// children, tells the commune, and the commune moves to the province and gets what waits there.
    @Test func aCommuneThatMissedTheUpdateStillMovesAfterItsRetiredDistrictRestarted() throws {
        let net = try TestNetwork()
        try net.startAll()
        defer { net.stopAll() }
        _ = net.stop(commune22)
        let file = try TopologyUpdateTests.signed(net, version: 2) { nodes in
            for i in nodes.indices {
                switch nodes[i]["id"] as? String {
                case district2: nodes[i]["mergedInto"] = hub
                case commune21, commune22: nodes[i]["parents"] = [hub]
                default: break
                }
            }
        }
        try net.cli(hub, "topology", "publish", file)
        try waitUntil("the running nodes have version 2") {
            try [hub, district1, district2, commune11, commune12, commune21].allSatisfy {
                try net.json(Status.self, $0, "status").topologyVersion == 2
            }
        }
        _ = net.stop(district2)
        try net.start([district2])
        let id = try net.send(from: hub, to: commune22, subject: "Gửi xã vắng mặt khi đổi cây")
        try net.start([commune22])
        do {
            try waitUntil("02.02 is told version 2 and has the document", timeout: 60) {
                try net.json(Status.self, commune22, "status").topologyVersion == 2
                    && net.inbox(commune22).map(\.id) == [id]
            }
            try waitUntil("its 01 is back at the province") { try net.track(hub, id).counts["01"] == 1 }
        } catch {
            for n in [district2, commune22] { print("=== \(n)\n" + net.log(n)) }
            throw error
        }
        #expect(net.log(district2).contains("listening for children"), "the retired district listened after its restart")
    }

    /// The province had a district's broadcast (for the other district's communes) and handed it on;
    /// the district is retired, so the copy it still holds for its offline commune moves up to the
    /// province. The province has seen that envelope, from that district: it takes it again (the
    /// route changed since) instead of answering "duplicate", and the commune gets it once.
    @Test func theProvinceTakesAgainWhatARetiredDistrictMovesToItAfterHandingItOnBefore() throws {
        let net = try TestNetwork()
        try net.startAll()
        defer { net.stopAll() }
        _ = net.stop(commune12)
        let id = try net.send(from: district1, to: [commune11, commune12, commune21, commune22].joined(separator: ","))
        try waitUntil("three communes have it; 01.02's copy waits at its district") {
            try [commune11, commune21, commune22].allSatisfy { try net.inbox($0).map(\.id) == [id] }
                && net.json(QueueList.self, district1, "queue", "list").entries.map(\.peer) == [commune12]
        }
        let file = try TopologyUpdateTests.signed(net, version: 2) { nodes in
            for i in nodes.indices {
                switch nodes[i]["id"] as? String {
                case district1: nodes[i]["mergedInto"] = hub
                case commune11, commune12: nodes[i]["parents"] = [hub]
                default: break
                }
            }
        }
        try net.cli(hub, "topology", "publish", file)
        try net.start([commune12])
        do {
            try waitUntil("01.02 has it, once, and its 01 is back at the district", timeout: 60) {
                try net.inbox(commune12).map(\.id) == [id] && net.track(district1, id).counts["01"] == 4
            }
        } catch {
            for n in [hub, district1, commune12] {
                print("=== \(n)\n" + ((try? net.cli(n, "audit", "list", "--limit", "200")) ?? ""))
            }
            throw error
        }
        let hubAudit = try net.cli(hub, "audit", "list", "--limit", "500")
        #expect(hubAudit.contains("taken again from \(district1)"))
        for c in [commune11, commune21, commune22] { #expect(try net.inbox(c).map(\.id) == [id], "still once at \(c)") }
    }
}

