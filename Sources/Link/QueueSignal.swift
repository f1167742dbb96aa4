import Envelope
import Logging
import Spool

/// Wakes every link sender when new queue entries may be waiting (a local send, a commit that
/// routed envelopes onwards, an operator's release), so they do not wait for their next poll;
/// and hands Hỏa tốc envelopes straight to the live session of their next hop.
///
/// Why the hand-off: a session normally claims its entries in a spool transaction of its own.
/// Under bulk load every transaction first waits for the chunk transaction in progress (3–6 ms,
/// `Scripts/bench` e), so an urgent envelope waited twice per node: for its custody commit and
/// for the claim. Handed off, it is enqueued already in flight by the custody transaction
/// (`Custody.handedTo`) and the session offers it without touching the spool.
///
/// How an entry cannot be lost in flight: `planHandoff` reserves a place in one particular
/// session's box (an open one, with room) before the transaction; after it, `HandoffPlan.complete`
/// fills that place or gives it back, and never puts the entry into another session's box. A box
/// is closed before its session returns its in-flight entries to ready, so a hand-off that comes
/// too late is refused, and `commit` puts the entry back (`Spool.requeue`, which leaves alone an
/// entry a later session has claimed meanwhile).
///
/// Security note: only envelopes that passed the ingress gate and were committed are handed on,
/// each only to a session with the next hop its custody names.
public final class QueueSignal: Sendable {
    private struct Session {
        let peer: NodeID
        let wake: @Sendable () -> Void
        let box: HandoffBox
    }
    private let sessions = Locked<[ObjectIdentifier: Session]>([:])

    public init() {}

    func register(_ owner: AnyObject, peer: NodeID, box: HandoffBox, _ wake: @escaping @Sendable () -> Void) {
        sessions.withLock { $0[ObjectIdentifier(owner)] = Session(peer: peer, wake: wake, box: box) }
    }
    func unregister(_ owner: AnyObject) { sessions.withLock { $0[ObjectIdentifier(owner)] = nil } }

    /// Sessions registered now (for tests and diagnostics).
    var liveSessionCount: Int { sessions.withLock { $0.count } }

    /// Something was enqueued: every sender looks at its queue now.
    public func notify() {
        for s in sessions.withLock({ Array($0.values) }) { s.wake() }
    }

    /// A custody transaction and its hand-offs, start to end: every commit that routes envelopes
    /// onwards (a link's, a local `send`'s) goes through here. Plans each envelope's hand-off,
    /// runs `transaction` with the planned custodies, gives each session its entries (or the
    /// places back, for a duplicate or a failed transaction), puts back in one more transaction
    /// the entries whose session closed meanwhile, and wakes the senders that must claim the rest.
    /// Blocking (spool writes): run it where spool transactions run.
    public func commit(
        _ envelopes: [(header: EnvelopeHeader, table: ChunkTable, custody: Custody)], now: Int64, spool: Spool,
        logger: Logger?,
        _ transaction: ([Custody]) throws -> [AcceptResult]
    ) throws -> [AcceptResult] {
        var custodies = envelopes.map(\.custody)
        let plans = custodies.indices.map { planHandoff(&custodies[$0], urgency: envelopes[$0].header.urgency) }
        let results: [AcceptResult]
        do { results = try transaction(custodies) } catch {
            for (e, (plan, custody)) in zip(envelopes, zip(plans, custodies)) {
                _ = plan.complete(accepted: false, header: e.header, table: e.table, custody: custody, now: now)
            }
            throw error
        }
        var refused: [(EnvelopeID, NodeID)] = []
        var wake = false
        for (i, e) in envelopes.enumerated() {
            let accepted = results[i] == .accepted
            refused += plans[i].complete(
                accepted: accepted, header: e.header, table: e.table, custody: custodies[i], now: now
            ).map { (e.header.id, $0) }
            if accepted && !plans[i].coversAll(of: custodies[i]) { wake = true }
        }
        if !refused.isEmpty {
            wake = true
            // If even this fails, such an entry waits in flight until that peer's next session
            // ends or the node restarts (logged; not lost).
            do { try spool.requeue(refused) } catch {
                logger?.warning(
                    "could not put handed-off entries back in the queue",
                    metadata: ["entries": "\(refused.count)", "error": "\(error)"])
            }
        }
        if wake { notify() }
        return results
    }

    /// `commit` for whole envelopes (`Spool.acceptBatch`).
    public func accept(_ batch: [IncomingEnvelope], now: Int64, spool: Spool, logger: Logger?) throws -> [AcceptResult]
    {
        try commit(batch.map { ($0.header, $0.verifier.table, $0.custody) }, now: now, spool: spool, logger: logger) {
            custodies in
            try spool.acceptBatch(
                zip(batch, custodies).map { e, custody in
                    var e = e
                    e.custody = custody
                    return e
                }, now: now)
        }
    }

