import Foundation

/// `lienthong status`.
public struct NodeStatusReport: Codable, Sendable, Equatable {
    public var node: String
    public var name: String
    /// Seconds since the daemon started; nil when read offline.
    public var uptimeSeconds: Int64?
    public var queueByState: [String: Int]
    public var queueTotal: Int
    /// Age in seconds of the oldest queue entry; nil when the queue is empty.
    public var oldestEntryAgeSeconds: Int64?
    public var inboxDocuments: Int
    public var sentDocuments: Int
    public var spoolBytes: UInt64
    /// The desk's address (web app and `/api/v1`), when it listens.
    public var desk: String?
    /// Where Prometheus scrapes the node (`/metrics` on the desk's server).
    public var metrics: String?
    /// The version of the signed topology in force.
    public var topologyVersion: Int?

    public init(
        node: String, name: String, uptimeSeconds: Int64?, queueByState: [String: Int], queueTotal: Int,
        oldestEntryAgeSeconds: Int64?, inboxDocuments: Int, sentDocuments: Int, spoolBytes: UInt64
    ) {
        self.node = node
        self.name = name
        self.uptimeSeconds = uptimeSeconds
        self.queueByState = queueByState
        self.queueTotal = queueTotal
        self.oldestEntryAgeSeconds = oldestEntryAgeSeconds
        self.inboxDocuments = inboxDocuments
        self.sentDocuments = sentDocuments
        self.spoolBytes = spoolBytes
    }
}

/// One neighbour in `lienthong peers`. Times are milliseconds since the epoch.
public struct PeerReport: Codable, Sendable, Equatable {
    public var peer: String
    public var name: String
    /// `parent`, `failover-parent`, `child` or `failover-child`.
    public var role: String
    public var connected: Bool
    public var connectedSince: Int64?
    public var lastContact: Int64?
    public var backlogEntries: Int
    public var backlogBytes: UInt64
    public var bytesIn: UInt64
    public var bytesOut: UInt64
    public var sessions: Int
    /// Parents only: the current reconnect backoff and when the next dial is due.
    public var backoffMs: Int64?
    public var nextDialAt: Int64?
    public var lastError: String?

    public init(
        peer: String, name: String, role: String, connected: Bool, connectedSince: Int64?, lastContact: Int64?,
        backlogEntries: Int, backlogBytes: UInt64, bytesIn: UInt64, bytesOut: UInt64, sessions: Int,
        backoffMs: Int64?, nextDialAt: Int64?, lastError: String?
    ) {
        self.peer = peer
        self.name = name
        self.role = role
        self.connected = connected
        self.connectedSince = connectedSince
        self.lastContact = lastContact
        self.backlogEntries = backlogEntries
        self.backlogBytes = backlogBytes
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.sessions = sessions
        self.backoffMs = backoffMs
        self.nextDialAt = nextDialAt
        self.lastError = lastError
    }
}

/// `lienthong send`.
public struct SentReport: Codable, Sendable, Equatable {
    public var id: String
    /// With `eachFile`: every document's id, in file order (`id` is the first).
    public var ids: [String]?
    public var recipients: Int
    public var payloadBytes: UInt64
    public var nextHops: [String]
    /// With an edXML package: its DocumentId, and the To OrganIds skipped with `skipUnknown`.
    public var documentId: String?
    public var skipped: [String]?
    public init(id: String, ids: [String]? = nil, recipients: Int, payloadBytes: UInt64, nextHops: [String]) {
        self.id = id
        self.ids = ids
        self.recipients = recipients
        self.payloadBytes = payloadBytes
        self.nextHops = nextHops
    }
}

/// One document in `lienthong inbox list`.
public struct InboxItem: Codable, Sendable, Equatable {
    public var id: String
    public var origin: String
    public var originName: String
    public var urgency: String
    public var receivedAt: Int64
    public var status: String
    public var statusAt: Int64
    public var payloadBytes: UInt64
    /// A recall beside the status: `13` (the sender recalls it), `15` / `16` (the clerk's answer).
    public var recall: String?
    /// edXML identity, when the node recorded it: DocumentId, số/ký hiệu, BussinessDocType, trích yếu.
    public var documentId: String?
    public var reference: String?
    public var businessDocType: Int?
    public var subject: String?
    public init(
        id: String, origin: String, originName: String, urgency: String, receivedAt: Int64, status: String,
        statusAt: Int64, payloadBytes: UInt64
    ) {
        self.id = id
        self.origin = origin
        self.originName = originName
        self.urgency = urgency
        self.receivedAt = receivedAt
        self.status = status
        self.statusAt = statusAt
        self.payloadBytes = payloadBytes
    }
}

