import Control
import Foundation
import Testing

/// Units merged into others (issue 18, point 3; the 2025 mergers): what was queued for a retired
/// commune, and what is sent to it afterwards, reaches its successor's inbox once, and the
/// successor's receipts answer for it at the sender.
@Suite(.serialized)
struct MergedUnitTests {
    struct Status: Decodable { let topologyVersion: Int? }

    @Test func aMergedCommunesDocumentsReachItsSuccessorOnceAndItsReceiptsAnswerForIt() throws {
        let net = try TestNetwork()
        // Communes 01.02 and 02.02 are offline: the province's documents for them wait at their districts.
        try net.start([hub, district1, district2, commune11, commune21])
        defer { net.stopAll() }
        let before = try (0..<3).map { try net.send(from: hub, to: commune12, subject: "Công văn \($0)") }
        let waiting = try net.send(from: hub, to: commune22, subject: "Công văn chờ khóa")
        try waitUntil("the districts hold them") {
            try net.json(QueueList.self, district1, "queue", "list").entries.filter { $0.peer == commune12 }.count == 3
                && net.json(QueueList.self, district2, "queue", "list").entries.contains { $0.peer == commune22 }
        }
        // 01.01 adopts 01.02's key (and restarts); 02.01 is not given 02.02's key yet.
        let adopted = try net.cli(commune11, "keys", "adopt", "--from", net.home(commune12))
        #expect(adopted.contains("adopted the encryption key of \(commune12)"))
        var refused = ""
        do { try net.cli(commune11, "keys", "adopt", "--from", net.home(commune11)) } catch { refused = "\(error)" }
        #expect(refused.contains("KEYS-ADOPT"))
        _ = net.stop(commune11)
        try net.start([commune11])

        // Version 2: 01.02 merged into 01.01, 02.02 into 02.01.
        let file = try TopologyUpdateTests.signed(net, version: 2) { nodes in
            for i in nodes.indices {
                if nodes[i]["id"] as? String == commune12 { nodes[i]["mergedInto"] = commune11 }
                if nodes[i]["id"] as? String == commune22 { nodes[i]["mergedInto"] = commune21 }
            }
        }
        try net.cli(hub, "topology", "publish", file)
        try waitUntil("the running nodes have version 2") {
            try [hub, district1, district2, commune11, commune21].allSatisfy {
                try net.json(Status.self, $0, "status").topologyVersion == 2
            }
        }
        // Sent to the retired commune after the merge: routed to its successor as well.
        let after = try net.send(from: hub, to: commune12, subject: "Công văn sau sáp nhập")
        let all = before + [after]
        try waitUntil("01.01 has all four, each once", timeout: 60) {
            Set(try net.inbox(commune11).map(\.id)) == Set(all)
        }
        try waitUntil("every 01 is back at the province, for 01.02", timeout: 60) {
            try all.allSatisfy { try net.track(hub, $0).counts["01"] == 1 }
        }
        let entry = try #require(try net.track(hub, after).entries.first)
        #expect(entry.recipient == commune12 && (entry.reason ?? "").contains("\(commune11) nhận thay"))
        #expect(try net.inbox(commune11).count == 4, "each exactly once")
        let shown = try net.cli(commune11, "inbox", "show", before[0])
        #expect(shown.contains("Công văn 0"))
        // District 1 holds none of them (only the topology update for 01.02, should it come back).
        try waitUntil("district 1 holds none of the documents") {
            try net.json(QueueList.self, district1, "queue", "list").entries.allSatisfy { !all.contains($0.id) }
        }

        // A recall of what was sent to the retired commune goes to its successor, which answers for it.
        try net.cli(hub, "recall", after, "--reason", "Ban hành nhầm")
        try waitUntil("01.01 sees the recall") {
            try net.inbox(commune11).first { $0.id == after }?.recall == "13"
        }
        try net.cli(commune11, "inbox", "recall", "accept", after)
        try waitUntil("the province sees 15 for 01.02") { try net.track(hub, after).counts["15"] == 1 }

        // 02.01 without 02.02's key refuses it for now, saying what to do; the district keeps it.
        try waitUntil("02.01 refuses it, naming keys adopt", timeout: 30) {
            net.log(district2).contains("keys adopt")
        }
        #expect(try net.json(QueueList.self, district2, "queue", "list").entries.contains { $0.peer == commune21 })
        #expect(try net.inbox(commune21).isEmpty)
        // Given the key and restarted, it takes it.
        try net.cli(commune21, "keys", "adopt", "--from", net.home(commune22))
        _ = net.stop(commune21)
        try net.start([commune21])
        try waitUntil("02.01 has it", timeout: 90) { try net.inbox(commune21).map(\.id) == [waiting] }
        try waitUntil("its 01 is back at the province", timeout: 60) { try net.track(hub, waiting).counts["01"] == 1 }
    }
}
