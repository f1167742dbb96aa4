import Foundation
import Testing
import Control

/// A full disk while receiving, on a real small filesystem (a tmpfs the test mounts over the
/// commune's home): the commune refuses the envelope for now with the disk-full reason and keeps
/// running, the district keeps its copy, nothing already stored is lost, and delivery completes
/// by itself once the filesystem has room again.
@Suite(.serialized, .enabled(if: geteuid() == 0, "mounting a small tmpfs needs root (CI runs as root)"))
struct DiskFullTests {
    struct Queue: Decodable {
        struct Entry: Decodable { let peer: String; let state: String; let lastError: String? }
        let entries: [Entry]
    }

    @Test func aFullDiskRefusesForNowAndDeliveryCompletesWhenSpaceReturns() throws {
        let net = try TestNetwork()
        let home = net.home(commune11)
        try SmallDisk.mount(over: home, size: "3m")
        defer { SmallDisk.unmount(home) }
        try net.startAll()

        let first = try net.send(from: hub, to: commune11, subject: "Công văn số 1")
        try waitUntil("the first document's 01 is back") { try net.track(hub, first).counts["01"] == 1 }

        // 8 MiB cannot fit in what is left of 3 MiB.
        let file = try net.randomFile("ban-do-quy-hoach.bin", size: 8 << 20)
        let big = try net.send(from: hub, to: commune11, subject: "Bản đồ quy hoạch", files: [file])
        try waitUntil("the commune refuses it for now, naming the full disk") {
            net.log(commune11).contains("diskFull") && net.log(commune11).contains("SPOOL-DISK-FULL")
        }
        try waitUntil("the district keeps its copy, deferred with the reason") {
            try net.json(Queue.self, district1, "queue", "list").entries
                .contains { $0.peer == commune11 && ($0.lastError ?? "").contains("diskFull") }
        }
        // The commune is still up and nothing it held is lost.
        #expect(net.isRunning(commune11))
        #expect(try net.inbox(commune11).map(\.id) == [first])
        #expect(try net.track(hub, big).counts["01"] == nil)

        try SmallDisk.resize(home, size: "96m")
        try waitUntil("delivered by itself once space returns", timeout: 120) { try net.track(hub, big).counts["01"] == 1 }
        #expect(Set(try net.inbox(commune11).map(\.id)) == [first, big])
        _ = try net.cli(commune11, "inbox", "export", String(big.prefix(12)), "--out", net.dir + "/export")
        #expect(FileManager.default.contents(atPath: net.dir + "/export/ban-do-quy-hoach.bin") == FileManager.default.contents(atPath: file))
        _ = try net.cli(commune11, "audit", "verify")
        net.stopAll()
    }
}

/// A tmpfs of a given size mounted over a directory, its contents carried over.
enum SmallDisk {
    static func mount(over dir: String, size: String) throws {
        // Aside outside the network directory: a copy there would start as a second node.
        let aside = NSTemporaryDirectory() + "lt-aside-\(UUID().uuidString.prefix(8))"
        try FileManager.default.moveItem(atPath: dir, toPath: aside)
        defer { try? FileManager.default.removeItem(atPath: aside) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        try run("/bin/mount", "-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", dir)
        for name in try FileManager.default.contentsOfDirectory(atPath: aside) {
            try FileManager.default.copyItem(atPath: aside + "/" + name, toPath: dir + "/" + name)
        }
    }

    static func resize(_ dir: String, size: String) throws {
        try run("/bin/mount", "-o", "remount,size=\(size)", dir)
    }

    static func unmount(_ dir: String) {
        _ = try? run("/bin/umount", "-l", dir)
    }

    @discardableResult
    static func run(_ tool: String, _ args: String...) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw TestFailure("\(tool) \(args.joined(separator: " ")) failed (\(p.terminationStatus)): \(message)")
        }
        return message
    }
}
