import Diagnostics

/// The error type of the Node module: a stable code (`HOME-…`, `SEND-…`, `INBOX-…`, `TRACK-…`,
/// `NODE-…`), a message an operator can act on, and the cause when there is one.
public struct NodeError: Error, CustomStringConvertible, Sendable, LienThongError {
    /// Every code the Node module reports (docs/OPERATIONS.md).
    public enum Code: String, Sendable, CaseIterable {
        case backupArchive = "BACKUP-ARCHIVE"
        case backupIo = "BACKUP-IO"
        case backupPassphrase = "BACKUP-PASSPHRASE"
        case backupTarget = "BACKUP-TARGET"
        case edxmlDuplicate = "EDXML-DUPLICATE"
        case edxmlNoRecipient = "EDXML-NO-RECIPIENT"
        case edxmlNotDocument = "EDXML-NOT-DOCUMENT"
        case edxmlNotFromHere = "EDXML-NOT-FROM-HERE"
        case edxmlNotStatus = "EDXML-NOT-STATUS"
        case edxmlResponseMismatch = "EDXML-RESPONSE-MISMATCH"
        case edxmlStatusCode = "EDXML-STATUS-CODE"
        case edxmlStatusReason = "EDXML-STATUS-REASON"
        case edxmlUnknownOrgan = "EDXML-UNKNOWN-ORGAN"
        case homeConfig = "HOME-CONFIG"
        case homeExists = "HOME-EXISTS"
        case homeIo = "HOME-IO"
        case homeKeyMismatch = "HOME-KEY-MISMATCH"
        case homeMissing = "HOME-MISSING"
        case homeNotInTopology = "HOME-NOT-IN-TOPOLOGY"
        case homeSetting = "HOME-SETTING"
        case homeUnsigned = "HOME-UNSIGNED"
        case inboxAmbiguous = "INBOX-AMBIGUOUS"
        case inboxArchived = "INBOX-ARCHIVED"
        case inboxExport = "INBOX-EXPORT"
        case inboxNotFound = "INBOX-NOT-FOUND"
        case inboxReason = "INBOX-REASON"
        case inboxRecallState = "INBOX-RECALL-STATE"
        case inboxRecalled = "INBOX-RECALLED"
        case inboxStatus = "INBOX-STATUS"
        case inboxUnknownOrigin = "INBOX-UNKNOWN-ORIGIN"
        case keysRotate = "KEYS-ROTATE"
        case nodeAlreadyRunning = "NODE-ALREADY-RUNNING"
        case nodeControlSocket = "NODE-CONTROL-SOCKET"
        case nodeLock = "NODE-LOCK"
        case nodeNoEndpoint = "NODE-NO-ENDPOINT"
        case noticeMalformed = "NOTICE-MALFORMED"
        case noticeNoKey = "NOTICE-NO-KEY"
        case queueAmbiguous = "QUEUE-AMBIGUOUS"
        case queueNotFound = "QUEUE-NOT-FOUND"
        case queueReason = "QUEUE-REASON"
        case queueSelect = "QUEUE-SELECT"
        case recallDone = "RECALL-DONE"
        case recallReason = "RECALL-REASON"
        case sendBatchTooLarge = "SEND-BATCH-TOO-LARGE"
        case sendEachFileCode = "SEND-EACH-FILE-CODE"
        case sendDiskFull = "SEND-DISK-FULL"
        case sendDueDate = "SEND-DUE-DATE"
        case sendEdxmlArgs = "SEND-EDXML-ARGS"
        case sendExpiry = "SEND-EXPIRY"
        case sendFile = "SEND-FILE"
        case sendNoFile = "SEND-NO-FILE"
        case sendNoRecipient = "SEND-NO-RECIPIENT"
        case sendSecrecy = "SEND-SECRECY"
        case sendUnknownRecipient = "SEND-UNKNOWN-RECIPIENT"
        case sendUrgency = "SEND-URGENCY"
        case trackAmbiguous = "TRACK-AMBIGUOUS"
        case trackExport = "TRACK-EXPORT"
        case trackNotFound = "TRACK-NOT-FOUND"
    }

    public let code: Code
    public let message: String
    public let cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var errorCode: String { code.rawValue }
    public var description: String { report }
}
