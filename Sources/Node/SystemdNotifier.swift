import Foundation
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's side of systemd's notify protocol (`Type=notify`), without libsystemd: one
/// datagram per state on the socket named by `$NOTIFY_SOCKET` (a path, or `@name` in the
/// abstract namespace). Nothing is sent when the variable is unset.
///
/// Security note: the socket path comes from the environment the service manager set; messages
/// are fixed state strings, never data from the network.
public struct SystemdNotifier: Sendable {
    let path: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// How often systemd wants `WATCHDOG=1` (half its `WatchdogSec`), if it wants it.
    public static func watchdogInterval(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Duration? {
        guard let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return .microseconds(Int64(usec / 2))
    }

    /// Sends `state` (`READY=1`, `STOPPING=1`, `WATCHDOG=1`); returns whether it went out.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // the abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let sent = state.utf8CString.withUnsafeBufferPointer { message in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, message.baseAddress, message.count - 1, 0, $0, length)
                }
            }
        }
        return sent >= 0
    }
}

/// Tells systemd the node is stopping when graceful shutdown begins, and pets its watchdog
/// (every half `WatchdogSec`) while the node runs. `READY=1` comes from `ControlService`,
/// once the control socket answers.
struct SystemdService: Service {
    let notifier: SystemdNotifier

    func run() async throws {
        if let interval = SystemdNotifier.watchdogInterval() {
            try? await cancelWhenGracefulShutdown {
                while true {
                    notifier.notify("WATCHDOG=1")
                    try await Task.sleep(for: interval)
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        notifier.notify("STOPPING=1")
    }
}
