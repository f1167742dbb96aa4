import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The audit log names the control-socket caller the kernel reports (SO_PEERCRED), not what the
/// caller's environment claims.
@Suite struct ControlPeerCredentialTests {
    @Test func theAuditNamesTheRealUnixUser() throws {
        let net = try TestNetwork()
        try net.start([district1, commune11])
        defer { net.stopAll() }
        let id = try net.send(from: district1, to: commune11)
        try waitUntil("the document arrives") { try net.inbox(commune11).contains { $0.id == id } }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: net.binaries + "/lienthong")
        p.arguments = ["inbox", "accept", id, "--home", net.home(commune11)]
        var environment = ProcessInfo.processInfo.environment
        environment["USER"] = "mallory"
        environment["SUDO_USER"] = "mallory"
        p.environment = environment
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let me = String(cString: getpwuid(getuid())!.pointee.pw_name)
        let audit = try net.cli(commune11, "audit", "list", "--limit", "50")
        let line = audit.split(separator: "\n").first { $0.contains("status") && $0.contains("03") } ?? ""
        #expect(line.contains("operator:\(me)") && !audit.contains("mallory"), "\(audit)")
    }
}
