import Foundation
import Testing
import Control
import Envelope
import Node

// Node ids of Topology/small.json: province hub, two districts, two communes under each.
let hub = "000.00.00.H27"
let district1 = "000.01.00.H27", district2 = "000.02.00.H27"
let commune11 = "000.01.01.H27", commune12 = "000.01.02.H27", commune21 = "000.02.01.H27", commune22 = "000.02.02.H27"
let communes = [commune11, commune12, commune21, commune22]

/// One audit row as `lienthong audit list --json` prints it.
struct AuditRow: Decodable {
    let seq: Int64
    let event: String
    let peer: String?
    let detail: String?
}

/// Real `lienthongd` processes on 127.0.0.1 (7 nodes, 3 levels), driven through the real CLI.
@Suite(.serialized)
struct NodeNetworkTests {
    func audit(_ net: TestNetwork, _ node: String, _ id: String) throws -> [AuditRow] {
        try net.json([AuditRow].self, node, "audit", "list", "--envelope", id, "--limit", "1000").sorted { $0.seq < $1.seq }
    }

    func arrived(_ t: TrackReport) -> Int { t.entries.filter { $0.status != "00" && $0.status != "undeliverable" }.count }

    @Test func aDocumentFromCommuneToCommuneInAnotherDistrictArrivesOnceAndIsTracked() throws {
        let net = try TestNetwork()
        try net.startAll()
        let file = try net.randomFile("bao-cao.bin", size: 300_000)
        let id = try net.send(from: commune11, to: commune22, subject: "Báo cáo tháng 11", files: [file])
        try waitUntil("the sender's track shows 01 from the recipient") { try net.track(commune11, id).counts["01"] == 1 }
        let t = try net.track(commune11, id)
        #expect(t.entries.map(\.recipient) == [commune22] && t.entries[0].status == "01")
        // Byte-identical at the recipient, and exactly once.
        let inbox = try net.inbox(commune22)
        #expect(inbox.map(\.id) == [id])
        try net.cli(commune22, "inbox", "export", String(id.prefix(12)), "--out", net.dir + "/export")
        #expect(FileManager.default.contents(atPath: net.dir + "/export/bao-cao.bin") == FileManager.default.contents(atPath: file))
        #expect(try audit(net, commune22, id).filter { $0.event == "delivered" }.count == 1)
        // Relays keep nothing once custody has passed on.
        for relay in [district1, hub, district2] {
            try waitUntil("\(relay)'s queue is empty") { try net.json(NodeStatusReport.self, relay, "status").queueTotal == 0 }
        }
        net.stopAll()
    }

    @Test func eachFileSendsOneDocumentPerFileAllArriveOnce() throws {
        let net = try TestNetwork()
        try net.start([hub, district1, commune12])
        // Odd sizes and an odd count, so the sealing threads share the work unevenly and results must stay in order.
        let files = try (0..<7).map { try net.randomFile("van-ban-\($0).bin", size: 1_000 + $0 * 9_973) }
        let ids = try net.send(from: hub, to: commune12, subject: "Công văn", files: files, extra: ["--each-file"])
            .split(separator: "\n").map(String.init)
        #expect(ids.count == 7 && Set(ids).count == 7)
        try waitUntil("all seven are in the commune's inbox") { try net.inbox(commune12).count == 7 }
        #expect(Set(try net.inbox(commune12).map(\.id)) == Set(ids))
        for (i, id) in ids.enumerated() {  // printed in file order: each id's document is that file
            let out = net.dir + "/export-\(i)"
            try net.cli(commune12, "inbox", "export", String(id.prefix(16)), "--out", out)
            #expect(FileManager.default.contents(atPath: out + "/van-ban-\(i).bin") == FileManager.default.contents(atPath: files[i]))
        }
        try waitUntil("the hub's track shows 01 for all seven") { try ids.allSatisfy { try net.track(hub, $0).counts["01"] == 1 } }
        net.stopAll()
    }

