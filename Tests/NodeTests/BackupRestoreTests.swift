import Control
import Foundation
import Testing

/// `lienthong backup` / `restore` on a running 7-node network (issue 19 point 7).
@Suite(.serialized)
struct BackupRestoreTests {
    static let passphrase = "ba con gà trống gáy sáng"

    static func passphraseFile(_ net: TestNetwork) throws -> String {
        let path = net.dir + "/passphrase"
        try (passphrase + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A district relay is backed up while it forwards documents, killed, and restored into a new
    /// home (its old one moved away, as a dead disk): every document reaches the province exactly
    /// once, every sender gets its 01, and the restored node's audit log and spool verify.
    @Test func aRelayBackedUpUnderTrafficIsRestoredWithNothingLostOrDoubled() throws {
        let net = try TestNetwork()
        defer { net.stopAll() }
        try net.start(net.nodes.filter { $0 != hub })
        // The province is down: 20 documents wait in district 1's custody.
        var sent: [String: String] = [:]  // id → sender
        for i in 0..<10 {
            for from in [commune11, commune12] {
                let file = try net.randomFile("bc-\(from)-\(i).pdf", size: 200_000)
                sent[try net.send(from: from, to: hub, subject: "Báo cáo \(i)", files: [file])] = from
            }
        }
        try waitUntil("both communes have handed everything to district 1") {
            try [commune11, commune12].allSatisfy { try net.json(NodeStatusReport.self, $0, "status").queueTotal == 0 }
        }
        let queued = try net.json(QueueList.self, district1, "queue", "list").entries
        #expect(queued.count == 20)
        // Half of them are held, so the backup certainly holds custody the restored node must resume.
        let held = Array(queued.prefix(10)).map(\.id)
        try net.cli(["queue", "hold", "--home", net.home(district1)] + held)

        // The province comes up and the other half flows through district 1 while it is backed up.
        try net.start([hub])
        let archive = net.dir + "/district1.ltbackup"
        let out = try net.cli([
            "backup", "--home", net.home(district1), "--out", archive, "--passphrase-file", try Self.passphraseFile(net),
        ])
        #expect(out.contains("backed up \(district1)"))
        let mode = try FileManager.default.attributesOfItem(atPath: archive)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!FileManager.default.fileExists(atPath: archive + ".spool-copy"))
        let archiveBytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        #expect(archiveBytes.range(of: Data("sign.key".utf8)) == nil, "entry names are encrypted too")

        try waitUntil("the ten not held reach the province and their receipts their senders") {
            let inbox = try net.inbox(hub).map(\.id)
            guard inbox.count == 10 else { return false }
            return try inbox.allSatisfy { try net.track(sent[$0]!, $0).counts["01"] == 1 }
        }

        // District 1's disk dies.
        net.stop(district1, signal: SIGKILL)
        try FileManager.default.moveItem(atPath: net.home(district1), toPath: net.dir + "/district1-dead")
        let restored = try net.cli([
            "restore", archive, "--home", net.home(district1), "--passphrase-file", try Self.passphraseFile(net),
        ])
        #expect(restored.contains("restored \(district1)"))
        #expect(try net.cli(district1, "config", "check").contains("ok"))
        let resumed = try net.json(QueueList.self, district1, "queue", "list").entries
        #expect(Set(held).isSubset(of: Set(resumed.filter { $0.state == "held" }.map(\.id))), "custody came back")
        try net.start([district1])
        try net.cli(["queue", "release", "--home", net.home(district1)] + held)

        try waitUntil("all twenty reach the province and every sender has its 01", timeout: 90) {
            let inbox = try net.inbox(hub).map(\.id)
            guard Set(inbox) == Set(sent.keys) else { return false }
            return try sent.allSatisfy { id, from in try net.track(from, id).counts["01"] == 1 }
        }
        try waitUntil("district 1 has passed everything on") {
            try net.json(NodeStatusReport.self, district1, "status").queueTotal == 0
        }
        let inbox = try net.inbox(hub)
        #expect(inbox.count == 20, "each document delivered exactly once")
        #expect(try net.cli(district1, "audit", "verify").contains("intact"))
        let audit = try net.cli(district1, "audit", "list", "--limit", "100000")
        #expect(audit.contains("restored"))
        for node in [hub, commune11, commune12] {
            #expect(try net.cli(node, "audit", "verify").contains("intact"))
        }
        net.stopAll()
        // integrity_check on every spool: the daemon refuses to start on a damaged one, so a start
        // of the restored node after a clean stop proves it once more.
        try net.start([district1])
    }

    /// A wrong passphrase, a damaged or truncated archive, and a non-empty target are refused with
    /// their codes, and a refused restore leaves nothing behind.
    @Test func badArchivesAndTargetsAreRefusedAndLeaveNothing() throws {
        let net = try TestNetwork()
        let archive = net.dir + "/c.ltbackup"
        let pass = try Self.passphraseFile(net)
        // 01.01 answers for a merged neighbour: that key is in the backup too.
        try net.cli(commune11, "keys", "adopt", "--from", net.home(commune12))
        // And a rotation waits for its topology: the pending pair is in the backup too.
        try net.cli(commune11, "keys", "rotate")
        try net.cli(["backup", "--home", net.home(commune11), "--out", archive, "--passphrase-file", pass])
        #expect(throws: TestFailure.self) {
            try net.cli(["backup", "--home", net.home(commune11), "--out", archive, "--passphrase-file", pass])
        }
        let short = net.dir + "/short"
        try "kurz\n".write(toFile: short, atomically: true, encoding: .utf8)
        let shortError = Self.failure {
            try net.cli(["backup", "--home", net.home(commune11), "--out", archive + "2", "--passphrase-file", short])
        }
        #expect(shortError.contains("BACKUP-PASSPHRASE"))

        let target = net.dir + "/restored"
        let wrong = net.dir + "/wrong"
        try "not the passphrase at all\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        let wrongError = Self.failure {
            try net.cli(["restore", archive, "--home", target, "--passphrase-file", wrong])
        }
        #expect(wrongError.contains("BACKUP-PASSPHRASE"))
        #expect(!FileManager.default.fileExists(atPath: target))

        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        let damaged = net.dir + "/damaged.ltbackup"
        bytes[bytes.count - 100] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let damagedError = Self.failure { try net.cli(["restore", damaged, "--home", target, "--passphrase-file", pass]) }
        #expect(damagedError.contains("BACKUP-ARCHIVE"))
        #expect(!FileManager.default.fileExists(atPath: target + "/node.json"))
        #expect(!FileManager.default.fileExists(atPath: target + "/keys/sign.key"))