/// `lienthong inbox show`: the item plus its opened metadata and file list.
public struct DocumentView: Codable, Sendable, Equatable {
    public var item: InboxItem
    public var subject: String
    public var reference: String?
    public var documentType: String?
    public var files: [FileEntry]
    /// edXML: the DocumentId, BussinessDocType, and whether the original package is held.
    public var documentId: String?
    public var businessDocType: Int?
    public var edxmlPackage: Bool?
    /// The received document this one revokes, updates or replaces (envelope id).
    public var refersToEnvelope: String?
    /// Later documents linked to this one: revocations, updates, replacements, duplicates.
    public var related: [Related]?
    /// When the content was destroyed after the clerk agreed to a recall (15); the metadata stays.
    public var contentDestroyedAt: Int64?
    /// When and where the content was archived under the retention policy; the metadata stays.
    public var archivedAt: Int64?
    public var archivedTo: String?
    /// From the document's header (edXML MessageHeader): ngày và nơi ban hành (ISO date), hạn xử
    /// lý, chỉ đạo (SteeringType 0–3), người ký, cơ quan ban hành.
    public var promulgationDate: String?
    public var promulgationPlace: String?
    public var dueDate: String?
    public var steeringType: Int?
    public var signerInfo: String?
    public var organName: String?
    public struct Related: Codable, Sendable, Equatable {
        public var id: String
        /// `duplicate`, or the BussinessDocType name: `revocation`, `update`, `replacement`.
        public var relation: String
        public var receivedAt: Int64
        public init(id: String, relation: String, receivedAt: Int64) {
            self.id = id
            self.relation = relation
            self.receivedAt = receivedAt
        }
    }
    public struct FileEntry: Codable, Sendable, Equatable {
        public var name: String
        public var mediaType: String
        public var size: UInt64
        public init(name: String, mediaType: String, size: UInt64) {
            self.name = name
            self.mediaType = mediaType
            self.size = size
        }
    }
    public init(item: InboxItem, subject: String, reference: String?, documentType: String?, files: [FileEntry]) {
        self.item = item
        self.subject = subject
        self.reference = reference
        self.documentType = documentType
        self.files = files
    }
}

/// `lienthong inbox export`.
public struct ExportReport: Codable, Sendable, Equatable {
    public var id: String
    public var directory: String
    public var files: [String]
    public init(id: String, directory: String, files: [String]) {
        self.id = id
        self.directory = directory
        self.files = files
    }
}

/// `lienthong track ID`: per-recipient statuses of a document this node sent.
public struct TrackReport: Codable, Sendable, Equatable {
    public var id: String
    public var recipients: Int
    /// Status code (`00` … `06`, `undeliverable`) → how many recipients are at it; recall codes
    /// (`13`, `15`, `16`) are counted beside, so a recipient counts once for each.
    public var counts: [String: Int]
    public var entries: [Entry]
    public struct Entry: Codable, Sendable, Equatable {
        public var recipient: String
        public var name: String
        public var status: String
        public var statusName: String
        public var reason: String?
        public var updatedAt: Int64
        /// A recall beside the status: `13` (sent), `15` / `16` (the recipient's answer).
        public var recall: String?
        public var recallName: String?
        public var recallReason: String?
        public init(
            recipient: String, name: String, status: String, statusName: String, reason: String?, updatedAt: Int64
        ) {
            self.recipient = recipient
            self.name = name
            self.status = status
            self.statusName = statusName
            self.reason = reason
            self.updatedAt = updatedAt
        }
    }
    public init(id: String, recipients: Int, counts: [String: Int], entries: [Entry]) {
        self.id = id
        self.recipients = recipients
        self.counts = counts
        self.entries = entries
    }
}

/// `lienthong track` with no id: the documents this node sent.
public struct TrackSummary: Codable, Sendable, Equatable {
    public var id: String
    public var sentAt: Int64
    public var recipients: Int
    public var arrived: Int
    /// Trích yếu and số/ký hiệu, when the spool recorded them.
    public var subject: String?
    public var reference: String?
    public init(id: String, sentAt: Int64, recipients: Int, arrived: Int) {
        self.id = id
        self.sentAt = sentAt
        self.recipients = recipients
        self.arrived = arrived
    }
}

/// `envelope import`: the envelope, whether it was new here, and where it went.
public struct ImportReport: Codable, Sendable, Equatable {
    public var id: String
    /// False when this node already had it: nothing changed.
    public var accepted: Bool
    /// Next hop → how many of its recipients lie that way.
    public var nextHops: [String: Int]
    public var deliveredHere: Bool

    public init(id: String, accepted: Bool, nextHops: [String: Int], deliveredHere: Bool) {
        self.id = id
        self.accepted = accepted
        self.nextHops = nextHops
        self.deliveredHere = deliveredHere
    }
}
