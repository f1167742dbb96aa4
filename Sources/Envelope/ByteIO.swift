#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stream of bytes read in pieces, so nothing ever needs the whole document in memory.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Where streamed bytes go.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteSource {
    /// Fills `buffer` completely, or throws `truncated` if the source ends first.
    public func readExactly(into buffer: UnsafeMutableRawBufferPointer, what: String) throws {
        var filled = 0
        while filled < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            guard n > 0 else {
                throw EnvelopeError(.truncated, "\(what) is truncated: got \(filled) of \(buffer.count) bytes")
            }
            filled += n
        }
    }

    public func readExactly(_ count: Int, what: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        if count > 0 { try out.withUnsafeMutableBytes { try readExactly(into: $0, what: what) } }
        return out
    }
}

/// Reads from an in-memory byte array.
public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
        offset += n
        return n
    }
}

/// Collects written bytes in memory (tests, small payloads).
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b) }
}

/// Counts and discards bytes (benchmarks).
public final class DiscardSink: ByteSink {
    public private(set) var count: UInt64 = 0
    public init() {}
    public func write(_ b: UnsafeRawBufferPointer) throws { count += UInt64(b.count) }
}

/// A file opened for reading, read with plain `read(2)`.
public final class FileSource: ByteSource {
    let fd: Int32
    public let path: String

    public init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw EnvelopeError(.io, "cannot open \(path) for reading", cause: FileSource.errnoText())
        }
        self.path = path
    }

    /// The file's size in bytes.
    public func size() throws -> UInt64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EnvelopeError(.io, "cannot stat \(path)", cause: Self.errnoText()) }
        return UInt64(st.st_size)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw EnvelopeError(.io, "cannot read \(path)", cause: Self.errnoText())
        }
    }

    deinit { close(fd) }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// A file opened for writing. `close()` fsyncs, so a successful close means the bytes are durable.
public final class FileSink: ByteSink {
    let fd: Int32
    public let path: String
    private var closed = false

    /// Creates (or truncates, when `replace`) a file with the given mode.
    public init(path: String, mode: mode_t = 0o644, replace: Bool = false) throws {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL)
        fd = open(path, flags, mode)
        guard fd >= 0 else { throw EnvelopeError(.io, "cannot create \(path)", cause: FileSource.errnoText()) }
        self.path = path
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw EnvelopeError(.io, "cannot write \(path)", cause: FileSource.errnoText()) }
            done += n
        }
    }

    /// Writes `bytes` at `offset` without moving the append position (header back-patching).
    public func write(_ bytes: [UInt8], at offset: UInt64) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes {
                pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(offset) + off_t(done))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw EnvelopeError(.io, "cannot write \(path)", cause: FileSource.errnoText()) }
            done += n
        }
    }

    /// Flushes to disk (unless `durable` is false: a scratch file the spool copies and deletes)
    /// and closes.
    public func close(durable: Bool = true) throws {
        guard !closed else { return }
        closed = true
        let syncFailed = durable && fsync(fd) != 0
        let err = FileSource.errnoText()
        Glibc.close(fd)
        if syncFailed { throw EnvelopeError(.io, "cannot sync \(path) to disk", cause: err) }
    }

    deinit { if !closed { Glibc.close(fd) } }
}
