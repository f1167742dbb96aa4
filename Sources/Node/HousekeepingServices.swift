import Envelope
import Foundation
import Link
import Logging
import ServiceLifecycle
import Spool

/// Acts on what was delivered here: sends the 01 receipt for every document (in the same
/// transaction that marks it settled), applies receipts and undeliverable notices to the
/// tracking table. The node's "scheduler": link senders pick queue entries themselves.
struct DeliveryService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        try await untilShutdown {
            while !Task.isCancelled {
                let settled: Int
                do { settled = try await self.settleOnce() } catch {
                    runtime.logger.warning("settling deliveries failed; will retry", metadata: ["error": "\(error)"])
                    settled = 0
                    try await Task.sleep(for: .seconds(1))
                }
                if settled == 0 { try await Task.sleep(for: .milliseconds(100)) }
            }
        }
    }

    /// One batch: returns how many deliveries were settled.
    func settleOnce() async throws -> Int {
        try await runtime.blocking { [runtime] in
            let spool = runtime.spool
            let notices = runtime.operations.notices
            let now = runtime.clock()
            let pending = try spool.unsettledDeliveries(limit: 256)
            guard !pending.isEmpty else { return 0 }
            // The start of every delivered document, in one read (not two per document).
            let heads = try spool.storedHeads(pending.filter { $0.kind == .document }.map(\.envelopeID))
            var work: [Spool.Settlement] = []
            // Documents that arrived, by origin: one 01 receipt per origin for the whole batch.
            var arrivedByOrigin: [NodeID: [(EnvelopeID, DocumentIdentity?, EnvelopeID?)]] = [:]
            var batch = SettlingBatch()
            for d in pending {
                switch d.kind {
                case .document:
                    do {
                        // The secrecy level travels encrypted: relays cannot see it, so the
                        // recipient enforces the policy too (the sender's node refuses at sealing).
                        let metadata: DocumentMetadata
                        switch try Self.probe(d, head: heads[d.envelopeID], runtime: runtime) {
                        case .refused(let refusal):
                            runtime.logger.warning(
                                "refused a document by policy",
                                metadata: [
                                    "envelope": "\(d.envelopeID.hex.prefix(16))", "from": "\(d.origin)",
                                    "reason": "\(refusal)",
                                ])
                            work.append(
                                .refuse(
                                    d.envelopeID, reason: refusal,
                                    receipt: try notices.receipt(
                                        for: d.envelopeID, origin: d.origin, status: .rejected, reason: refusal,
                                        now: now)))
                            continue
                        case .opened(let m): metadata = m
                        }
                        let identity = metadata.identity(origin: d.origin.rawValue)
                        if let (earlier, status) = try batch.original(of: identity, from: d.origin, spool: spool) {
                            // The same document again: recorded, not delivered twice; the origin
                            // still learns where the first copy is.
                            let answer = status.rank < ReceiptStatus.arrived.rank ? .arrived : status
                            work.append(
                                .duplicate(
                                    d.envelopeID, of: earlier, identity: identity,
                                    receipt: try notices.receipt(
                                        for: d.envelopeID, origin: d.origin, status: answer,
                                        reason: "bản trùng của văn bản đã nhận \(earlier.hex.prefix(16))",
                                        now: now)))
                            continue
                        }
                        batch.note(identity, d.envelopeID)
                        // What a revocation, update or replacement refers to: from the same origin only.
                        let linkTo = try identity.refersTo.flatMap { refersTo in
                            identity.businessType == 0
                                ? nil
                                : try batch.document(refersTo, from: d.origin)
                                    ?? spool.receivedDocument(documentId: refersTo, origin: d.origin)
                        }
                        arrivedByOrigin[d.origin, default: []].append((d.envelopeID, identity, linkTo))
                    } catch let e as SpoolError {
                        throw e
                    } catch {
                        runtime.logger.warning(
                            "cannot send the 01 receipt; the document stays in the inbox",
                            metadata: ["envelope": "\(d.envelopeID.hex.prefix(16))", "error": "\(error)"])
                        work.append(.document(d.envelopeID, receipt: nil))
                    }
                case .receipt, .control:
                    // A topology update from a neighbour: applied (and passed on) or ignored, then settled.
                    if d.kind == .control, let signed = try? notices.topologyUpdate(d, spool: spool) {
                        if case .applied? = try? runtime.operations.topologyUpdater.apply(
                            signed, from: d.origin.rawValue)
                        {
                            runtime.topologyChanges.notify()
                            runtime.operations.gate.notify()
                        }
                        work.append(.tracking(d.envelopeID, updates: []))
                        continue
                    }
                    if d.kind == .control, let body = try? notices.attachment(d, spool: spool) {
                        do { try Attachments(operations: runtime.operations).apply(body, from: d.origin) } catch {
                            runtime.logger.warning(
                                "ignored an attachment notice", metadata: ["from": "\(d.origin)", "error": "\(error)"])
                        }
                        work.append(.tracking(d.envelopeID, updates: []))
                        continue
                    }
                    do {
                        work.append(.tracking(d.envelopeID, updates: try notices.read(d, spool: spool)))
                    } catch {
                        runtime.logger.warning(
                            "discarded an unreadable receipt or notice",
                            metadata: [
                                "envelope": "\(d.envelopeID.hex.prefix(16))", "from": "\(d.origin)",
                                "error": "\(error)",
                            ])
                        work.append(.discard(d.envelopeID, reason: "\(error)".prefix(200).description))
                    }
                }
            }
            for (origin, documents) in arrivedByOrigin {
                let receipt: IncomingEnvelope?
                do {
                    receipt = try notices.receipt(
                        for: documents.map(\.0), origin: origin, status: .arrived,
                        reason: nil, now: now)
                } catch {
                    runtime.logger.warning(
                        "cannot send 01 receipts; the documents stay in the inbox",
                        metadata: ["origin": "\(origin)", "error": "\(error)"])
                    receipt = nil
                }
                // The receipt rides with the first document's settlement: one transaction for all.
                for (i, (id, identity, linkTo)) in documents.enumerated() {
                    work.append(.document(id, receipt: i == 0 ? receipt : nil, identity: identity, linkTo: linkTo))
                }
            }
            try spool.settle(work, now: now)
            runtime.operations.gate.notify()  // receipts are queued: send them now
            return pending.count
        }
    }
}

