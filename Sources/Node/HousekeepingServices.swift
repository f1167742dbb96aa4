import Foundation
import Logging
import ServiceLifecycle
import Envelope
import Link
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
            let spool = runtime.spool, notices = runtime.operations.notices, now = runtime.clock()
            let pending = try spool.unsettledDeliveries(limit: 256)
            guard !pending.isEmpty else { return 0 }
            // The start of every delivered document, in one read (not two per document).
            let heads = try spool.storedHeads(pending.filter { $0.kind == .document }.map(\.envelopeID))
            var work: [Spool.Settlement] = []
            // Documents that arrived, by origin: one 01 receipt per origin for the whole batch.
            var arrivedByOrigin: [NodeID: [EnvelopeID]] = [:]
            for d in pending {
                switch d.kind {
                case .document:
                    do {
                        // The secrecy level travels encrypted: relays cannot see it, so the
                        // recipient enforces the policy too (the sender's node refuses at sealing).
                        if let refusal = try Self.policyRefusal(d, head: heads[d.envelopeID], runtime: runtime) {
                            runtime.logger.warning("refused a document by policy", metadata: ["envelope": "\(d.envelopeID.hex.prefix(16))", "from": "\(d.origin)", "reason": "\(refusal)"])
                            work.append(.refuse(d.envelopeID, reason: refusal,
                                                receipt: try notices.receipt(for: d.envelopeID, origin: d.origin, status: .rejected, reason: refusal, now: now)))
                            continue
                        }
                        arrivedByOrigin[d.origin, default: []].append(d.envelopeID)
                    } catch let e as SpoolError {
                        throw e
                    } catch {
                        runtime.logger.warning("cannot send the 01 receipt; the document stays in the inbox", metadata: ["envelope": "\(d.envelopeID.hex.prefix(16))", "error": "\(error)"])
                        work.append(.document(d.envelopeID, receipt: nil))
                    }
                case .receipt, .control:
                    do {
                        work.append(.tracking(d.envelopeID, updates: try notices.read(d, spool: spool)))
                    } catch {
                        runtime.logger.warning("discarded an unreadable receipt or notice", metadata: ["envelope": "\(d.envelopeID.hex.prefix(16))", "from": "\(d.origin)", "error": "\(error)"])
                        work.append(.discard(d.envelopeID, reason: "\(error)".prefix(200).description))
                    }
                }
            }
            for (origin, ids) in arrivedByOrigin {
                let receipt: IncomingEnvelope?
                do { receipt = try notices.receipt(for: ids, origin: origin, status: .arrived, reason: nil, now: now) } catch {
                    runtime.logger.warning("cannot send 01 receipts; the documents stay in the inbox", metadata: ["origin": "\(origin)", "error": "\(error)"])
                    receipt = nil
                }
                // The receipt rides with the first document's settlement: one transaction for all.
                for (i, id) in ids.enumerated() { work.append(.document(id, receipt: i == 0 ? receipt : nil)) }
            }
            try spool.settle(work, now: now)
            runtime.link.queueSignal.notify()  // receipts are queued: send them now
            return pending.count
        }
    }
}

extension DeliveryService {
    /// Why this node refuses a delivered document by policy, or nil. Only the metadata is
    /// decrypted (it comes first in the payload): every chunk was already checked against the
    /// origin's signed digest on arrival, so there is no need to decrypt a large body here too.
    /// A document whose metadata does not open is refused (its origin signed something this
    /// node cannot read).
    static func policyRefusal(_ d: UnsettledDelivery, head: StoredHead?, runtime: NodeRuntime) throws -> String? {
        let probe = MetadataProbe()
        do {
            try DeliveredEnvelope.open(d.envelopeID, spool: runtime.spool, identity: runtime.identity, into: probe, checkExpiry: false,
                                       prefixOnly: true, head: head)
        } catch is MetadataProbe.Done {
            // The metadata has been read and authenticated; the rest of the body is not needed.
        } catch let e as SpoolError {
            throw e  // the store, not the document: try again later
        } catch {
            return "the document does not open at its recipient (\(String(describing: error).prefix(150)))"
        }
        do {
            try JSONDecoder().decode(DocumentMetadata.self, from: Data(probe.metadataBytes)).checkSecrecyPolicy()
            return nil
        } catch let e as EnvelopeError where e.code == .secrecyRefused {
            return "marked secret: state-secret documents may not travel on this exchange"
        } catch {
            return "the document's metadata is not readable (\(String(describing: error).prefix(150)))"
        }
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

/// Expiry (with an undeliverable notice to each origin, in the same transaction) and seen-set pruning.
struct JanitorService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        let interval = runtime.settings.janitorIntervalMs ?? 1_000
        try await untilShutdown {
            while !Task.isCancelled {
                do { try await self.sweep() } catch {
                    runtime.logger.warning("janitor sweep failed; will retry", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: .milliseconds(interval))
            }
        }
    }

    func sweep() async throws {
        try await runtime.blocking { [runtime] in
            let now = runtime.clock(), notices = runtime.operations.notices
            let events = try runtime.spool.expire(now: now) { events in
                // Only documents get notices: a lost receipt or notice must not breed more.
                try events.filter { $0.kind == .document }.map { try notices.undeliverable($0, now: now) }
            }
            for e in events {
                runtime.logger.notice("envelope expired undelivered", metadata: ["envelope": "\(e.envelopeID.hex.prefix(16))", "peer": "\(e.peer)",
                                                                                  "recipients": "\(e.recipients.count)", "origin": "\(e.origin)"])
            }
            if !events.isEmpty { runtime.link.queueSignal.notify() }
            try runtime.spool.pruneSeen(now: now)
        }
    }
}
