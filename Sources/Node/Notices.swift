import Envelope
import Foundation
import Gate
import Link
import SodiumKit
import Spool
import Topology

/// The payload of a receipt envelope (kind `receipt`): one recipient's statuses for one or more
/// documents of the same origin, sent by that recipient to the origin (a burst of deliveries
/// is acknowledged by one receipt). The recipient is the receipt's signed origin, so a node can
/// only ever report its own status. Format in docs/PROTOCOL.md §8.
public struct ReceiptBody: Codable, Sendable, Equatable {
    public static let formatName = "lienthong-receipt-v1"
    /// Most items one receipt carries (and is read).
    public static let maxItems = 1000
    public var format: String
    public var receipts: [Item]

    public struct Item: Codable, Sendable, Equatable {
        public var envelope: String
        public var status: String
        public var reason: String?
        public var at: Int64
    }
}

/// The payload of an undeliverable notice (kind `control`): the node where a document expired
/// tells the origin which recipients it did not reach.
public struct UndeliverableBody: Codable, Sendable, Equatable {
    public static let formatName = "lienthong-undeliverable-v1"
    public var format: String
    public var envelope: String
    public var recipients: [String]
    public var expiredAt: Int64
    public var at: Int64
}

/// The payload of a topology update (kind `control`), with the signed topology as its one file.
public struct TopologyUpdateBody: Codable, Sendable, Equatable {
    public static let formatName = "lienthong-topology-update-v1"
    public var format: String
    public var version: Int
}

/// Seals receipts and notices and reads them back.
///
/// Security note: receipts and notices arrive from other nodes. They are opened only after the
/// spool's gate checked their origin's signature; their bodies are size-limited JSON; a receipt
/// is applied only for the recipient that signed it, and statuses only move forward, so a
/// hostile node can at worst report its own status falsely or claim "undeliverable" (the lowest
/// rank, overridden by any real receipt).
public struct Notices: Sendable {
    public let identity: NodeIdentity
    /// The gate its notices pass, like every other envelope.
    public let gate: CustodyGate
    /// Receipts and notices live this long (ms).
    public var lifetime: Int64 = 30 * 86_400_000

    public init(identity: NodeIdentity, gate: CustodyGate) {
        self.identity = identity
        self.gate = gate
    }

    /// A receipt for `document` (sent by `origin`) with `status`, ready for the spool.
    public func receipt(
        for document: EnvelopeID, origin: NodeID, status: ReceiptStatus, reason: String?, now: Int64
    ) throws -> IncomingEnvelope {
        try receipt(for: [document], origin: origin, status: status, reason: reason, now: now)
    }

    /// One receipt for several documents of the same origin, all at `status`.
    public func receipt(
        for documents: [EnvelopeID], origin: NodeID, status: ReceiptStatus, reason: String?, now: Int64
    ) throws -> IncomingEnvelope {
        precondition(
            !documents.isEmpty && documents.count <= ReceiptBody.maxItems,
            "a receipt carries 1…\(ReceiptBody.maxItems) documents")
        let body = ReceiptBody(
            format: ReceiptBody.formatName,
            receipts: documents.map { .init(envelope: $0.hex, status: status.rawValue, reason: reason, at: now) })
        return try seal(kind: .receipt, to: origin, metadata: try JSONEncoder().encode(body), now: now)
    }

    /// An undeliverable notice for an expired queue entry.
    public func undeliverable(_ event: UndeliverableEvent, now: Int64) throws -> IncomingEnvelope {
        let body = UndeliverableBody(
            format: UndeliverableBody.formatName, envelope: event.envelopeID.hex,
            recipients: event.recipients.map(\.rawValue), expiredAt: event.expiresAt, at: now)
        return try seal(kind: .control, to: event.origin, metadata: try JSONEncoder().encode(body), now: now)
    }

