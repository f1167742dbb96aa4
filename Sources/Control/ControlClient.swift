import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CLI's side of the control socket: blocking, one request per connection.
public struct ControlClient: Sendable {
    public let socketPath: String
    public var timeoutSeconds: Int

    public init(socketPath: String, timeoutSeconds: Int = 120) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    /// Sends `request` and waits for the answer. Throws `.notRunning` when no daemon listens.
    public func call(_ request: ControlRequest) throws -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ControlError(.io, "cannot create a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ControlError(
                .io, "the control socket path \(socketPath) is too long for a Unix socket; use a shorter --home")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            throw ControlError(
                .notRunning,
                """
                no node answers on \(socketPath) (\(String(cString: strerror(errno)))); start it with \
                `lienthongd --home DIR`, or add --offline to read the spool directly
                """
            )
        }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let bytes = try ControlCodec.encode(request)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                throw ControlError(.io, "writing to \(socketPath) failed: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
        var framer = LineFramer(maxLine: ControlLimits.maxResponseBytes)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ControlError(
                    .io,
                    n == 0
                        ? "the node closed the control connection without answering"
                        : "reading from \(socketPath) failed: \(String(cString: strerror(errno)))")
            }
            if let line = try framer.feed(chunk[0..<n]).first { return try ControlCodec.decodeResponse(line) }
        }
    }
}