    /// Before the custody transaction: for a Hỏa tốc envelope, reserves a place in the box of a
    /// live session for each next hop that has one, and marks those hops in `custody.handedTo`.
    /// Other envelopes are claimed by their sessions as usual (in batches: cheaper for bulk and
    /// for many small documents). The plan must be completed, whatever the transaction's outcome.
    func planHandoff(_ custody: inout Custody, urgency: Urgency) -> HandoffPlan {
        guard urgency.rank == Urgency.hoaToc.rank, !custody.nextHops.isEmpty else { return .none }
        let live = sessions.withLock { Array($0.values) }
        var boxes: [NodeID: HandoffBox] = [:]
        for peer in custody.nextHops.keys {
            // A peer's ending session (box closed) may still be registered beside the next one.
            if let s = live.first(where: { $0.peer == peer && $0.box.reserve() }) { boxes[peer] = s.box }
        }
        custody.handedTo = Set(boxes.keys)
        return HandoffPlan(boxes: boxes)
    }
}

/// The places `QueueSignal.planHandoff` reserved for one envelope, one per next hop.
struct HandoffPlan: Sendable {
    let boxes: [NodeID: HandoffBox]

    /// Nothing reserved: the entries are claimed as usual.
    static let none = HandoffPlan(boxes: [:])

    /// Whether every next hop in `custody` takes its entry from this plan (no sender needs waking).
    func coversAll(of custody: Custody) -> Bool { custody.nextHops.keys.allSatisfy { boxes[$0] != nil } }

    /// After the custody transaction. If it committed the envelope (`accepted`), gives each
    /// reserved session its entry, built as the transaction wrote it, and returns the peers whose
    /// session closed meanwhile (`commit` puts those entries back with `Spool.requeue`). If the
    /// transaction failed or found a duplicate, gives the places back and returns nothing.
    func complete(accepted: Bool, header: EnvelopeHeader, table: ChunkTable, custody: Custody, now: Int64) -> [NodeID] {
        var refused: [NodeID] = []
        for (peer, box) in boxes.sorted(by: { $0.key < $1.key }) {
            guard accepted else {
                box.cancel()
                continue
            }
            let entry = QueueEntry(
                envelopeID: header.id, peer: peer, state: .inflight, urgency: header.urgency, origin: header.origin,
                recipients: custody.nextHops[peer] ?? [], bodySize: UInt64(header.layout.bodySize),
                enqueuedAt: now, attempts: 1, nextAttemptAt: now, lastError: nil, expiresAt: header.expiresAt)
            if !box.put(Handoff(entry: entry, header: header, table: table)) { refused.append(peer) }
        }
        return refused
    }
}

/// An entry enqueued in flight for a session, with what the session offers.
struct Handoff: Sendable {
    let entry: QueueEntry
    let header: EnvelopeHeader
    let table: ChunkTable
}

/// A session's hand-offs: places reserved by custody transactions in progress, and entries not
/// yet offered. Closed before the session returns its in-flight entries to ready.
final class HandoffBox: Sendable {
    /// More than this many hand-offs waiting (reserved or unoffered) means the session is not
    /// keeping up: further envelopes are enqueued ready and claimed in order.
    static let capacity = 64
    private let state = Locked<(open: Bool, items: [Handoff], reserved: Int)>((true, [], 0))
    /// Wakes the session's sender only (a hand-off needs no claim).
    private let wake: @Sendable () -> Void

    init(wake: @escaping @Sendable () -> Void) { self.wake = wake }

    /// A place for one entry, if the box is open and has room.
    func reserve() -> Bool {
        state.withLock { s in
            guard s.open, s.items.count + s.reserved < Self.capacity else { return false }
            s.reserved += 1
            return true
        }
    }

    /// Fills a reserved place; false (the place given back) if the box closed meanwhile.
    func put(_ item: Handoff) -> Bool {
        let taken: Bool = state.withLock { s in
            s.reserved -= 1
            guard s.open else { return false }
            s.items.append(item)
            return true
        }
        if taken { wake() }
        return taken
    }

    /// Gives a reserved place back (the transaction failed, or the envelope was a duplicate).
    func cancel() { state.withLock { $0.reserved -= 1 } }

    func takeAll() -> [Handoff] {
        state.withLock { s in
            defer { s.items = [] }
            return s.items
        }
    }

    func close() { state.withLock { $0.open = false } }
}
