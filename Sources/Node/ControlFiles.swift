import Control
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The bytes of one control connection after its request line: the line itself, then the
/// uploads, read from NIO's inbound stream with the line's size checked before it is buffered.
struct ControlStream {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var pending: [UInt8] = []

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.inbound = inbound }

    /// The request line (without its newline), or nil if the caller hung up first.
    mutating func line(max: Int) async throws -> [UInt8]? {
        while true {
            if let end = pending.firstIndex(of: 0x0a) {
                let line = Array(pending[..<end])
                pending.removeFirst(end + 1)
                return line
            }
            guard let buffer = try await inbound.next() else { return nil }
            let bytes = buffer.readableBytesView
            let lineEnd = bytes.firstIndex(of: 0x0a).map { bytes.distance(from: bytes.startIndex, to: $0) }
            guard pending.count + (lineEnd ?? bytes.count) <= max else {
                throw ControlError(.tooLarge, "a control line is longer than \(max) bytes")
            }
            pending += bytes
        }
    }

    /// Up to `max` further bytes; nil at the end of the connection.
    mutating func next(max: Int) async throws -> ArraySlice<UInt8>? {
        if pending.isEmpty {
            guard let buffer = try await inbound.next() else { return nil }
            pending = Array(buffer.readableBytesView)
        }
        let n = min(max, pending.count)
        let piece = pending[..<n]
        pending = Array(pending[n...])
        return piece
    }
}

/// Where a control connection's files live while its request runs: `DIR/tmp/control-UUID`,
/// removed when the connection ends. Uploads are written there and the request's `upload:N`
/// placeholders replaced by their paths; an export the caller asked back is written there and
/// streamed after the answer.
///
/// Security note: upload names and sizes were checked by `ControlCodec.decodeRequestLine`; each
/// file is created exclusively (0600) under its own numbered directory, and the whole upload must
/// fit on the disk with room to spare before a byte is written.
struct ControlFiles {
    let home: String
    let root: String

    init(home: String) {
        self.home = home
        root = home + "/tmp/control-" + UUID().uuidString
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Receives the uploads and returns the request reading them from here.
    func receive(_ line: ControlRequestLine, from stream: inout ControlStream) async throws -> ControlRequest {
        var paths: [String] = []
        if !line.uploads.isEmpty {
            let total = line.uploads.reduce(UInt64(0)) { $0 + $1.size }
            let free = DiskWatermark.usage(home).free
            guard total + (64 << 20) < free else {
                throw NodeError(
                    .sendDiskFull,
                    """
                    \(total >> 20) MiB of files do not fit in the \
                    \(free >> 20) MiB free on the node's disk; free space
                    """
                )
            }
        }
        for (i, upload) in line.uploads.enumerated() {
            let dir = root + "/\(i)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path = dir + "/" + upload.name
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw NodeError(.homeIo, "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            var left = upload.size
            while left > 0 {
                guard let piece = try await stream.next(max: Int(min(left, 1 << 20))) else {
                    throw ControlError(.io, "the caller hung up while sending \(upload.name); nothing was done")
                }
                let written = piece.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard written == piece.count else {
                    throw NodeError(.homeIo, "cannot write \(path): \(String(cString: strerror(errno)))")
                }
                left -= UInt64(piece.count)
            }
            paths.append(path)
        }
        let inputs = try line.request.inputPaths.map { input -> String in
            guard let index = ControlTransfer.index(of: input) else { return input }
            guard paths.indices.contains(index) else {
                throw ControlError(.malformed, "the request names \(input) but \(paths.count) file(s) came with it")
            }
            return paths[index]
        }
        return line.request.replacingInputs(inputs)
    }

    /// Points the request's output here; returns where it will be.
    func redirectOutput(_ request: inout ControlRequest) throws -> (path: String, isDirectory: Bool)? {
        guard let out = request.output else { return nil }
        let dir = root + "/out"
        if out.isDirectory {
            request = request.replacingOutput(dir)
            return (dir, true)
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let name = (out.path as NSString).lastPathComponent
        let path = dir + "/" + ((try? ControlTransfer.checkName(name)) != nil ? name : "export")
        request = request.replacingOutput(path)
        return (path, false)
    }

    /// The files the request wrote, as transfers and paths to stream.
    func collect(_ output: (path: String, isDirectory: Bool)) throws -> ([ControlTransfer], [String]) {
        let files = FileManager.default
        let paths: [String]
        if output.isDirectory {
            let names = ((try? files.contentsOfDirectory(atPath: output.path)) ?? []).sorted()
            paths = names.map { output.path + "/" + $0 }.filter {
                (try? files.attributesOfItem(atPath: $0)[.type] as? FileAttributeType) == .typeRegular
            }
        } else {
            paths = files.fileExists(atPath: output.path) ? [output.path] : []
        }
        let transfers = try paths.map { path in
            let size = (try files.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
            return ControlTransfer(name: (path as NSString).lastPathComponent, size: size)
        }
        try ControlTransfer.checkAll(transfers)
        return (transfers, paths)
    }

    /// Streams one file to the caller after the answer.
    static func send(_ path: String, with reply: ([UInt8]) async throws -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw NodeError(.homeIo, "cannot read \(path) to send it back")
        }
        defer { try? handle.close() }
        while let data = try handle.read(upToCount: 1 << 16), !data.isEmpty {
            try await reply(Array(data))
        }
    }
}
