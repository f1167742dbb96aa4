import Foundation
import Node
import Testing

/// Strict settings: an unknown key, a wrong type or an out-of-range value stops the node, naming
/// the key; `lienthongd` exits without serving anything.
@Suite struct SettingsRefusalTests {
    func decode(_ json: String) -> String {
        do {
            _ = try JSONDecoder().decode(NodeSettings.self, from: Data(json.utf8))
            return "accepted"
        } catch { return "\(error)" }
    }

    @Test func unknownKeysWrongTypesAndRangesAreNamed() {
        #expect(decode(#"{"reconnectCapMs": 5000, "httpListen": "off", "httpsProxy": true}"#) == "accepted")
        let typo = decode(#"{"reconectCapMs": 5000}"#)
        #expect(typo.contains("HOME-SETTING") && typo.contains("'reconectCapMs'") && typo.contains("'reconnectCapMs'"))
        let type = decode(#"{"keepaliveMs": "15s"}"#)
        #expect(type.contains("HOME-SETTING") && type.contains("'keepaliveMs'") && type.contains("whole number"))
        let range = decode(#"{"janitorIntervalMs": 0}"#)
        #expect(range.contains("'janitorIntervalMs' is 0"))
        #expect(decode(#"{"offersPerSecond": -1}"#).contains("'offersPerSecond'"))
        #expect(decode(#"{"reconnectBaseMs": 9000, "reconnectCapMs": 1000}"#).contains("above 'reconnectCapMs'"))
        #expect(decode(#"{"hotFolder": ""}"#).contains("'hotFolder'"))
        #expect(decode(#"{"zzzzzzzzzzzz": 1}"#).contains("'zzzzzzzzzzzz'") && !decode(#"{"zzzzzzzzzzzz": 1}"#).contains("did you mean"))
    }

    @Test(arguments: [#""reconectCapMs": 5000"#, #""keepaliveMs": "15s""#, #""queuePollMs": 0"#])
    func theDaemonStopsNamingTheKey(setting: String) throws {
        let net = try TestNetwork()
        let path = net.home(commune11) + "/node.json"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"settings\" : {", with: "\"settings\" : {\n    \(setting),")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let key = String(setting.split(separator: "\"")[0])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: net.binaries + "/lienthongd")
        p.arguments = ["--home", net.home(commune11)]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        try p.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + 30) { if p.isRunning { p.terminate() } }
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
        #expect(said.contains("HOME-SETTING") && said.contains("'\(key)'"), "lienthongd said: \(said)")
        #expect(!FileManager.default.fileExists(atPath: net.home(commune11) + "/control.sock"))
    }
}
