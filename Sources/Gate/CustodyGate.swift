import Diagnostics
import Envelope
import Foundation
import Logging
import SodiumKit
import Spool
import Topology
import Wire

/// The one way into this node's queue (after Postfix): the checks every envelope passes, the
/// routing that decides where it goes (one queue entry per next hop on the tree, the inbox, or
/// both), the custody transaction, and the wake-up of the senders that must carry it on.
///
/// Every source of envelopes goes through one `CustodyGate`: link sessions (`check` when an offer
/// arrives, `commit` when it is complete), local sends and notices (`accept`), `envelope import`
/// (`acceptFile`), and the desk's API. `commit` is the entry point into the queue; the others
/// are `commit` with the transaction they need.
///
/// Security note: everything here is untrusted until checked: the header is parsed under size
/// limits, its signature is checked against the origin's key pinned in the topology, every
/// recipient must be in the topology, and every chunk is verified (by the spool) before it is
/// stored. Nothing is acknowledged before the spool's custody transaction has committed, and only
/// committed envelopes are hinted to sessions (`QueueSignal`). It must never route an envelope
/// back to the neighbour it came from.
public struct CustodyGate: Sendable {
    public let me: NodeID
    /// The topology in force, read at every check: an applied update routes the next envelope.
    public let live: LiveTopology
    public let spool: Spool
    public var limits: EnvelopeLimits
    /// The running node's sessions, woken and hinted after each commit; nil offline (a CLI on a
    /// stopped node's spool: the daemon claims everything when it starts).
    public let signal: QueueSignal?
    public let logger: Logger?
    /// The retired units whose encryption keys this node holds (`keys adopt`): as their
    /// successor it opens and answers for what is addressed to them.
    public var adoptedKeys: Set<NodeID> = []

    public var topology: Topology { live.current }

    public init(
        me: NodeID, topology: Topology, spool: Spool, limits: EnvelopeLimits = .default, signal: QueueSignal? = nil,
        logger: Logger? = nil
    ) {
        self.init(me: me, live: LiveTopology(topology), spool: spool, limits: limits, signal: signal, logger: logger)
    }

    public init(
        me: NodeID, live: LiveTopology, spool: Spool, limits: EnvelopeLimits = .default, signal: QueueSignal? = nil,
        logger: Logger? = nil
    ) {
        self.me = me
        self.live = live
        self.spool = spool
        self.limits = limits
        self.signal = signal
        self.logger = logger
    }

    /// The limits with the network's longest lifetime (`maxLifetimeDays`) in force.
    public var limitsNow: EnvelopeLimits {
        var l = limits
        if let days = topology.maxLifetimeDays { l.maxLifetimeMs = Int64(days) * 86_400_000 }
        return l
    }

    /// Checks a header: signature by a known origin, not expired, sane times (created neither
    /// before 2024 nor in this node's future, a lifetime within the network's maximum), every
    /// recipient known, sizes within this node's limits. Throws `IngressError` with the refusal reason to send back.
    ///
    /// - Parameter sealedHere: the header was signed a moment ago in this process with this node's
    ///   own key (a local send or notice, never bytes read from a peer or a file). Its signature is
    ///   then not verified a second time — that was an eighth of the origin's CPU per small
    ///   document — but everything else is checked. Ignored unless the origin is this node.
    public func check(_ header: EnvelopeHeader, now: Int64, sealedHere: Bool = false) throws {
        let id = header.id.hex.prefix(16)
        let topology = self.topology
        let limits = limitsNow
        guard let origin = topology[header.origin] else {
            throw IngressError(
                .unknownOrigin, "envelope \(id)… comes from \(header.origin), which is not in the topology")
        }
        // Its key, and during a rotation's grace period the previous one for what it signed before.
        let keys = origin.signingKeys(signedAt: header.createdAt, checkedAt: now)
        guard !keys.isEmpty else {
            throw IngressError(
                .unknownOrigin, "the topology has no signing key for \(header.origin); cannot verify envelope \(id)…")
        }
        if !(sealedHere && header.origin == me) {
            do { try header.verifySignature(originKeys: keys) } catch {
                throw IngressError(
                    .badSignature,
                    """
                    envelope \(id)… does not carry a valid signature of its origin \(header.origin) with a key \
                    the topology in force (version \(topology.version)) accepts for it
                    """)
            }
        }
        do { try header.checkNotExpired(now: now) } catch {
            throw IngressError(.expired, "envelope \(id)… expired before it arrived")
        }
        do { try header.checkTimes(now: now, limits: limits) } catch let error as EnvelopeError {
            throw IngressError(.badClock, error.message)
        }
        guard header.layout.payloadSize <= limits.maxPayloadBytes, header.recipients.count <= limits.maxRecipients,
            header.encoded.count <= limits.maxHeaderBytes
        else {
            throw IngressError(.tooLarge, "envelope \(id)… is over this node's size limits")
        }
        guard header.layout.chunkCount == 1 || header.layout.chunkSize >= limits.minChunkSizeOfMany else {
            throw IngressError(
                .malformed,
                "envelope \(id)… is cut into \(header.layout.chunkCount) chunks of "
                    + "\(header.layout.chunkSize) bytes; chunks of an envelope of several must be at least "
                    + "\(limits.minChunkSizeOfMany >> 10) KiB (LienThong seals in 64 KiB chunks)")
        }
        for r in header.recipientIDs where topology[r] == nil {
            throw IngressError(
                .unknownRecipient,
                "envelope \(id)… names recipient \(r), which is not in the topology")
        }
    }

