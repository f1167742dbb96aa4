import Control
import Foundation
import Node
import Testing

/// Key rotation on real daemons (issue 18 point 4): `keys rotate`, then a topology pinning the
/// new keys with a grace period for the old signing key. The node (offline during the change)
/// links with the new key, applies the topology without a restart, opens what was sealed to its
/// old encryption key, and its old signing key is carried in the grace period, refused after it.
@Suite(.serialized)
struct KeyRotationTests {
    struct Status: Decodable { let topologyVersion: Int? }
    struct Keys: Decodable { let signingKey: String, encryptionKey: String }
    struct Rotated: Decodable { let signingKey: String, encryptionKey: String, previousSigningKey: String }

    @Test func aRotatedNodeLinksWithItsNewKeyOpensWhatWasSealedToTheOldOneAndTheOldKeyExpires() throws {
        let net = try TestNetwork()
        try net.start([hub, district1])
        defer { net.stopAll() }
        // A copy of the commune as it is now, to sign with its old key later (a leaked copy).
        let oldCopy = net.dir + "/old-\(commune11)"
        try FileManager.default.copyItem(atPath: net.home(commune11), toPath: oldCopy)
        // The commune is offline; a document for it, sealed to its old encryption key, waits at its district.
        let sealedToOld = try net.send(from: hub, to: commune11, subject: "Công văn gửi khóa cũ")
        try waitUntil("district 1 holds it") {
            try net.json(QueueList.self, district1, "queue", "list").entries.contains { $0.peer == commune11 }
        }
        let rotated = try net.json(Rotated.self, commune11, "keys", "rotate")
        let shownBefore = try net.json(Keys.self, commune11, "keys", "show")
        #expect(shownBefore.signingKey == rotated.previousSigningKey, "the old keys stay in force until the topology")

        // Version 2 pins the new keys; the old signing key is accepted for 40 s more.
        let until = Date().addingTimeInterval(40)
        let untilText = ISO8601DateFormatter().string(from: until)
        let file = try TopologyUpdateTests.signed(net, version: 2) { nodes in
            for i in nodes.indices where nodes[i]["id"] as? String == commune11 {
                nodes[i]["signingKey"] = rotated.signingKey
                nodes[i]["encryptionKey"] = rotated.encryptionKey
                nodes[i]["previousSigningKey"] = rotated.previousSigningKey
                nodes[i]["previousKeyUntil"] = untilText
            }
        }
        try net.cli(hub, "topology", "publish", file)
        try waitUntil("the province and district 1 have version 2") {
            try [hub, district1].allSatisfy { try net.json(Status.self, $0, "status").topologyVersion == 2 }
        }
        // The commune comes back still on version 1: district 1 pins its new key and the commune
        // answers with it (the pending one), receives version 2 and puts its new keys in force.
        try net.start([commune11])
        let pid = net.pid(commune11)
        try waitUntil("the commune has version 2", timeout: 30) {
            try net.json(Status.self, commune11, "status").topologyVersion == 2
        }
        try waitUntil("the commune signs with its new key") {
            try net.json(Keys.self, commune11, "keys", "show").signingKey == rotated.signingKey
        }
        #expect(net.pid(commune11) == pid, "no restart")
        // What was sealed to the old encryption key opens, and its 01 (signed with the new key) is back.
        try waitUntil("the old-sealed document is in the inbox", timeout: 30) {
            try net.inbox(commune11).contains { $0.id == sealedToOld }
        }
        #expect(try net.cli(commune11, "inbox", "show", sealedToOld).contains("Công văn gửi khóa cũ"))
        try waitUntil("its 01 is back at the province", timeout: 30) {
            try net.track(hub, sealedToOld).counts["01"] == 1
        }
        let sentNew = try net.send(from: commune11, to: hub, subject: "Báo cáo ký khóa mới")
        try waitUntil("a document signed with the new key reaches the province", timeout: 30) {
            try net.inbox(hub).contains { $0.id == sentNew }
        }

        // In the grace period an envelope signed with the old key is still carried.
        func sealOld(_ subject: String) throws -> String {
            let out = net.dir + "/\(UUID().uuidString).lte"
            try net.cli([
                "envelope", "seal", "--home", oldCopy, "--to", hub, "--subject", subject, "--out", out,
            ])
            return out
        }
        let inGrace = try sealOld("Ký bằng khóa cũ trong thời hạn")
        #expect(try net.cli(district1, "envelope", "import", inGrace, "--from", commune11).contains("accepted"))
        // Signed in the grace period, offered after it.
        let afterGraceFile = try sealOld("Ký bằng khóa cũ trước khi hết hạn")
        // The commune's own links come up with the new key alone: without its old one it relinks.
        try FileManager.default.removeItem(atPath: net.home(commune11) + "/keys/previous/sign.key")
        _ = net.stop(commune11)
        try net.start([commune11])
        try waitUntil("the commune links again", timeout: 30) {
            try net.json([PeerReport].self, commune11, "peers").first { $0.peer == district1 }?.connected == true
        }
        // After the grace period: refused, named, at the district.
        let wait = until.timeIntervalSinceNow + 0.5
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }  // the deadline itself is the property
        var refused = ""
        do { try net.cli(district1, "envelope", "import", afterGraceFile, "--from", commune11) } catch {
            refused = "\(error)"
        }
        #expect(refused.contains("INGRESS-BAD-SIGNATURE"), "\(refused)")
        #expect(refused.contains("version 2"))
        // The one carried in its grace period arrived at the province.
        try waitUntil("the envelope signed in the grace period arrived", timeout: 30) {
            try net.inbox(hub).contains { $0.subject == "Ký bằng khóa cũ trong thời hạn" }
        }

