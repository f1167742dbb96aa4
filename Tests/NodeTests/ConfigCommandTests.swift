import Foundation
import Testing

/// `lienthong config show|check` on a provisioned home.
@Suite struct ConfigCommandTests {
    @Test func showNamesWhereEachSettingComesFromAndCheckFindsALooseKey() throws {
        let net = try TestNetwork()
        let shown = try net.cli(commune11, "config", "show")
        #expect(shown.contains("keepaliveMs") && shown.contains("2000  (node.json)"))
        #expect(shown.contains("failoverAfterMs") && shown.contains("120000  (default)"))
        let checked = try net.cli(commune11, "config", "check")
        #expect(checked.contains("ok    spool integrity") && !checked.contains("FAIL"))

        // A group-readable key file fails the check, named, with what to do.
        let key = net.home(commune11) + "/keys/sign.key"
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: key)
        var said = ""
        do { _ = try net.cli(commune11, "config", "check") } catch { said = "\(error)" }
        #expect(said.contains("failed"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: net.binaries + "/lienthong")
        p.arguments = ["config", "check", "--home", net.home(commune11)]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 1)
        #expect(text.contains("FAIL  signing key \(key)") && text.contains("640"), "\(text)")
    }
}