    @Test func aBroadcastFromTheProvinceLeavesOncePerLink() throws {
        let net = try TestNetwork()
        try net.startAll()
        let id = try net.cli(["send", "--home", net.home(hub), "--to", communes.joined(separator: ","), "--subject", "Chỉ thị 21-CT/TU",
                              "--urgency", "khan", "--file", try net.randomFile("chi-thi.bin", size: 150_000)])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try waitUntil("all four communes' 01 receipts are back") { arrived(try net.track(hub, id)) == 4 }
        // Custody acknowledged once per link: the hub handed it to each district once, each
        // district to each of its communes once.
        let hubAcks = try audit(net, hub, id).filter { $0.event == "acked" }
        #expect(hubAcks.count == 2 && Set(hubAcks.compactMap(\.peer)) == [district1, district2])
        for (district, children) in [(district1, [commune11, commune12]), (district2, [commune21, commune22])] {
            let acks = try audit(net, district, id).filter { $0.event == "acked" }
            #expect(acks.count == 2 && Set(acks.compactMap(\.peer)) == Set(children))
            #expect(try audit(net, district, id).filter { $0.event == "accepted" }.count == 1)
        }
        for c in communes { #expect(try net.inbox(c).map(\.id) == [id]) }
        net.stopAll()
    }

    @Test func aStoppedCommuneGetsEverythingAfterItRestarts() throws {
        let net = try TestNetwork()
        try net.startAll()
        #expect(net.stop(commune21) == 0)  // SIGTERM: a clean stop
        var ids: [String] = []
        for i in 0..<3 { ids.append(try net.send(from: hub, to: commune21, subject: "Công văn số \(i + 1)")) }
        try waitUntil("the district holds all three for the stopped commune") {
            try net.json(QueueList.self, district2, "queue", "list").entries.filter { $0.peer == commune21 }.count == 3
        }
        try net.start([commune21])
        try waitUntil("all three are delivered after the restart") { try ids.allSatisfy { try net.track(hub, $0).counts["01"] == 1 } }
        #expect(Set(try net.inbox(commune21).map(\.id)) == Set(ids))
        net.stopAll()
    }

    /// SIGKILL (crash) and SIGTERM (graceful stop at a chunk boundary) of the relay mid-transfer.
    @Test(arguments: [SIGKILL, SIGTERM])
    func theDistrictRelayStoppedMidTransferResumesWithoutDuplicate(signal: Int32) throws {
        let net = try TestNetwork()
        // The district's uplink capped at 5 MB/s, so the 20 MiB spend seconds half-way there.
        try net.putLinksBehindFlaky(children: [district1], seed: 1) { _ in ["bytesPerSecond": 5_000_000] }
        try net.startAll()
        let file = try net.randomFile("ban-do.bin", size: 20 << 20)
        let id = try net.send(from: hub, to: commune11, subject: "Bản đồ quy hoạch", files: [file])
        // Kill the district with SIGKILL while its spool holds part of the body.
        try waitUntil("part of the 20 MiB is stored at the district", timeout: 30) {
            let stored = try? net.json(StoredEnvelope.self, district1, "queue", "show", id)
            return (stored?.chunksStored ?? 0) > 0 && stored?.complete == false
        }
        let status = net.stop(district1, signal: signal)
        if signal == SIGTERM { #expect(status == 0) }  // a clean exit after committing what arrived
        // What the district holds now (its daemon is down): a partial copy is resumed, not restarted.
        // (None at all: it was complete and already handed on before the stop.)
        let left = try? net.json(StoredEnvelope.self, district1, "queue", "show", id)
        try net.start([district1])
        if let left, !left.complete {
            try waitUntil("the district resumes from the \(left.chunksStored) chunks it had", timeout: 30) {
                net.log(district1).contains("fromChunk=\(left.chunksStored)")
            }
        }
        try waitUntil("the document arrives after the restart", timeout: 90) { try net.track(hub, id).counts["01"] == 1 }
        #expect(try net.inbox(commune11).map(\.id) == [id])
        try net.cli(commune11, "inbox", "export", id, "--out", net.dir + "/export")
        #expect(FileManager.default.contents(atPath: net.dir + "/export/ban-do.bin") == FileManager.default.contents(atPath: file))
        #expect(try audit(net, commune11, id).filter { $0.event == "accepted" }.count == 1)
        #expect(try audit(net, district1, id).filter { $0.event == "accepted" }.count == 1)
        net.stopAll()
    }

    @Test func clerkStatusesTravelBackToTheOrigin() throws {
        let net = try TestNetwork()
        try net.startAll()
        let id = try net.send(from: hub, to: commune12, subject: "Kế hoạch")
        let other = try net.send(from: hub, to: commune12, subject: "Gửi nhầm")
        try waitUntil("both arrive") { try net.inbox(commune12).count == 2 }
        for verb in ["accept", "assign", "processing", "done"] { try net.cli(commune12, "inbox", verb, id) }
        try net.cli(commune12, "inbox", "reject", other, "--reason", "Không thuộc thẩm quyền")
        try waitUntil("06 reaches the origin") { try net.track(hub, id).counts["06"] == 1 }
        try waitUntil("02 with its reason reaches the origin") {
            let e = try net.track(hub, other).entries[0]
            return e.status == "02" && e.reason == "Không thuộc thẩm quyền"
        }
        // Every status was received in turn (03 … 06 recorded at the origin).
        let statuses = try audit(net, hub, id).filter { $0.event == "receipt" }.compactMap { $0.detail?.prefix(2) }
        #expect(statuses.map(String.init) == ["01", "03", "04", "05", "06"])
        // Receipts are not documents: the origin tracks exactly the two it sent.
        #expect(try net.json(NodeStatusReport.self, hub, "status").sentDocuments == 2)
        // A status never moves back.
        #expect(try net.cli(commune12, "inbox", "accept", id).contains("Unchanged"))
        net.stopAll()
    }

    @Test func aShortExpiryToACommuneThatStaysDownComesBackUndeliverable() throws {
        let net = try TestNetwork()
        try net.startAll()
        net.stop(commune22)
        let id = try net.send(from: hub, to: commune22, subject: "Hỏa tốc", extra: ["--expires", "3s", "--urgency", "hoa-toc"])
        try waitUntil("the origin learns it is undeliverable", timeout: 30) { try net.track(hub, id).entries[0].status == "undeliverable" }
        let entry = try net.track(hub, id).entries[0]
        #expect(entry.reason?.contains(district2) == true)
        #expect(try net.json(QueueList.self, district2, "queue", "list").entries.isEmpty)
        net.stopAll()
    }

    @Test func aHeldEntryStaysUntilReleased() throws {
        let net = try TestNetwork()
        // The commune's daemon is down: send offline, hold the entry, then start it.
        try net.start([hub, district1])
        let id = try net.cli(["send", "--offline", "--home", net.home(commune11), "--to", hub, "--subject", "Báo cáo"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try net.cli(commune11, "queue", "hold", "--offline", String(id.prefix(10)))
        try net.start([commune11])
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try net.track(commune11, id).counts["00"] == 1)
        #expect(try net.json(QueueList.self, commune11, "queue", "list").entries.map(\.state) == ["held"])
        #expect(try net.inbox(hub).isEmpty)
        try net.cli(commune11, "queue", "release", String(id.prefix(10)))  // through the running daemon
        try waitUntil("it leaves and arrives once released") { try net.track(commune11, id).counts["01"] == 1 }
        net.stopAll()
    }
}

/// `lienthong queue show --json` (the fields this test reads).
struct StoredEnvelope: Decodable {
    let chunksStored: Int
    let complete: Bool
}

/// `lienthong queue list --json`.
struct QueueList: Decodable { let entries: [QueueRow] }

/// A queue entry as `lienthong queue list --json` prints it.
struct QueueRow: Decodable {
    let id: String
    let peer: String
    let state: String
}

/// Documents the recipient refuses by policy, whatever the sender's software did.
@Suite(.serialized)
struct PolicyTests {
    @Test func aDocumentMarkedSecretIsRefusedAtItsRecipientWithA02Receipt() throws {
        let net = try TestNetwork()
        try net.startAll()
        // A sender that bypassed its own check: seal a "Mật" document with the library directly.
        let sender = try NodeIdentity(home: net.home(commune11))
        let metadata = DocumentMetadata(subject: "Tài liệu mật", secrecyLevel: .mat)
        let encoder = try PayloadEncoder(kind: .document, metadata: Array(try JSONEncoder().encode(metadata)), files: [])
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let recipient = try NodeID(commune21)
        let params = SealParameters(kind: .document, urgency: .thuong, origin: sender.id,
                                    recipients: [SealRecipient(id: recipient, encryptionKey: try #require(sender.topology[recipient]?.encryptionKey))],
                                    createdAt: now, expiresAt: now + 3_600_000)
        let file = net.dir + "/mat.lte"
        let sealed = try EnvelopeFile.seal(params, signer: sender.signingKeys, payloadSize: encoder.totalSize, source: encoder, to: file)
        try net.cli(commune11, "envelope", "import", file)
        let id = sealed.id.hex
        try waitUntil("the 02 refusal reaches the sender") { try net.track(commune11, id).entries.first?.status == "02" }
        #expect(try net.track(commune11, id).entries[0].reason?.contains("secret") == true)
        #expect(try net.inbox(commune21).first { $0.id == id }?.status == "02")
        net.stopAll()
    }
}