    /// A topology update for one neighbour (kind `control`): the signed file, sent straight over
    /// the link to that neighbour whatever the routes say, so a node whose place in the tree
    /// changed still hears of it from its old neighbours.
    public func topologyUpdate(
        to neighbour: NodeID, signed: [UInt8], version: Int, now: Int64
    ) throws
        -> IncomingEnvelope
    {
        // A neighbour the update leaves out is still told (with the key it had): it refuses the
        // update, audited, instead of never hearing of it.
        let live = identity.liveTopology
        guard let key = live.current[neighbour]?.encryptionKey ?? live.previous?[neighbour]?.encryptionKey else {
            throw NodeError(.noticeNoKey, "cannot pass the topology to \(neighbour): no encryption key for it")
        }
        let body = TopologyUpdateBody(format: TopologyUpdateBody.formatName, version: version)
        let (header, table, bytes) = try sealBody(
            kind: .control, to: neighbour, key: key, metadata: try JSONEncoder().encode(body), now: now,
            files: [AttachedFile(name: "topology.signed.json", mediaType: "application/json", content: .bytes(signed))])
        return IncomingEnvelope(
            verifier: try ChunkVerifier(header: header, table: table), chunks: header.layout.split(body: bytes),
            from: "local", custody: Custody(nextHops: [neighbour: [neighbour]], deliverLocally: false))
    }

    /// An attachment notice (kind `control`): `child` is attached to this node since `at`, for the
    /// nodes whose routes to it change (`Attachments`). One envelope, routed like any other.
    public func attachment(_ child: NodeID, to recipients: [NodeID], at: Int64) throws -> IncomingEnvelope {
        let body = AttachmentBody(format: AttachmentBody.formatName, child: child.rawValue, at: at)
        let topology = identity.topology
        let sealed = try recipients.map { r -> SealRecipient in
            guard let key = topology[r]?.encryptionKey else {
                throw NodeError(.noticeNoKey, "cannot tell \(r) where \(child) is: the topology has no key for it")
            }
            return SealRecipient(id: r, encryptionKey: key)
        }
        let (header, table, bytes) = try sealBody(
            kind: .control, to: sealed, metadata: try JSONEncoder().encode(body), now: at, files: [])
        try gate.check(header, now: at, sealedHere: true)
        return IncomingEnvelope(
            verifier: try ChunkVerifier(header: header, table: table), chunks: header.layout.split(body: bytes),
            from: "local", custody: try gate.custody(for: header, from: "local"))
    }

    /// The attachment notice inside a delivered control envelope, or nil for any other notice.
    public func attachment(_ delivery: UnsettledDelivery, spool: Spool) throws -> AttachmentBody? {
        guard delivery.kind == .control else { return nil }
        let payload = MemoryPayload()
        _ = try DeliveredEnvelope.open(
            delivery.envelopeID, spool: spool, identity: identity, into: payload, checkExpiry: false)
        guard payload.metadataBytes.count <= 4096,
            let body = try? JSONDecoder().decode(AttachmentBody.self, from: Data(payload.metadataBytes)),
            body.format == AttachmentBody.formatName
        else { return nil }
        return body
    }

    /// The signed topology inside a delivered control envelope, or nil for any other notice.
    public func topologyUpdate(_ delivery: UnsettledDelivery, spool: Spool) throws -> [UInt8]? {
        guard delivery.kind == .control else { return nil }
        let payload = MemoryPayload()
        _ = try DeliveredEnvelope.open(
            delivery.envelopeID, spool: spool, identity: identity, into: payload, checkExpiry: false)
        guard let body = try? JSONDecoder().decode(TopologyUpdateBody.self, from: Data(payload.metadataBytes)),
            body.format == TopologyUpdateBody.formatName
        else { return nil }
        return payload.files.first?.bytes
    }

    private func seal(
        kind: EnvelopeKind, to origin: NodeID, metadata: Data, now: Int64, files: [AttachedFile] = []
    ) throws -> IncomingEnvelope {
        guard let key = identity.topology[origin]?.encryptionKey else {
            throw NodeError(
                .noticeNoKey, "cannot send a \(kind) to \(origin): the topology has no encryption key for it")
        }
        let (header, table, body) = try sealBody(
            kind: kind, to: origin, key: key, metadata: metadata, now: now, files: files)
        // The same gate as every other envelope: topology, expiry, limits, route (not the
        // signature, made a moment ago with this node's key).
        try gate.check(header, now: now, sealedHere: true)
        let custody = try gate.custody(for: header, from: "local")
        return IncomingEnvelope(
            verifier: try ChunkVerifier(header: header, table: table), chunks: header.layout.split(body: body),
            from: "local", custody: custody)
    }

    private func sealBody(
        kind: EnvelopeKind, to recipient: NodeID, key: BoxPublicKey, metadata: Data, now: Int64, files: [AttachedFile]
    ) throws -> (EnvelopeHeader, ChunkTable, [UInt8]) {
        try sealBody(
            kind: kind, to: [SealRecipient(id: recipient, encryptionKey: key)], metadata: metadata, now: now,
            files: files)
    }

