import Diagnostics
import GRDB

/// The error type of the Spool module: a stable code, an operator-readable message, the cause.
public struct SpoolError: Error, CustomStringConvertible, Sendable, LienThongError {
    public enum Code: String, Sendable {
        /// The disk is full: the node refuses new envelopes rather than lose any.
        case diskFull = "SPOOL-DISK-FULL"
        /// The database file is damaged or is not a spool.
        case corrupt = "SPOOL-CORRUPT"
        /// The database was written by a newer LienThong.
        case newerVersion = "SPOOL-NEWER-VERSION"
        /// Another process holds the database.
        case locked = "SPOOL-LOCKED"
        /// A chunk does not match the digest its origin signed: not stored.
        case chunkRejected = "SPOOL-CHUNK-REJECTED"
        /// A peer's partial envelopes would exceed its share of the disk: refused for now.
        case partialQuota = "SPOOL-PARTIAL-QUOTA"
        /// An operation on an envelope the spool does not hold (or not in that state).
        case notFound = "SPOOL-NOT-FOUND"
        /// A request that contradicts the spool's state (e.g. completing a partial envelope).
        case invalidState = "SPOOL-INVALID-STATE"
        case invalidArgument = "SPOOL-ARGUMENT"
        /// A new document whose identity this node already sent (checked again inside the commit).
        case duplicateDocument = "EDXML-DUPLICATE"
        /// Any other SQLite failure.
        case database = "SPOOL-DATABASE"
        case io = "SPOOL-IO"
    }

    /// The stable code (`LienThongError`).
    public var errorCode: String { code.rawValue }

    public let code: Code
    public let message: String
    public let cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        var s = "[\(code.rawValue)] \(message)"
        if let cause { s += " (cause: \(cause))" }
        return s
    }

    /// Maps an SQLite failure onto a code an operator can act on. `path` names the file.
    static func from(_ error: any Error, path: String) -> any Error {
        if error is SpoolError { return error }
        guard let db = error as? DatabaseError else { return error }
        let cause = "SQLite \(db.resultCode): \(db.message ?? "")"
        switch db.resultCode.primaryResultCode {
        case .SQLITE_FULL:
            return SpoolError(
                .diskFull,
                """
                the disk holding \(path) is full: new envelopes are refused until space is freed; nothing \
                already accepted is lost
                """,
                cause: cause)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return SpoolError(
                .corrupt,
                """
                \(path) is damaged or is not a LienThong spool; stop the node, keep the file for analysis, and \
                restore from backup
                """,
                cause: cause)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return SpoolError(
                .locked, "\(path) is locked by another process (is another lienthongd running on this home?)",
                cause: cause)
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM:
            return SpoolError(
                .io, "cannot read or write \(path): check the disk and the file's permissions", cause: cause)
        default:
            return SpoolError(.database, "database error on \(path)", cause: cause)
        }
    }
}
