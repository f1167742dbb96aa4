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
        try call(request, uploads: [], download: nil)
    }

    /// Sends `request` with the files at `uploads` streamed after it (the request names them
    /// `upload:0`, `upload:1`…), and writes what the answer brings back into `download` (a
    /// directory, or one file) when given.
    public func call(
        _ request: ControlRequest, uploads: [String], download: (path: String, isDirectory: Bool)?
    ) throws -> ControlResponse {
        var sources: [(fd: Int32, transfer: ControlTransfer)] = []
        defer { for s in sources { close(s.fd) } }
        for path in uploads {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            var st = stat()
            guard fd >= 0, fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
                if fd >= 0 { close(fd) }
                throw ControlError(
                    .io, "cannot read \(path): \(String(cString: strerror(errno))); give a readable file")
            }
            sources.append((fd, ControlTransfer(name: (path as NSString).lastPathComponent, size: UInt64(st.st_size))))
        }
        let fd = try connectSocket()
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let line = try ControlCodec.encode(request, uploads: sources.map(\.transfer), download: download != nil)
        try writeAll(fd, line)
        var chunk = [UInt8](repeating: 0, count: 65536)
        for source in sources {
            var left = source.transfer.size
            while left > 0 {
                let n = chunk.withUnsafeMutableBytes { read(source.fd, $0.baseAddress, min($0.count, Int(left))) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    throw ControlError(.io, "\(source.transfer.name) changed while it was being sent; send it again")
                }
                try writeAll(fd, Array(chunk[0..<n]))
                left -= UInt64(n)
            }
        }
        var reader = SocketReader(fd: fd, path: socketPath)
        let response = try ControlCodec.decodeResponse(try reader.line(max: ControlLimits.maxResponseBytes))
        if let downloads = response.downloads, let download {
            try ControlTransfer.checkAll(downloads)
            try reader.save(downloads, to: download)
        }
        return response
    }

    /// Sends `request` (no files either way) and returns the answer's line undecoded: a long
    /// list printed as JSON is passed through (`ControlCodec.rawResult`), not decoded and encoded again.
    public func callLine(_ request: ControlRequest) throws -> [UInt8] {
        let fd = try connectSocket()
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        try writeAll(fd, try ControlCodec.encode(request))
        var reader = SocketReader(fd: fd, path: socketPath)
        return try reader.line(max: ControlLimits.maxResponseBytes)
    }

    private func connectSocket() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ControlError(.io, "cannot create a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
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
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ControlError(
                .notRunning,
                """
                no node answers on \(socketPath) (\(reason)); start it with \
                `lienthongd --home DIR`, or add --offline to read the spool directly
                """
            )
        }
        return fd
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ControlError(.io, "writing to \(socketPath) failed: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }
}

/// Reads the answer's line, then the files after it, from a blocking socket.
struct SocketReader {
    let fd: Int32
    let path: String
    private var buffer: [UInt8] = []

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    private mutating func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ControlError(
                    .io,
                    n == 0
                        ? "the node closed the control connection without answering"
                        : "reading from \(path) failed: \(String(cString: strerror(errno)))")
            }
            buffer += chunk[0..<n]
            return
        }
    }

    mutating func line(max: Int) throws -> [UInt8] {
        var searched = 0
        while true {
            if let end = buffer[searched...].firstIndex(of: 0x0a) {
                let line = Array(buffer[..<end])
                buffer.removeFirst(end + 1)
                return line
            }
            searched = buffer.count
            guard buffer.count <= max else {
                throw ControlError(.tooLarge, "the node's answer is longer than \(max) bytes")
            }
            try fill()
        }
    }

    /// Writes each download under a temporary name, renamed when whole.
    mutating func save(_ downloads: [ControlTransfer], to target: (path: String, isDirectory: Bool)) throws {
        if target.isDirectory {
            try FileManager.default.createDirectory(atPath: target.path, withIntermediateDirectories: true)
        }
        for d in downloads {
            let final = target.isDirectory ? target.path + "/" + d.name : target.path
            let temporary = final + ".part"
            let out = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard out >= 0 else {
                throw ControlError(.io, "cannot write \(temporary): \(String(cString: strerror(errno)))")
            }
            defer { close(out) }
            var left = d.size
            while left > 0 {
                if buffer.isEmpty { try fill() }
                let n = Int(min(UInt64(buffer.count), left))
                let written = buffer.withUnsafeBytes { write(out, $0.baseAddress, n) }
                guard written == n else {
                    unlink(temporary)
                    throw ControlError(.io, "cannot write \(temporary): \(String(cString: strerror(errno)))")
                }
                buffer.removeFirst(n)
                left -= UInt64(n)
            }
            guard rename(temporary, final) == 0 else {
                throw ControlError(.io, "cannot rename \(temporary): \(String(cString: strerror(errno)))")
            }
        }
    }
}
