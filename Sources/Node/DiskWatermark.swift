import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The low-disk watermarks (`diskWarnFreePercent`, `diskRefuseFreePercent`): under the first the
/// node warns (log and `lienthong_disk_watermark` 1), under the second it also refuses new local
/// sends (2) — a document a clerk cannot send is a clear error at the desk, while custody from a
/// neighbour keeps coming in as long as SQLite finds room (a full disk is a temporary refusal the
/// neighbour retries, docs/RELIABILITY.md).
public struct DiskWatermark: Sendable, Equatable {
    public enum Level: Int, Sendable, Comparable {
        case ok = 0
        case low = 1
        case refusing = 2
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    /// Free space and size of a file system, bytes.
    public struct Usage: Sendable, Equatable {
        public let free: UInt64
        public let size: UInt64
        public var freePercent: Double { size == 0 ? 100 : Double(free) * 100 / Double(size) }
    }

    public let warnPercent: Int
    public let refusePercent: Int

    public init(_ settings: NodeSettings) {
        warnPercent = settings.diskWarnFreePercent ?? 10
        refusePercent = settings.diskRefuseFreePercent ?? 5
    }

    /// Free bytes (for unprivileged users) and size of the file system holding `path`.
    public static func usage(_ path: String) -> Usage {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return Usage(free: 0, size: 0) }
        return Usage(free: UInt64(s.f_bavail) * UInt64(s.f_frsize), size: UInt64(s.f_blocks) * UInt64(s.f_frsize))
    }

    public func level(_ usage: Usage) -> Level {
        guard usage.size > 0 else { return .ok }  // unreadable: never refuse on a guess
        if usage.freePercent < Double(refusePercent) { return .refusing }
        if usage.freePercent < Double(warnPercent) { return .low }
        return .ok
    }

    /// What an operator reads: how much is free and what to do.
    public func describe(_ usage: Usage, path: String) -> String {
        let percent = String(format: "%.1f", usage.freePercent)
        return """
            \(usage.free >> 20) MiB (\(percent) %) free on the file system of \(path); warn under \(warnPercent) %, \
            refuse local sends under \(refusePercent) %: free space (old archives, logs) or move the spool to a \
            larger disk
            """
    }
}