extension DeliveryService {
    /// What opening a delivered document's metadata found.
    enum Probe {
        /// Refused by policy, or unreadable: why.
        case refused(String)
        case opened(DocumentMetadata)
    }

    /// Opens a delivered document's metadata and checks the policy. Only the metadata is
    /// decrypted (it comes first in the payload): every chunk was already checked against the
    /// origin's signed digest on arrival, so there is no need to decrypt a large body here too.
    /// A document whose metadata does not open is refused (its origin signed something this
    /// node cannot read).
    static func probe(_ d: UnsettledDelivery, head: StoredHead?, runtime: NodeRuntime) throws -> Probe {
        let probe = MetadataProbe()
        do {
            try DeliveredEnvelope.open(
                d.envelopeID, spool: runtime.spool, identity: runtime.identity, into: probe, checkExpiry: false,
                prefixOnly: true, head: head)
        } catch is MetadataProbe.Done {
            // The metadata has been read and authenticated; the rest of the body is not needed.
        } catch let e as SpoolError {
            throw e  // the store, not the document: try again later
        } catch {
            return .refused("the document does not open at its recipient (\(String(describing: error).prefix(150)))")
        }
        do {
            let metadata = try JSONDecoder().decode(DocumentMetadata.self, from: Data(probe.metadataBytes))
            try metadata.checkSecrecyPolicy()
            return .opened(metadata)
        } catch let e as EnvelopeError where e.code == .secrecyRefused {
            return .refused("marked secret: state-secret documents may not travel on this exchange")
        } catch {
            return .refused("the document's metadata is not readable (\(String(describing: error).prefix(150)))")
        }
    }
}

/// The documents of one settling batch by identity: a duplicate inside the batch is found
/// before the batch's commit records the first one.
struct SettlingBatch {
    private var byId: [String: EnvelopeID] = [:]
    private var byCode: [String: EnvelopeID] = [:]

    private static func key(_ parts: String...) -> String { parts.joined(separator: "\u{1F}") }

    private static func code(_ i: DocumentIdentity) -> String? {
        guard let n = i.codeNumber, let x = i.codeNotation, let date = i.promulgationDate, !n.isEmpty, !x.isEmpty
        else { return nil }
        return key(i.organId, n, x, date)
    }

