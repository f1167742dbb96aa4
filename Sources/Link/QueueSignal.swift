import Envelope
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
/// Security note: only envelopes that passed the ingress gate and were committed reach here;
/// a session takes a hand-off only for its own peer, and nothing is handed to a session that
/// has ended (the entry then goes back to ready, so it is never stranded in flight).
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

    /// Before the custody transaction: marks the next hops that will take this envelope straight
    /// from it — for a Hỏa tốc envelope, those with a live session. Other envelopes are claimed
    /// by their sessions as usual (in batches, which is cheaper for bulk and small documents).
    public func planHandoff(_ custody: inout Custody, urgency: Urgency) {
        guard urgency.rank == Urgency.hoaToc.rank, !custody.nextHops.isEmpty else { return }
        let live = Set(sessions.withLock { $0.values.map(\.peer) })
        custody.handedTo = Set(custody.nextHops.keys).intersection(live)
    }

    /// After the custody transaction committed (the envelope was accepted, not a duplicate):
    /// gives each `custody.handedTo` entry to its peer's session. Returns the peers whose
    /// session ended meanwhile; the caller puts those entries back with `Spool.requeue`.
    public func handOff(_ header: EnvelopeHeader, table: ChunkTable, custody: Custody, now: Int64) -> [NodeID] {
        guard !custody.handedTo.isEmpty else { return [] }
        let live = sessions.withLock { Array($0.values) }
        var refused: [NodeID] = []
        for peer in custody.handedTo.sorted() {
            let entry = QueueEntry(envelopeID: header.id, peer: peer, state: .inflight, urgency: header.urgency, origin: header.origin,
                                   recipients: custody.nextHops[peer] ?? [], bodySize: UInt64(header.layout.bodySize),
                                   enqueuedAt: now, attempts: 1, nextAttemptAt: now, lastError: nil, expiresAt: header.expiresAt)
            let item = Handoff(entry: entry, header: header, table: table)
            if let s = live.first(where: { $0.peer == peer }), s.box.put(item) {
                s.wake()
            } else {
                refused.append(peer)
            }
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

/// A session's hand-offs not yet offered. Closed before the session's in-flight entries are put
/// back to ready, so every entry it accepted is either offered or put back by that step.
final class HandoffBox: Sendable {
    /// More than this many unoffered hand-offs means the session is not keeping up: the rest
    /// go back to the queue, to be claimed in order.
    static let capacity = 64
    private let state = Locked<(open: Bool, items: [Handoff])>((true, []))

    func put(_ item: Handoff) -> Bool {
        state.withLock { s in
            guard s.open, s.items.count < Self.capacity else { return false }
            s.items.append(item)
            return true
        }
    }

    func takeAll() -> [Handoff] { state.withLock { s in defer { s.items = [] }; return s.items } }

    func close() { state.withLock { $0.open = false } }
}
