import Envelope

/// Where an accepted envelope goes next: one queue entry per next hop, however many recipients
/// lie behind it, and/or the local inbox.
public struct Custody: Sendable, Equatable {
    /// Next-hop peer → the recipients behind it (kept for undeliverable notices).
    public var nextHops: [NodeID: [NodeID]]
    /// This node is itself a recipient.
    public var deliverLocally: Bool
    /// This node is the origin: track a receipt status per recipient.
    public var trackAsOrigin: Bool
    /// A document sealed here: its business identity, recorded in the same commit (duplicates
    /// are found by it at the next send).
    public var document: DocumentIdentity?
    /// Record it even if a new document with the same identity was sent before (`send --resend`).
    public var resend = false
    /// Who handed a local document in (`operator:NAME`, `desk:NAME`), for its `accepted` record.
    public var submittedBy: String?

    public init(
        nextHops: [NodeID: [NodeID]], deliverLocally: Bool, trackAsOrigin: Bool = false,
        document: DocumentIdentity? = nil
    ) {
        self.nextHops = nextHops
        self.deliverLocally = deliverLocally
        self.trackAsOrigin = trackAsOrigin
        self.document = document
    }
}

/// The states of an outbound queue entry.
public enum QueueState: String, Sendable, CaseIterable, Codable {
    /// Waiting for its turn on the link.
    case ready
    /// Handed to a link session; returns to ready at start-up if the node died meanwhile.
    case inflight
    /// Failed; waits until `nextAttemptAt` (backoff).
    case deferred
    /// Stopped by an operator (`queue hold`); only `queue release` moves it on.
    case held
    /// Refused for a permanent reason; kept aside so it never blocks the peer's queue.
    case quarantined
}

/// One outbound queue entry as listed to operators.
public struct QueueEntry: Sendable, Equatable, Codable {
    public let envelopeID: EnvelopeID
    public let peer: NodeID
    public let state: QueueState
    public let urgency: Urgency
    public let origin: NodeID
    public let recipients: [NodeID]
    public let bodySize: UInt64
    /// Milliseconds since the epoch; the queue's age is measured from here, never from a retry.
    public let enqueuedAt: Int64
    public let attempts: Int
    public let nextAttemptAt: Int64
    public let lastError: String?
    public let expiresAt: Int64

    public init(
        envelopeID: EnvelopeID, peer: NodeID, state: QueueState, urgency: Urgency, origin: NodeID, recipients: [NodeID],
        bodySize: UInt64, enqueuedAt: Int64, attempts: Int, nextAttemptAt: Int64, lastError: String?, expiresAt: Int64
    ) {
        self.envelopeID = envelopeID
        self.peer = peer
        self.state = state
        self.urgency = urgency
        self.origin = origin
        self.recipients = recipients
        self.bodySize = bodySize
        self.enqueuedAt = enqueuedAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.expiresAt = expiresAt
    }
}

/// What `begin` found for an offered envelope.
public enum BeginResult: Sendable, Equatable {
    /// Seen before (complete, or already handed on): acknowledge without storing.
    case duplicate
    /// Send (or store) from chunk `k`: the spool holds chunks 0..<k, verified.
    case resume(from: Int)
}

/// What `accept` / `complete` did.
public enum AcceptResult: Sendable, Equatable {
    case accepted
    case duplicate
}

/// A queue entry that left because its envelope expired before delivery.
public struct UndeliverableEvent: Sendable, Equatable {
    public let envelopeID: EnvelopeID
    public let origin: NodeID
    public let kind: EnvelopeKind
    public let peer: NodeID
    /// The recipients behind that peer that did not get it.
    public let recipients: [NodeID]
    public let expiresAt: Int64

    public init(
        envelopeID: EnvelopeID, origin: NodeID, kind: EnvelopeKind, peer: NodeID, recipients: [NodeID], expiresAt: Int64
    ) {
        self.envelopeID = envelopeID
        self.origin = origin
        self.kind = kind
        self.peer = peer
        self.recipients = recipients
        self.expiresAt = expiresAt
    }
}

/// Which queue entries an operator command acts on.
public enum QueueSelector: Sendable, Equatable {
    /// These envelopes (on every peer, or only `peer`).
    case envelopes([EnvelopeID], peer: NodeID?)
    /// Everything (on every peer, or only `peer`).
    case all(peer: NodeID?)
}

/// A receipt status for a document this node sent, per recipient. Statuses only move forward.
public enum ReceiptStatus: String, Sendable, CaseIterable, Codable {
    case pending = "00"
    case arrived = "01"
    case rejected = "02"
    case accepted = "03"
    case assigned = "04"
    case processing = "05"
    case done = "06"
    /// 13 thu hồi (lấy lại): the sender recalls the document (sent by the origin to its recipients).
    case recalled = "13"
    /// 15: the recipient agrees to the recall; its copy's content is destroyed.
    case recallAccepted = "15"
    /// 16: the recipient refuses the recall.
    case recallRefused = "16"
    case undeliverable = "undeliverable"

    /// Ordering for "only ever moves forward": a status replaces another only with a higher rank.
    /// Hoàn thành and Từ chối end the handling; undeliverable gives way if the document arrives
    /// after all. A recall (13) may follow any of them, and only an answer (15, 16) follows a recall.
    public var rank: Int {
        switch self {
        case .pending: 0
        case .undeliverable: 1
        case .arrived: 2
        case .accepted: 4
        case .assigned: 6
        case .processing: 8
        case .done, .rejected: 10
        case .recalled: 12
        case .recallAccepted, .recallRefused: 14
        }
    }

    public var displayName: String {
        switch self {
        case .pending: "chưa có phản hồi"
        case .arrived: "01 đã đến"
        case .rejected: "02 từ chối"
        case .accepted: "03 đã tiếp nhận"
        case .assigned: "04 phân công"
        case .processing: "05 đang xử lý"
        case .done: "06 hoàn thành"
        case .recalled: "13 thu hồi"
        case .recallAccepted: "15 đồng ý thu hồi"
        case .recallRefused: "16 từ chối thu hồi"
        case .undeliverable: "không chuyển được"
        }
    }
}

/// The start of a complete stored envelope: what a recipient needs to open its metadata.
public struct StoredHead: Sendable {
    public let header: EnvelopeHeader
    public let table: ChunkTable
    /// Chunk 0's ciphertext (verified against the signed digest when it was stored).
    public let firstChunk: [UInt8]

    public init(header: EnvelopeHeader, table: ChunkTable, firstChunk: [UInt8]) {
        self.header = header
        self.table = table
        self.firstChunk = firstChunk
    }
}
