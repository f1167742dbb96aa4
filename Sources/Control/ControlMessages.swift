/// Control: the operator's protocol between `lienthong` and a running `lienthongd`.
///
/// One request per connection on the node's Unix socket (`DIR/control.sock`, owner-only): the
/// client writes one JSON line, the server answers with one JSON line and closes. Formats are in
/// docs/OPERATIONS.md ("Control socket"). This module is pure (Foundation and `Diagnostics` only) so the daemon,
/// the CLI and the fuzzers share one parser.
///
/// Security note: the server parses requests from any process that can open the socket; the
/// socket is 0600 inside a 0700 home, so that is the node's owner. Requests are size-limited
/// before buffering (`ControlLimits`), decoded strictly, and never echo secrets; responses carry
/// public data only (ids, statuses, counts, document metadata the owner may read anyway).
import Diagnostics
import Foundation

/// Limits of the control protocol, checked before buffering.
public enum ControlLimits {
    /// Longest request line.
    public static let maxRequestBytes = 64 * 1024
    /// Longest response line the client accepts.
    public static let maxResponseBytes = 64 << 20
    /// Version of the request/response format.
    public static let version = 2
    /// Seconds a client has to send its whole request line; then the daemon closes the connection
    /// (a half-written request must not hold a descriptor for as long as the client likes).
    public static let requestDeadlineSeconds = 5
    /// Connections served at once; one more is answered `CONTROL-BUSY` and closed.
    public static let maxConnections = 64
    /// Files that may travel with one request or answer (`ControlTransfer`), and their total bytes.
    public static let maxTransfers = 1000
    public static let maxTransferBytes: UInt64 = 8 << 30
}

/// What the operator asks the node to do.
public enum ControlRequest: Codable, Sendable, Equatable {
    case status
    case peers
    case send(SendRequest)
    case inboxList(limit: Int)
    case inboxShow(id: String)
    case inboxExport(id: String, out: String)
    /// The document as one edXML package at `out`: the original bytes, or a generated package.
    case inboxExportEdXML(id: String, out: String)
    case inboxSetStatus(id: String, status: String, reason: String?)
    /// A status package from the recipient's e-office software, applied like `inboxSetStatus`.
    case inboxStatusEdXML(id: String, file: String)
    /// The clerk answers a recall: 15 (accept: the content is destroyed) or 16 (reject).
    case inboxRecall(id: String, accept: Bool, reason: String?)
    /// One document's tracking (`id`), or the newest `limit` documents this node sent (200 unless
    /// given; at most 100,000).
    case track(id: String?, limit: Int? = nil)
    /// One standard status package per recipient of a sent document, written into `out`.
    case trackEdXMLStatus(id: String, out: String)
    /// Recall (13) a sent document from every recipient.
    case recall(id: String, reason: String)
    case queue(QueueAction)
    /// A signed topology to apply now and pass to every neighbour (`topology publish`).
    case topologyPublish(file: String)
    /// An envelope file to take into the spool through the node's gate (`envelope import`);
    /// `from` names the neighbour it came from, if it came from one.
    case envelopeImport(file: String, from: String?)
}

/// `lienthong send`.
public struct SendRequest: Codable, Sendable, Equatable {
    public var to: [String]
    public var urgency: String
    public var expiresInMs: Int64
    public var subject: String
    public var codeNumber: String?
    public var codeNotation: String?
    public var documentType: String?
    public var secrecy: String
    public var files: [String]
    /// Each file is its own document (same recipients and metadata), all accepted in one
    /// transaction: a batch of scanned documents, or a benchmark.
    public var eachFile: Bool?
    /// An edXML package to send (recipients, urgency and metadata come from its header; `to`,
    /// `subject` and `files` are then empty).
    public var edxml: String?
    /// With `edxml`: send to the recipients that are in the topology and report the others.
    public var skipUnknown: Bool?
    /// Send even though a document with the same DocumentId was sent before.
    public var resend: Bool?
    /// Hạn xử lý: the date by which the recipient is to have dealt with it (`YYYY-MM-DD`).
    public var dueDate: String?

    public init(
        to: [String], urgency: String, expiresInMs: Int64, subject: String, codeNumber: String? = nil,
        codeNotation: String? = nil, documentType: String? = nil, secrecy: String = "Thường", files: [String],
        eachFile: Bool? = nil
    ) {
        self.eachFile = eachFile
        self.to = to
        self.urgency = urgency
        self.expiresInMs = expiresInMs
        self.subject = subject
        self.codeNumber = codeNumber
        self.codeNotation = codeNotation
        self.documentType = documentType
        self.secrecy = secrecy
        self.files = files
    }
}

/// `lienthong queue hold|release|retry|delete` against the running node.
public struct QueueAction: Codable, Sendable, Equatable {
    public enum Verb: String, Codable, Sendable { case hold, release, retry, delete }
    public var verb: Verb
    /// Envelope ids or prefixes; empty with `all` set acts on every entry.
    public var ids: [String]
    public var all: Bool
    public var peer: String?
    public var reason: String?
    public var actor: String

    public init(verb: Verb, ids: [String], all: Bool, peer: String?, reason: String?, actor: String) {
        self.verb = verb
        self.ids = ids
        self.all = all
        self.peer = peer
        self.reason = reason
        self.actor = actor
    }
}

/// The node's answer: a result, or an error with a code and an actionable message.
public struct ControlResponse: Codable, Sendable, Equatable {
    public var ok: Bool
    public var error: ControlFailure?
    public var result: ControlResult?
    /// Files whose bytes follow the answer's line, in order (a request sent with `download`).
    public var downloads: [ControlTransfer]?

    public static func success(_ r: ControlResult) -> ControlResponse {
        ControlResponse(ok: true, error: nil, result: r, downloads: nil)
    }
    public static func failure(_ code: String, _ message: String, cause: String? = nil) -> ControlResponse {
        ControlResponse(
            ok: false, error: ControlFailure(code: code, message: message, cause: cause), result: nil, downloads: nil)
    }

    /// Any error as an answer: a module's code, message and cause as they are; anything else
    /// (a bug) as `NODE-ERROR` with its text.
    public static func failure(_ error: any Error) -> ControlResponse {
        guard let e = error as? any LienThongError else { return failure("NODE-ERROR", "\(error)") }
        return failure(e.errorCode, e.message, cause: e.cause)
    }
}

/// A refused request: the stable code, the message for the operator, and the cause if any.
public struct ControlFailure: Codable, Sendable, Equatable, LienThongError {
    public var code: String
    public var message: String
    public var cause: String?

    public init(code: String, message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var errorCode: String { code }
    public var description: String { report }
}

/// One result type per request.
public enum ControlResult: Codable, Sendable, Equatable {
    case status(NodeStatusReport)
    case peers([PeerReport])
    case sent(SentReport)
    case inbox([InboxItem])
    case document(DocumentView)
    case exported(ExportReport)
    case statusChanged(changed: Bool)
    case tracking(TrackReport)
    case sentList([TrackSummary])
    case queueChanged(count: Int)
    /// `recall`: how many recipients the recall (13) is on its way to.
    case recalled(recipients: Int)
    /// `topologyPublish`: the version now in force and the neighbours it is on its way to.
    case topologyApplied(version: Int, neighbours: Int)
    /// `envelopeImport`: what the gate did with the envelope.
    case imported(ImportReport)
}