        let truncated = net.dir + "/truncated.ltbackup"
        try Data(contentsOf: URL(fileURLWithPath: archive)).prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        let truncatedError = Self.failure {
            try net.cli(["restore", truncated, "--home", target, "--passphrase-file", pass])
        }
        #expect(truncatedError.contains("BACKUP-ARCHIVE"))
        #expect(!FileManager.default.fileExists(atPath: target + "/spool.sqlite"))

        let notEmpty = Self.failure {
            try net.cli(["restore", archive, "--home", net.home(commune12), "--passphrase-file", pass])
        }
        #expect(notEmpty.contains("BACKUP-TARGET"))

        // The good archive restores, and the restored keys are the node's own.
        try net.cli(["restore", archive, "--home", target, "--passphrase-file", pass])
        let original = try net.cli(commune11, "keys", "show")
        #expect(try net.cli(["keys", "show", "--home", target]) == original)
        let keyMode = try FileManager.default.attributesOfItem(atPath: target + "/keys/sign.key")[.posixPermissions]
        #expect(keyMode as? Int == 0o600)
        let adopted = "/keys/adopted/\(commune12).box.key"
        #expect(FileManager.default.contents(atPath: target + adopted) == FileManager.default.contents(atPath: net.home(commune11) + adopted))
        #expect(try FileManager.default.attributesOfItem(atPath: target + adopted)[.posixPermissions] as? Int == 0o600)
        for pending in ["/keys/next/sign.key", "/keys/next/box.key"] {
            let original = FileManager.default.contents(atPath: net.home(commune11) + pending)
            #expect(original != nil && FileManager.default.contents(atPath: target + pending) == original)
        }
        #expect(try net.cli(["keys", "rotate", "--home", target]) == net.cli(commune11, "keys", "rotate"))
    }

    static func failure(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "(no error)"
        } catch {
            return "\(error)"
        }
    }
}