        // Erasure: 100 days on (past the 90-day longest lifetime) the old encryption key is kept,
        // for the inbox still holds a document sealed to it; once retention has archived that,
        // the key is erased.
        net.stopAll()
        let later = try RetentionTests.operations(net, commune11, daysAhead: 100)
        #expect(try later.sweepRetiredKeys().isEmpty)
        #expect(later.identity.keys.openingKeys.count == 2)
        let archived = try RetentionTests.operations(net, commune11, daysAhead: 400)
        #expect(try !archived.applyRetention().isEmpty)
        let erased = try archived.sweepRetiredKeys()
        #expect(erased.count == 1 && erased.first?.contains("encryption key") == true)
        #expect(try NodeIdentity(home: net.home(commune11)).keys.openingKeys.count == 1)
    }

    /// A relay rotates while it runs: `keys rotate` on the running district, the new version
    /// published; the district switches without a restart, and a commune that was offline (still
    /// pinning the district's old key) links with it — the district answers with the old key in
    /// its grace period — receives the new version, and an urgent document the district signed
    /// with its new key while the commune was away arrives once.
    @Test func aRunningRelayRotatesAndAChildThatMissedItStillLinksAndCatchesUp() throws {
        let net = try TestNetwork()
        try net.start([hub, district1, commune11])
        defer { net.stopAll() }
        let pid = net.pid(district1)
        let rotated = try net.json(Rotated.self, district1, "keys", "rotate")
        let until = ISO8601DateFormatter().string(from: Date().addingTimeInterval(600))
        let file = try TopologyUpdateTests.signed(net, version: 2) { nodes in
            for i in nodes.indices where nodes[i]["id"] as? String == district1 {
                nodes[i]["signingKey"] = rotated.signingKey
                nodes[i]["encryptionKey"] = rotated.encryptionKey
                nodes[i]["previousSigningKey"] = rotated.previousSigningKey
                nodes[i]["previousKeyUntil"] = until
            }
        }
        try net.cli(hub, "topology", "publish", file)
        try waitUntil("the district, the province and the commune have version 2") {
            try [hub, district1, commune11].allSatisfy { try net.json(Status.self, $0, "status").topologyVersion == 2 }
        }
        try waitUntil("the running district signs with its new key") {
            try net.json(Keys.self, district1, "keys", "show").signingKey == rotated.signingKey
        }
        #expect(net.pid(district1) == pid, "no restart")
        // Signed with the new key while commune 01.02 is away (it still has version 1).
        let urgent = try net.send(
            from: district1, to: commune12, subject: "Hỏa tốc sau đổi khóa", extra: ["--urgency", "hoa-toc"])
        let fromHub = try net.send(from: hub, to: commune11, subject: "Công văn qua huyện đã đổi khóa")
        try waitUntil("the commune under the rotated district receives through it") {
            try net.inbox(commune11).contains { $0.id == fromHub }
        }
        try net.start([commune12])
        try waitUntil("the commune that missed it links and has version 2", timeout: 30) {
            try net.json(Status.self, commune12, "status").topologyVersion == 2
        }
        try waitUntil("the district's urgent document arrives", timeout: 60) {
            try net.inbox(commune12).contains { $0.id == urgent }
        }
        #expect(try net.inbox(commune12).filter { $0.id == urgent }.count == 1)
        try waitUntil("its 01 is back at the district", timeout: 30) {
            try net.track(district1, urgent).counts["01"] == 1
        }
    }
}
