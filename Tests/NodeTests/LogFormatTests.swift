import Foundation
import Logging
@testable import Node
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Log lines as journald and log collectors want them.
@Suite struct LogFormatTests {
    @Test func textLinesCarrySyslogPrioritiesUnderTheJournalAndJSONLinesParse() throws {
        let journal = NodeLogHandler(label: "lienthongd", format: .text, journal: true)
        #expect(journal.render(level: .warning, message: "cannot reach parent", metadata: ["peer": "000.01.00.H27"], at: Date())
            == "<4>cannot reach parent [peer=000.01.00.H27]")
        #expect(journal.render(level: .error, message: "x", metadata: nil, at: Date()).hasPrefix("<3>"))
        let plain = NodeLogHandler(label: "lienthongd", format: .text, journal: false)
        let line = plain.render(level: .info, message: "node starting", metadata: nil, at: Date(timeIntervalSince1970: 0))
        #expect(line == "1970-01-01T00:00:00.000Z info lienthongd: node starting")
        let json = NodeLogHandler(label: "lienthongd", format: .json, journal: true)
        let text = json.render(level: .notice, message: "a \"quoted\"\nline", metadata: ["node": "x"], at: Date())
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(object?["level"] == "notice" && object?["message"] == "a \"quoted\"\nline" && object?["node"] == "x")
        #expect(!text.contains("\n"))
    }

    @Test func theDaemonWritesJSONLinesWhenAsked() throws {
        let net = try TestNetwork()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: net.binaries + "/lienthongd")
        p.arguments = ["--home", net.home(commune11), "--log-format", "json"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        try waitUntil("the daemon answers", timeout: 20) {
            FileManager.default.fileExists(atPath: net.home(commune11) + "/control.sock")
        }
        kill(p.processIdentifier, SIGTERM)
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let lines = said.split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object?["time"] != nil && object?["level"] != nil && object?["message"] != nil, "\(line)")
        }
        #expect(lines.contains { $0.contains("node starting") })
    }

    /// A parent that does not answer is named with its address, the reason and the next try.
    @Test func anUnreachableParentIsLoggedWithWhereWhyAndWhen() throws {
        let net = try TestNetwork()
        try net.start([commune11])  // its district is down
        defer { net.stopAll() }
        try waitUntil("the commune says it cannot reach its district", timeout: 20) {
            let log = net.log(commune11)
            return log.contains("cannot reach parent \(district1) at 127.0.0.1:") && log.contains("next try in")
        }
        let line = net.log(commune11).split(separator: "\n").first { $0.contains("cannot reach parent") } ?? ""
        #expect(line.contains("refused") || line.contains("Connection"), "\(line)")
    }
}
