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

/// Settings from the environment (`LIENTHONG_RETENTION_DAYS` …): shown with their source, winning
/// over node.json, validated like the file with the variable named (the daemon reads them through
/// the same `NodeHome.open`).
@Suite(.serialized) struct SettingsEnvironmentTests {
    func run(_ net: TestNetwork, _ env: [String: String], _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: net.binaries + "/lienthong")
        p.arguments = args + ["--home", net.home(commune11)]
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    @Test func theEnvironmentWinsAndIsValidatedNamingTheVariable() throws {
        let net = try TestNetwork()
        let (status, shown) = try run(
            net, ["LIENTHONG_RETENTION_DAYS": "730", "LIENTHONG_KEEPALIVE_MS": "4000"], ["config", "show"])
        #expect(status == 0)
        #expect(shown.contains("730  (environment LIENTHONG_RETENTION_DAYS)"))
        #expect(shown.contains("4000  (environment LIENTHONG_KEEPALIVE_MS)"), "over node.json's 2000")
        let (bad, said) = try run(net, ["LIENTHONG_DISK_REFUSE_FREE_PERCENT": "200"], ["config", "check"])
        #expect(bad != 0 && said.contains("LIENTHONG_DISK_REFUSE_FREE_PERCENT") && said.contains("0…100"), "\(said)")
        let (wrong, typed) = try run(net, ["LIENTHONG_RETENTION_DAYS": "một năm"], ["config", "show"])
        #expect(wrong != 0 && typed.contains("LIENTHONG_RETENTION_DAYS") && typed.contains("whole number"), "\(typed)")
    }
}