    private func sealBody(
        kind: EnvelopeKind, to recipients: [SealRecipient], metadata: Data, now: Int64, files: [AttachedFile]
    ) throws -> (EnvelopeHeader, ChunkTable, [UInt8]) {
        let encoder = try PayloadEncoder(kind: kind, metadata: Array(metadata), files: files)
        let params = SealParameters(
            kind: kind, urgency: .khan, origin: identity.id, recipients: recipients, createdAt: now,
            expiresAt: now + lifetime)
        let sink = MemorySink()
        let sealed = try EnvelopeSealer.seal(
            params, signer: identity.signingKeys, payloadSize: encoder.totalSize, source: encoder, body: sink)
        return (sealed.header, sealed.table, sink.bytes)
    }

    /// A receipt's update, and the same for each retired unit merged into its sender: the
    /// successor opened what was sealed to them and answers for them (this node's topology says
    /// so; the receipt cannot claim it). Rows this node does not track change nothing.
    func answeringFor(_ u: Spool.ReceiptUpdate) -> [Spool.ReceiptUpdate] {
        guard u.status != .recalled else { return [u] }  // a recall comes from a document's origin
        let retired = identity.topology.predecessors(of: u.recipient)
        return [u]
            + retired.map {
                let note = "\(u.recipient) nhận thay: \($0) đã sáp nhập vào \(u.recipient)"
                return Spool.ReceiptUpdate(
                    envelopeID: u.envelopeID, recipient: $0, status: u.status,
                    reason: u.reason.map { "\($0) (\(note))" } ?? note, at: u.at)
            }
    }

    /// Opens a receipt or notice delivered to this node and turns it into tracking updates.
    public func read(_ delivery: UnsettledDelivery, spool: Spool) throws -> [Spool.ReceiptUpdate] {
        let payload = MemoryPayload()
        let header = try DeliveredEnvelope.open(
            delivery.envelopeID, spool: spool, identity: identity, into: payload, checkExpiry: true)
        guard payload.metadataBytes.count <= 64 * 1024 else {
            throw NodeError(.noticeMalformed, "a \(delivery.kind) from \(header.origin) is larger than any receipt")
        }
        switch delivery.kind {
        case .receipt:
            let body = try JSONDecoder().decode(ReceiptBody.self, from: Data(payload.metadataBytes))
            guard body.format == ReceiptBody.formatName, !body.receipts.isEmpty,
                body.receipts.count <= ReceiptBody.maxItems
            else {
                throw NodeError(
                    .noticeMalformed,
                    "a receipt from \(header.origin) has format \(body.format) and \(body.receipts.count) item(s)")
            }
            return try body.receipts.map { item in
                guard let status = ReceiptStatus(rawValue: item.status), status != .pending, status != .undeliverable
                else {
                    throw NodeError(.noticeMalformed, "a receipt from \(header.origin) has status \(item.status)")
                }
                return Spool.ReceiptUpdate(
                    envelopeID: try EnvelopeID(hex: item.envelope), recipient: header.origin, status: status,
                    reason: item.reason.map { String($0.prefix(500)) }, at: header.createdAt)
            }
            .flatMap { answeringFor($0) }
        case .control:
            let body = try JSONDecoder().decode(UndeliverableBody.self, from: Data(payload.metadataBytes))
            guard body.format == UndeliverableBody.formatName else {
                throw NodeError(.noticeMalformed, "a notice from \(header.origin) has format \(body.format)")
            }
            let id = try EnvelopeID(hex: body.envelope)
            return try body.recipients.prefix(10_000).map {
                Spool.ReceiptUpdate(
                    envelopeID: id, recipient: try NodeID($0), status: .undeliverable,
                    reason: "expired at \(header.origin)", at: header.createdAt)
            }
        case .document:
            return []
        }
    }
}

