import Envelope
import NIOConcurrencyHelpers
import Spool

/// Wakes every link sender when new queue entries may be waiting (a local send, a commit that
/// routed envelopes onwards, an operator's release), and points the live session of a Hỏa tốc
/// envelope's next hop at its entry right after the custody commit.
///
/// Why the hint: a session normally claims its entries in a spool transaction of its own. Under
/// bulk load every transaction first waits for the chunk transaction in progress (3–6 ms,
/// `Scripts/bench` e), so an urgent envelope waited twice per node: for its custody commit and
/// for the claim. With the hint (entry, header, chunk table, in memory) the session offers it at
/// once, without touching the spool.
///
/// Why a hint cannot lose anything: the custody transaction enqueues the entry `ready` like any
/// other; the hint is only a copy in memory. A session that ends drops its hints and the entry is
/// still ready for the next session, which claims before anything else; a hint for an entry the
/// session has claimed meanwhile is not offered twice (`OutboundState.offered`). A full or closed
/// box takes no hint, and the senders are woken to claim instead.
///
/// Security note: only envelopes that passed the custody gate (`CustodyGate.commit`) and were
/// committed are hinted, each only to a session with the next hop its custody names.
public final class QueueSignal: Sendable {
    private struct Session {
        let peer: NodeID
        let wake: @Sendable () -> Void
        let hints: HintBox
    }
    private let sessions = NIOLockedValueBox<[ObjectIdentifier: Session]>([:])

    public init() {}

    package func register(_ owner: AnyObject, peer: NodeID, hints: HintBox, _ wake: @escaping @Sendable () -> Void) {
        sessions.withLockedValue { $0[ObjectIdentifier(owner)] = Session(peer: peer, wake: wake, hints: hints) }
    }
    package func unregister(_ owner: AnyObject) { sessions.withLockedValue { $0[ObjectIdentifier(owner)] = nil } }

    /// Sessions registered now (for tests and diagnostics).
    package var liveSessionCount: Int { sessions.withLockedValue { $0.count } }

    /// Something was enqueued: every sender looks at its queue now.
    public func notify() {
        for s in sessions.withLockedValue({ Array($0.values) }) { s.wake() }
    }

    /// Hints a committed envelope's entries to the live sessions of its next hops, if it is Hỏa
    /// tốc. Returns whether every next hop's sender has one (none needs waking to claim).
    package func hint(_ header: EnvelopeHeader, _ table: ChunkTable, _ custody: Custody, now: Int64) -> Bool {
        guard header.urgency.rank == Urgency.hoaToc.rank else { return false }
        let live = sessions.withLockedValue { Array($0.values) }
        var all = true
        for (peer, recipients) in custody.nextHops.sorted(by: { $0.key < $1.key }) {
            // The entry as the custody transaction wrote it.
            let entry = QueueEntry(
                envelopeID: header.id, peer: peer, state: .ready, urgency: header.urgency, origin: header.origin,
                recipients: recipients, bodySize: UInt64(header.layout.bodySize), enqueuedAt: now, attempts: 0,
                nextAttemptAt: now, lastError: nil, expiresAt: header.expiresAt)
            // A peer's ending session may still be registered beside the next one: both get it.
            var taken = false
            for s in live where s.peer == peer {
                if s.hints.put(Hint(entry: entry, header: header, table: table)) { taken = true }
            }
            if !taken { all = false }
        }
        return all
    }
}

/// A queue entry a session may offer without claiming it, with what the session offers.
package struct Hint: Sendable {
    package let entry: QueueEntry
    package let header: EnvelopeHeader
    package let table: ChunkTable
}

/// A session's hints not yet offered, and the wake-up of its sender. Closed when the session ends.
package final class HintBox: Sendable {
    /// More hints than this waiting means the session is not keeping up: further entries are
    /// claimed in order instead.
    package static let defaultCapacity = 64
    package let capacity: Int
    private let state = NIOLockedValueBox<(open: Bool, items: [Hint])>((true, []))
    /// Wakes the session's sender only (a hint needs no claim).
    package let wake: @Sendable () -> Void

    package init(capacity: Int = HintBox.defaultCapacity, wake: @escaping @Sendable () -> Void = {}) {
        self.capacity = capacity
        self.wake = wake
    }

    /// Takes a hint; false (nothing kept) if the box is closed or full.
    package func put(_ hint: Hint) -> Bool {
        let taken = state.withLockedValue { s in
            guard s.open, s.items.count < capacity else { return false }
            s.items.append(hint)
            return true
        }
        if taken { wake() }
        return taken
    }

    package func takeAll() -> [Hint] {
        state.withLockedValue { s in
            defer { s.items = [] }
            return s.items
        }
    }

    package func close() {
        state.withLockedValue {
            $0.open = false
            $0.items = []
        }
    }
}