    /// The earlier copy of a new document (type 0) from `origin`: in this batch (status 01), or in the inbox.
    func original(
        of identity: DocumentIdentity, from origin: NodeID, spool: Spool
    ) throws
        -> (EnvelopeID, ReceiptStatus)?
    {
        guard identity.businessType == 0 else { return nil }
        let inBatch =
            identity.documentId.flatMap { byId[Self.key(origin.rawValue, $0)] }
            ?? Self.code(identity).flatMap { byCode[$0] }
        if let inBatch { return (inBatch, .arrived) }
        return try spool.receivedOriginal(of: identity, origin: origin)
    }

    /// A new document of this batch from `origin` with this DocumentId.
    func document(_ documentId: String, from origin: NodeID) -> EnvelopeID? {
        byId[Self.key(origin.rawValue, documentId)]
    }

    /// `identity` is the organ's (the origin's, see `DocumentMetadata.identity`).
    mutating func note(_ identity: DocumentIdentity, _ id: EnvelopeID) {
        guard identity.businessType == 0 else { return }
        if let documentId = identity.documentId, byId[Self.key(identity.organId, documentId)] == nil {
            byId[Self.key(identity.organId, documentId)] = id
        }
        if let code = Self.code(identity), byCode[code] == nil { byCode[code] = id }
    }
}

/// Keeps a payload's metadata and stops the opening right after it.
final class MetadataProbe: PayloadReceiver {
    struct Done: Error {}
    private(set) var metadataBytes: [UInt8] = []

    func receive(kind: EnvelopeKind, metadata: [UInt8]) throws {
        metadataBytes = metadata
        throw Done()
    }
    func beginFile(name: String, mediaType: String, size: UInt64) throws {}
    func fileBytes(_ bytes: UnsafeRawBufferPointer) throws {}
    func endFile() throws {}
}

/// Expiry (with an undeliverable notice to each origin, in the same transaction), stale partial
/// envelopes dropped, seen-set pruning.
struct JanitorService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        try await untilShutdown {
            while !Task.isCancelled {
                do { try await self.sweep() } catch {
                    runtime.logger.warning("janitor sweep failed; will retry", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: .milliseconds(runtime.settings.janitorIntervalMs ?? 1_000))
            }
        }
    }

    func sweep() async throws {
        try await runtime.blocking { [runtime] in
            let now = runtime.clock()
            let notices = runtime.operations.notices
            let events = try runtime.spool.expire(now: now) { events in
                // Only documents get notices: a lost receipt or notice must not breed more.
                try events.filter { $0.kind == .document }.map { try notices.undeliverable($0, now: now) }
            }
            for e in events {
                runtime.logger.notice(
                    "envelope expired undelivered",
                    metadata: [
                        "envelope": "\(e.envelopeID.hex.prefix(16))", "peer": "\(e.peer)",
                        "recipients": "\(e.recipients.count)", "origin": "\(e.origin)",
                    ])
            }
            if !events.isEmpty { runtime.operations.gate.notify() }
            let idle = runtime.settings.stalePartialMs ?? 86_400_000
            for p in try runtime.spool.dropStalePartials(idleSince: now - idle, now: now) {
                runtime.logger.notice(
                    "dropped a partial envelope that made no progress",
                    metadata: [
                        "envelope": "\(p.envelopeID.hex.prefix(16))", "peer": "\(p.peer)",
                        "chunks": "\(p.chunksStored)/\(p.chunkCount)",
                        "idleSeconds": "\((now - p.lastProgressAt) / 1000)",
                    ])
            }
            try runtime.spool.pruneSeen(now: now)
            try runtime.spool.destroyRecalledContent(now: now)
        }
    }
}

/// The hot folder (`hotFolder` in the settings): one pass every `hotFolderScanMs`. A directory scan
/// on an interval, like the janitor's sweep: the folder is written by another program, and a scan
/// costs a few `stat` calls.
struct ExchangeService: Service {
    let runtime: NodeRuntime
    let folder: ExchangeFolder

    func run() async throws {
        runtime.logger.info("hot folder ready", metadata: ["path": "\(folder.root)"])
        try await untilShutdown {
            while !Task.isCancelled {
                do {
                    let handled = try await runtime.controlBlocking { [folder] in try folder.pass() }
                    if handled > 0 { runtime.operations.gate.notify() }
                } catch {
                    runtime.logger.warning("hot folder pass failed; will retry", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: .milliseconds(runtime.settings.hotFolderScanMs ?? 1_000))
            }
        }
    }
}
