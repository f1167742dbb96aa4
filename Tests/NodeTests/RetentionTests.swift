import Control
import Envelope
import Foundation
import Gate
import Node
import Link
import Spool
import Testing

/// Retention with a clock of the test's own, and the low-disk watermarks on real daemons
/// (issue 19 point 8).
@Suite(.serialized)
struct RetentionTests {
    static let day: Int64 = 86_400_000

    /// The commune's operations as the daemon's RetentionService runs them, `days` in the future.
    static func operations(_ net: TestNetwork, _ node: String, daysAhead: Int64) throws -> NodeOperations {
        let identity = try NodeIdentity(home: net.home(node))
        let spool = try Spool(path: identity.home.spoolPath)
        let now = Int64(Date().timeIntervalSince1970 * 1000) + daysAhead * day
        return NodeOperations(identity: identity, spool: spool, queueSignal: QueueSignal(), clock: { now })
    }

    @Test func documentsOlderThanTheLimitAreArchivedThenRemovedKeepingMetadataAndAudit() throws {
        let net = try TestNetwork()
        try net.startAll()
        let file = try net.randomFile("ban-do.pdf", size: 300_000)
        let received = try net.send(from: hub, to: commune11, subject: "Quyết định lưu trữ", files: [file])
        let sent = try net.send(from: commune11, to: hub, subject: "Báo cáo lưu trữ", files: [file])
        try waitUntil("both documents have their 01") {
            try net.track(hub, received).counts["01"] == 1 && net.track(commune11, sent).counts["01"] == 1
        }
        net.stopAll()

        // A hundred days on: nothing is due yet.
        #expect(try Self.operations(net, commune11, daysAhead: 100).applyRetention().isEmpty)
        let archive = net.home(commune11) + "/archive"
        #expect(!FileManager.default.fileExists(atPath: archive))

        // 400 days on, past the default 365: both are archived, then removed from the spool.
        let ops = try Self.operations(net, commune11, daysAhead: 400)
        let written = try ops.applyRetention()
        #expect(written.count == 2)
        let inDir = try #require(written.first { $0.hasSuffix("/received/" + received) })
        let outDir = try #require(written.first { $0.hasSuffix("/sent/" + sent) })
        let original = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(try Data(contentsOf: URL(fileURLWithPath: inDir + "/files/ban-do.pdf")) == original)
        let document = try String(contentsOfFile: inDir + "/document.json", encoding: .utf8)
        #expect(document.contains("Quyết định lưu trữ"))
        #expect(try String(contentsOfFile: outDir + "/tracking.json", encoding: .utf8).contains("\"01\""))
        // The sent document is archived sealed: its recipient opens it, byte for byte.
        let opened = net.dir + "/opened"
        try net.cli(["envelope", "open", outDir + "/envelope.lte", "--home", net.home(hub), "--out", opened])
        #expect(try Data(contentsOf: URL(fileURLWithPath: opened + "/ban-do.pdf")) == original)
        // Nothing more is due, and a second pass writes nothing twice.
        #expect(try ops.applyRetention().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: inDir + ".partial"))

        // The inbox keeps the document's metadata and says where its content went; export is
        // refused with the same; the audit log records both and still verifies.
        let view = try ops.show(received)
        #expect(view.subject == "Quyết định lưu trữ")
        #expect(view.archivedTo == inDir)
        #expect(view.files.isEmpty)
        #expect(throws: NodeError.self) { try ops.export(received, to: net.dir + "/export") }
        do {
            _ = try ops.export(received, to: net.dir + "/export")
        } catch let error as NodeError {
            #expect(error.code == .inboxArchived && error.message.contains(inDir))
        }
        struct Event: Decodable { let event: String }
        let audit = try net.json([Event].self, commune11, "audit", "list", "--limit", "1000")
        #expect(audit.filter { $0.event == "archived" }.count == 2)
        #expect(try net.cli(commune11, "audit", "verify").contains("intact"))
        // The content is gone from the spool; the node starts and its tracking is intact.
        let spool = try Spool(path: net.home(commune11) + "/spool.sqlite")
        #expect(try spool.chunks(of: EnvelopeID(hex: received), from: 0, limit: 10).isEmpty)
        #expect(try spool.chunks(of: EnvelopeID(hex: sent), from: 0, limit: 10).isEmpty)
        try net.start([commune11])
        #expect(try net.track(commune11, sent).counts["01"] == 1)
        #expect(try net.inbox(commune11).map(\.id) == [received])
        // The clerk's desk says where the content went instead of offering downloads.
        let password = try net.addUser(commune11, "vanthu", role: "clerk")
        let clerk = DeskClient(base: try net.deskURL(commune11), dir: net.dir)
        _ = try clerk.signIn("vanthu", password)
        let page = try clerk.call("GET", "/van-ban-den/\(received)").text
        #expect(page.contains("kho lưu trữ") && page.contains(inDir), "\(page.prefix(3000))")
        #expect(!page.contains("Tệp đính kèm"))
        net.stopAll()
    }

    /// Under the refuse watermark a commune refuses a clerk's send with a clear error, still takes
    /// a document from the province, and says so in its log and metrics.
    @Test func underTheRefuseWatermarkLocalSendsAreRefusedAndNeighboursStillAccepted() throws {
        let net = try TestNetwork()
        let path = net.home(commune11) + "/node.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        // 100 %: the disk is always "under" it, whatever this machine has free.
        text = text.replacingOccurrences(
            of: "\"settings\" : {", with: "\"settings\" : {\n    \"diskWarnFreePercent\": 100, \"diskRefuseFreePercent\": 100,")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try net.start([hub, district1, commune11])
        defer { net.stopAll() }

        var said = ""
        do {
            _ = try net.send(from: commune11, to: hub, subject: "Không gửi được")
        } catch { said = "\(error)" }
        #expect(said.contains("SEND-DISK-FULL"))
        #expect(said.contains("free on the file system") && said.contains("still received"))
        #expect(try net.json(NodeStatusReport.self, commune11, "status").queueTotal == 0)

        let id = try net.send(from: hub, to: commune11, subject: "Vẫn nhận được")
        try waitUntil("the province's document reaches the commune") { try net.inbox(commune11).map(\.id) == [id] }
        try waitUntil("its 01 goes back") { try net.track(hub, id).counts["01"] == 1 }
        try waitUntil("the commune logs it") { net.log(commune11).contains("disk almost full") }

        let metrics = try DeskClient(base: try net.deskURL(commune11), dir: net.dir).call("GET", "/metrics").text
        #expect(metrics.contains("lienthong_disk_watermark 2"))
        let hubMetrics = try DeskClient(base: try net.deskURL(hub), dir: net.dir).call("GET", "/metrics").text
        #expect(hubMetrics.contains("lienthong_disk_watermark 0"))
    }
}
