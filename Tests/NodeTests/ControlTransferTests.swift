#if canImport(Glibc)
import Glibc
#endif
import Control
import Foundation
import Testing

/// Files over the control socket (issue 19 points 2 and 3): a document's files are streamed to
/// the daemon and an export streamed back, so the daemon never opens a caller's path; the socket
/// is 0660 in a 0710 home; a lying or hung-up uploader changes nothing and leaves nothing.
@Suite(.serialized)
struct ControlTransferTests {
    let hostile = ControlSocketHostileTests()

    @Test func filesTravelOverTheSocketAndTheSocketIsGroupOnly() throws {
        let net = try TestNetwork()
        try net.start([hub])
        defer { net.stopAll() }
        let home = net.home(hub)
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? 0) & 0o777
        }
        #expect(try mode(home + "/control.sock") == 0o660)
        #expect(try mode(home) == 0o710)
        #expect(try mode(home + "/spool.sqlite") == 0o600)

        // The request names only `upload:0`; the bytes follow the line.
        let file = try net.randomFile("to-trinh.pdf", size: 700_000)
        var request = SendRequest(
            to: [hub], urgency: "thuong", expiresInMs: 86_400_000, subject: "Tờ trình", files: ["upload:0"])
        request.dueDate = nil
        let client = ControlClient(socketPath: home + "/control.sock")
        let sent = try client.call(.send(request), uploads: [file], download: nil)
        #expect(sent.ok, "\(String(describing: sent.error))")
        guard case .sent(let report) = try #require(sent.result) else { throw TestFailure("not sent") }
        try waitUntil("it is in the inbox") { try net.inbox(hub).map(\.id) == [report.id] }
        // The audit log names who handed it in, as the kernel reports the caller (SO_PEERCRED).
        struct Row: Decodable { let event: String, actor: String }
        let rows = try net.json([Row].self, hub, "audit", "list", "--envelope", report.id)
        let me = String(cString: getpwuid(getuid()).pointee.pw_name)
        #expect(rows.first { $0.event == "accepted" }?.actor == "operator:\(me)")

        // The export comes back over the socket and the caller writes it.
        let out = net.dir + "/export"
        let exported = try client.call(
            .inboxExport(id: report.id, out: "download"), uploads: [], download: (out, true))
        #expect(exported.ok && exported.downloads?.map(\.name).contains("to-trinh.pdf") == true)
        #expect(FileManager.default.contents(atPath: out + "/to-trinh.pdf") == FileManager.default.contents(atPath: file))

        // A placeholder with no file behind it is refused, naming the mismatch.
        request.files = ["upload:1"]
        let refused = try client.call(.send(request), uploads: [file], download: nil)
        #expect(refused.error?.code == "CONTROL-MALFORMED")

        // A name with a path in it, and an uploader that hangs up half-way: refused or dropped,
        // nothing queued, no scratch file left.
        let traversal = #"{"v":2,"request":{"status":{}},"uploads":[{"name":"../../x","size":3}]}"#
        var fd = try hostile.connect(home + "/control.sock")
        _ = write(fd, traversal + "\n", traversal.utf8.count + 1)
        #expect(hostile.outcome(fd)?.contains("CONTROL-MALFORMED") == true)
        close(fd)
        fd = try hostile.connect(home + "/control.sock")
        let line = try ControlCodec.encode(
            .send(SendRequest(to: [hub], urgency: "thuong", expiresInMs: 86_400_000, subject: "x", files: ["upload:0"])),
            uploads: [ControlTransfer(name: "half.pdf", size: 1_000_000)], download: false)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        _ = write(fd, [UInt8](repeating: 7, count: 1000), 1000)
        close(fd)
        try waitUntil("the daemon has dropped the half upload") {
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: home + "/tmp")) ?? []
            return leftovers.filter { $0.hasPrefix("control-") }.isEmpty
        }
        #expect(try net.inbox(hub).count == 1)
        #expect(try net.json(NodeStatusReport.self, hub, "status").queueTotal == 0)
    }
}