/// Opening an envelope delivered to this node straight from the spool, chunk batch by chunk
/// batch (never the whole body in memory).
public enum DeliveredEnvelope {
    /// Opens envelope `id` from the spool into `receiver`, after the opener's checks.
    ///
    /// - Parameter prefixOnly: the receiver stops the opening early (by throwing once it has what
    ///   it needs, as `MetadataProbe` does): read and decrypt one chunk at a time, not 4 MiB, and
    ///   rely on the signature check the gate made on arrival instead of verifying it again
    ///   (a quarter of a commune's CPU per small document). Exports always verify.
    /// - Parameter head: the envelope's start, already read with others in one transaction
    ///   (`Spool.storedHeads`); read here when nil or when it is another envelope's.
    @discardableResult
    public static func open(
        _ id: EnvelopeID, spool: Spool, identity: NodeIdentity, into receiver: any PayloadReceiver,
        checkExpiry: Bool, prefixOnly: Bool = false, head: StoredHead? = nil
    ) throws -> EnvelopeHeader {
        let stored: (header: EnvelopeHeader, table: ChunkTable)
        if let head, head.header.id == id {
            stored = (head.header, head.table)
        } else if let s = try spool.storedEnvelope(id), s.complete {
            stored = (s.header, s.table)
        } else {
            throw NodeError(.inboxNotFound, "envelope \(id.hex.prefix(16))… is not (completely) in this node's spool")
        }
        // What the gate let in once stays readable: the origin's previous key counts for what it
        // signed before its grace period ended, whenever the clerk opens it.
        let originKeys =
            identity.topology[stored.header.origin]?.signingKeys(signedAt: stored.header.createdAt, checkedAt: nil)
            ?? []
        guard !originKeys.isEmpty else {
            throw NodeError(
                .inboxUnknownOrigin, "origin \(stored.header.origin) has no signing key in this node's topology")
        }
        // A clerk may export a document after it expired: expiry governs transport, not reading.
        let now = checkExpiry ? Int64(Date().timeIntervalSince1970 * 1000) : stored.header.createdAt
        // Opened as this node, or as a retired unit merged into it (with the key it adopted).
        let (recipient, keys) = identity.openingKeys(for: stored.header)
        let opener = try EnvelopeOpener(
            header: stored.header, table: stored.table, originKeys: originKeys,
            recipient: recipient, keys: keys, now: now, signatureVerifiedOnArrival: prefixOnly)
        let decoder = PayloadDecoder(receiver: receiver)
        let body = SpoolBodySource(
            spool: spool, id: id, readAhead: prefixOnly ? 1 : 16,
            firstChunk: head?.header.id == id ? head?.firstChunk : nil)
        try opener.open(
            body: body, into: decoder,
            chunksPerBatch: prefixOnly ? 1 : nil)
        try decoder.finish()
        return stored.header
    }
}

/// A `ByteSource` over an envelope's stored chunks, read a few at a time.
final class SpoolBodySource: ByteSource {
    let spool: Spool
    let id: EnvelopeID
    private var next = 0
    private var current: [UInt8] = []
    private var offset = 0
    private var done = false
    private let readAhead: Int

    /// - Parameters:
    ///   - readAhead: chunks fetched per spool read.
    ///   - firstChunk: chunk 0, when the caller already read it: served first from memory, and
    ///     the spool is read from chunk 1 on.
    init(spool: Spool, id: EnvelopeID, readAhead: Int = 16, firstChunk: [UInt8]? = nil) {
        self.spool = spool
        self.id = id
        self.readAhead = max(1, readAhead)
        if let firstChunk {
            current = firstChunk
            next = 1
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while offset == current.count {
            guard !done else { return 0 }
            let batch = try spool.chunks(of: id, from: next, limit: readAhead)
            if batch.isEmpty {
                done = true
                return 0
            }
            next += batch.count
            current = batch.flatMap { $0 }
            offset = 0
        }
        let n = min(buffer.count, current.count - offset)
        current.withUnsafeBytes { src in
            base.copyMemory(from: src.baseAddress.map { $0 + offset } ?? UnsafeRawPointer(base), byteCount: n)
        }
        offset += n
        return n
    }
}

/// A payload receiver that keeps the metadata and the file list, not the file bytes.
final class ListingPayload: PayloadReceiver {
    private(set) var metadataBytes: [UInt8] = []
    private(set) var files: [(name: String, mediaType: String, size: UInt64)] = []

    func receive(kind: EnvelopeKind, metadata: [UInt8]) throws { metadataBytes = metadata }
    func beginFile(name: String, mediaType: String, size: UInt64) throws { files.append((name, mediaType, size)) }
    func fileBytes(_ bytes: UnsafeRawBufferPointer) throws {}
    func endFile() throws {}
}