    /// Where an envelope goes from here. Recipients that lie towards the peer it came from were
    /// that side's to serve, so that next hop is dropped (on a tree this is exact).
    public func custody(for header: EnvelopeHeader, from: String) throws -> Custody {
        let topology = self.topology
        let plan = try topology.nextHops(
            from: me, recipients: header.recipientIDs, followingMerges: header.kind == .document)
        var hops = plan.byNextHop
        if let peer = try? NodeID(from) {
            // An envelope that came from `peer` only because some recipients lie on our side:
            // if nothing is for us or beyond us, it was not routed here.
            let forUs = plan.local || hops.keys.contains { $0 != peer }
            guard forUs || from == "local" else {
                throw IngressError(
                    .notRoutedHere,
                    "envelope \(header.id.hex.prefix(16))… from \(peer) has no recipient on this side of the tree")
            }
            hops[peer] = nil
        }
        if plan.local, !header.recipientIDs.contains(me) {
            // Here only as the successor of retired units (documents only follow merges): without
            // one of their keys it could not open it. Refused for now (the neighbour keeps it and
            // retries), never lost.
            let retired = header.recipientIDs.filter { topology.successor(of: $0) == me }
            guard retired.contains(where: adoptedKeys.contains) else {
                throw IngressError(
                    .unknownRecipient,
                    """
                    envelope \(header.id.hex.prefix(16))… is for \(retired.map(\.rawValue).joined(separator: ",")), \
                    merged into this node, whose encryption key this node does not hold; adopt it with \
                    `lienthong keys adopt --from RETIRED-HOME` and restart
                    """)
            }
        }
        return Custody(
            nextHops: hops, deliverLocally: plan.local, trackAsOrigin: header.origin == me && header.kind == .document)
    }

    /// The custody transaction, start to end: the entry point into the queue. Runs `transaction`
    /// (which writes the envelopes' queue entries and inbox rows with the custodies it is given),
    /// then points the live sessions of each accepted Hỏa tốc envelope's next hops at it and wakes
    /// the senders that must claim the rest. Blocking (spool writes): run it where spool
    /// transactions run. The envelopes must have passed `check` and got their `custody` here.
    public func commit(
        _ envelopes: [(header: EnvelopeHeader, table: ChunkTable, custody: Custody)], now: Int64,
        _ transaction: ([Custody]) throws -> [AcceptResult]
    ) throws -> [AcceptResult] {
        let results = try transaction(envelopes.map(\.custody))
        guard let signal else { return results }
        var wake = false
        for (e, result) in zip(envelopes, results) where result == .accepted && !e.custody.nextHops.isEmpty {
            if !signal.hint(e.header, e.table, e.custody, now: now) { wake = true }
        }
        if wake { signal.notify() }
        return results
    }

    /// `commit` for whole envelopes (checked, with their custody): one transaction for the batch.
    @discardableResult
    public func accept(_ batch: [IncomingEnvelope], now: Int64) throws -> [AcceptResult] {
        try commit(batch.map { ($0.header, $0.verifier.table, $0.custody) }, now: now) { _ in
            try spool.acceptBatch(batch, now: now)
        }
    }

    /// Queue entries changed outside a custody transaction (an operator's release, a receipt
    /// settled, a topology applied): every sender looks at its queue now.
    public func notify() { signal?.notify() }

    /// Checks and stores an envelope file (header ‖ table ‖ body), chunk by chunk, then runs the
    /// custody transaction. Resumes a partial copy left by an interrupted import.
    public func acceptFile(_ path: String, from: String, now: Int64) throws -> (EnvelopeHeader, AcceptResult, Custody) {
        let source = try FileSource(path: path)
        let header = try EnvelopeFile.readHeader(from: source, limits: limitsNow)
        try check(header, now: now)
        let verifier = try ChunkVerifier(
            header: header, table: try EnvelopeFile.readTable(from: source, header: header))
        let custody = try custody(for: header, from: from)
        guard case .resume(let start) = try spool.begin(verifier, from: from, now: now, custody: custody) else {
            return (header, .duplicate, custody)
        }
        var batch: [[UInt8]] = []
        var first = start
        for i in 0..<header.layout.chunkCount {
            let chunk = try source.readExactly(header.layout.ciphertextLength(of: i), what: "envelope body")
            guard i >= start else { continue }
            batch.append(chunk)
            if batch.count == 64 || i == header.layout.chunkCount - 1 {
                try spool.appendChunks(verifier, first: first, chunks: batch)
                first += batch.count
                batch.removeAll(keepingCapacity: true)
            }
        }
        let result = try commit([(header, verifier.table, custody)], now: now) { custodies in
            [try spool.complete(header.id, custody: custodies[0], now: now)]
        }[0]
        return (header, result, custody)
    }
}

/// Why the gate refused an envelope; maps onto the link's refusal reasons.
public struct IngressError: Error, CustomStringConvertible, Sendable, LienThongError {
    public let reason: RefusalReason
    public let message: String
    public init(_ reason: RefusalReason, _ message: String) {
        self.reason = reason
        self.message = message
    }
    /// `INGRESS-` and the refusal reason: `INGRESS-UNKNOWN-ORIGIN`.
    public var errorCode: String { "INGRESS-" + errorCodeWord("\(reason)") }
    public var description: String { report }
}
