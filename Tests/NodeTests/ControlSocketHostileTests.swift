#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import Control

/// A hostile local client against a real daemon's control socket: numbers that would overflow,
/// requests never finished, more connections than the cap. The daemon stays up and keeps
/// answering its operator; nothing is queued.
@Suite(.serialized) struct ControlSocketHostileTests {
    /// A raw connection to the control socket, as a hostile client opens it.
    func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
            raw[path.utf8.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(fd >= 0 && connected == 0, "connect: \(String(cString: strerror(errno)))")
        return fd
    }

    /// What the daemon does with a connection: answers a line, or closes it (nil).
    func outcome(_ fd: Int32) -> String? {
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EAGAIN { return "still open after 30 s" }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    @Test func overflowingIdleAndSurplusRequestsNeverStopTheDaemon() throws {
        let net = try TestNetwork()
        try net.start([district1])
        defer { net.stopAll() }
        let socket = net.home(district1) + "/control.sock"
        let client = ControlClient(socketPath: socket, timeoutSeconds: 30)

        // expiresInMs = Int64.max once crashed the daemon (arithmetic overflow): now a clear refusal.
        for expires: Int64 in [.max, .min, 0, 91 * 86_400_000] {
            let answer = try client.call(.send(SendRequest(to: [commune11], urgency: "thuong", expiresInMs: expires,
                                                           subject: "Hạn quá xa", files: [])))
            #expect(answer.error?.code == "SEND-EXPIRY", "\(expires): \(String(describing: answer.error))")
            #expect(answer.error?.message.contains("90 days") == true)
        }
        let cli = (try? net.cli(district1, "send", "--to", commune11, "--subject", "x", "--expires", "99999d"))
            ?? "refused"
        #expect(cli == "refused")
        #expect(try client.call(.send(SendRequest(to: [commune11], urgency: "thuong", expiresInMs: 90 * 86_400_000,
                                                  subject: "Đúng hạn", files: []))).ok)

        // 200 half-written requests: 64 are served (and closed at the deadline), the rest told
        // CONTROL-BUSY at once; none is held beyond the deadline.
        let fds = try (0..<200).map { _ in
            let fd = try connect(socket)
            let partial = Array("{\"v\":1,\"request\":{\"st".utf8)
            _ = partial.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            return fd
        }
        let outcomes = fds.map(outcome)
        fds.forEach { close($0) }
        let closed = outcomes.filter { $0 == nil }.count
        let busy = outcomes.filter { $0?.contains("CONTROL-BUSY") == true }.count
        #expect(closed == ControlLimits.maxConnections && busy == 200 - ControlLimits.maxConnections,
                "closed \(closed), busy \(busy), other \(Set(outcomes.compactMap { $0 }))")
        // The operator is answered again: the daemon (which is never restarted here) is up.
        #expect(try client.call(.status).ok)
        #expect(try net.json(TrackListCheck.self, district1, "queue", "list", "--json").count == 1)
    }
}

/// Just the count of `queue list --json`.
struct TrackListCheck: Decodable { let count: Int }
