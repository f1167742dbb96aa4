import Control
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `Type=notify` readiness with a real daemon: READY=1 only once the control socket answers,
/// WATCHDOG=1 while it runs when asked for, SIGHUP re-reads the config without stopping,
/// STOPPING=1 at SIGTERM.
@Suite struct SystemdNotifyTests {
    /// A datagram socket standing in for systemd's.
    final class NotifySocket {
        let path: String
        let fd: Int32

        init() throws {
            path = "/tmp/lt-notify-\(UUID().uuidString.prefix(8)).sock"
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard fd >= 0, bound == 0 else { throw TestFailure("cannot bind \(path)") }
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        /// The next message, or nil after 30 s.
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : nil
        }

        deinit {
            close(fd)
            unlink(path)
        }
    }

    @Test func readyAfterTheControlSocketAnswersWatchdogWhileRunningStoppingAtSIGTERM() throws {
        let net = try TestNetwork()
        let notify = try NotifySocket()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: net.binaries + "/lienthongd")
        p.arguments = ["--home", net.home(commune11)]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = notify.path
        environment["WATCHDOG_USEC"] = "400000"
        p.environment = environment
        let logPath = net.dir + "/daemon.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        p.standardOutput = log
        p.standardError = log
        try p.run()
        defer { if p.isRunning { p.terminate() } }

        var first: [String] = []
        var answered = false
        while let message = notify.receive() {
            first.append(message)
            if message == "READY=1" {
                // At READY the control socket must already answer.
                answered = (try? ControlClient(socketPath: net.home(commune11) + "/control.sock", timeoutSeconds: 2)
                    .call(.status))?.ok == true
                break
            }
        }
        #expect(first.last == "READY=1" && answered, "messages: \(first)")
        // Watchdog pets every half WatchdogSec (200 ms here).
        var pets = 0
        for _ in 0..<3 where notify.receive() == "WATCHDOG=1" { pets += 1 }
        #expect(pets == 3)

        // SIGHUP re-reads node.json, names what changed, and never stops the daemon; an invalid
        // file is reported with its key while the node goes on.
        let config = net.home(commune11) + "/node.json"
        let original = try String(contentsOfFile: config, encoding: .utf8)
        try original.replacingOccurrences(of: "\"keepaliveMs\" : 2000", with: "\"keepaliveMs\" : 3000")
            .write(toFile: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        try waitUntil("the reload is logged", timeout: 10) {
            (try String(contentsOfFile: logPath, encoding: .utf8)).contains("keepaliveMs: 2000 → 3000")
        }
        // A setting that applies while the node runs: under the refuse watermark (100 % here) the
        // next local send is refused, without a restart.
        try original.replacingOccurrences(
            of: "\"keepaliveMs\" : 2000",
            with: "\"keepaliveMs\" : 3000, \"diskWarnFreePercent\" : 100, \"diskRefuseFreePercent\" : 100"
        ).write(toFile: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        try waitUntil("the live change is logged", timeout: 10) {
            (try String(contentsOfFile: logPath, encoding: .utf8)).contains("diskRefuseFreePercent: default → 100")
        }
        #expect((try String(contentsOfFile: logPath, encoding: .utf8)).contains("settings applied now"))
        var refused = ""
        do { _ = try net.send(from: commune11, to: hub, subject: "Sau khi nạp lại") } catch { refused = "\(error)" }
        #expect(refused.contains("SEND-DISK-FULL"))
        try original.replacingOccurrences(of: "\"keepaliveMs\" : 2000", with: "\"keepalivMs\" : 3000")
            .write(toFile: config, atomically: true, encoding: .utf8)
        kill(p.processIdentifier, SIGHUP)
        try waitUntil("the invalid file is reported", timeout: 10) {
            (try String(contentsOfFile: logPath, encoding: .utf8)).contains("'keepalivMs'")
        }
        #expect(p.isRunning)
        #expect((try? ControlClient(socketPath: net.home(commune11) + "/control.sock", timeoutSeconds: 2).call(.status))?.ok == true)

        kill(p.processIdentifier, SIGTERM)
        var rest: [String] = []
        while let message = notify.receive() {
            rest.append(message)
            if message == "STOPPING=1" { break }
        }
        #expect(rest.last == "STOPPING=1", "messages: \(rest)")
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
