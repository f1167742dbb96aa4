import Control
import Foundation
import Testing

/// The operator's views stay complete on a big node: a reply is never cut (issue 22, point 9).
@Suite(.serialized) struct ControlScaleTests {
    @Test func anInboxOfFiveThousandDocumentsListsCompletelyThroughTheControlSocket() throws {
        let net = try TestNetwork()
        try net.start([hub, district1])
        let files = try (0..<5000).map { i -> String in
            let path = net.dir + "/files/cv-\(i).txt"
            try FileManager.default.createDirectory(atPath: net.dir + "/files", withIntermediateDirectories: true)
            try Data("Công văn số \(i)".utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        // Five `--each-file` batches of 1,000 (one transaction each).
        var ids: Set<String> = []
        for group in stride(from: 0, to: files.count, by: 1000) {
            let out = try net.send(
                from: hub, to: district1, subject: "Công văn", files: Array(files[group..<group + 1000]),
                extra: ["--each-file"])
            ids.formUnion(out.split(separator: "\n").map(String.init))
        }
        #expect(ids.count == 5000)
        try waitUntil("all 5,000 are in the district's inbox", timeout: 180) {
            try net.json(NodeStatusReport.self, district1, "status").inboxDocuments == 5000
        }
        // Through the daemon's control socket, as the CLI and scripts read it.
        let listed = try net.json([InboxItem].self, district1, "inbox", "list", "--limit", "10000")
        #expect(listed.count == 5000)
        #expect(Set(listed.map(\.id)) == ids)
        // The sender's list of what it sent, all 5,000 with their counts, in one answer.
        try waitUntil("every 01 is back at the hub", timeout: 120) {
            try net.json([TrackSummary].self, hub, "track", "--limit", "10000").filter { $0.arrived == 1 }.count == 5000
        }
        let sent = try net.json([TrackSummary].self, hub, "track", "--limit", "10000")
        #expect(Set(sent.map(\.id)) == ids && sent.allSatisfy { $0.recipients == 1 })
        #expect(try net.json([TrackSummary].self, hub, "track").count == 200)  // the default, and says so in text
        #expect(try net.cli(hub, "track").contains("there may be more"))
        net.stopAll()
    }
}
