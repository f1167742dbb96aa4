import Envelope
import Spool
import Wire

/// The sending half of a session, as a plain state machine: which envelopes are offered, which
/// are being sent from which chunk, and how many chunk bytes are in flight (the window).
///
/// Events come from the peer's answers; effects tell the session what to do to the spool.
package struct OutboundState {
    enum Phase: Equatable {
        /// OFFER sent, no answer yet.
        case offered
        /// The receiver asked for chunks from `next` on.
        case sending
    }

    struct Transfer {
        let entry: QueueEntry
        let layout: ChunkLayout
        var phase: Phase
        /// The next chunk to send.
        var next: Int
        /// Chunks below this index are stored at the receiver (credited back to the window).
        var credited: Int
        /// One past the highest chunk sent in this session: a chunk below it is sent again.
        var sentEnd = 0
        /// Ciphertext bytes sent a second (or later) time in this session, after re-requests.
        var resent = 0
    }

    package enum Effect: Equatable, Sendable {
        /// Custody passed (ACK, or HAVE: the receiver already had it): remove the queue entries.
        case acknowledged([EnvelopeID])
        /// A temporary refusal: defer with backoff.
        case deferEntry(EnvelopeID, String)
        /// A permanent refusal: quarantine with the reason.
        case quarantine(EnvelopeID, String)
        /// The peer does not verify the origin's signature, which this node's gate did: a key
        /// rotation whose topology the peer has not applied yet, or a forgery. The session
        /// checks the signature again under this node's topology: defer if it holds, else quarantine.
        case signatureDisputed(EnvelopeID, String)
    }

    package let window: Int
    /// Bytes beyond the window that only chunks of Hỏa tốc envelopes may use. Under bulk load
    /// the window is always full; without a reserve an urgent chunk waited for the receiver's
    /// next STORED — its next chunk-batch commit, up to tens of ms per hop (`Scripts/bench` e).
    package let urgentReserve: Int
    /// Bytes of one envelope this session sends again after re-requests (SEND_FROM below what
    /// was sent) before it ignores further re-requests: four windows, room for the receiver's
    /// three asks after bad chunks. Without it a 740-byte SEND_FROM 0, repeated, made a node
    /// send a 30 MB envelope over and over (docs/RELIABILITY.md, adversarial table).
    package var resendBudget: Int { 4 * window }
    /// Re-requests ignored because their envelope's resend budget was spent.
    package private(set) var ignoredRewinds = 0
    private(set) var transfers: [EnvelopeID: Transfer] = [:]
    /// Candidates of `nextChunk`, sorted worst first so the best is last (`QueuePolicy.order`),
    /// so a pick costs O(1) instead of a scan of every outstanding offer. Entries are removed
    /// lazily: a finished or re-requested transfer is dropped when it reaches the end.
    private var sendable: [SendKey] = []
    private var queued: Set<EnvelopeID> = []

    struct SendKey {
        let rank: Int
        let enqueuedAt: Int64
        let id: EnvelopeID
        /// `QueuePolicy.order`: more urgent, then older, then lower id goes first.
        func goesBefore(_ o: SendKey) -> Bool {
            if rank != o.rank { return rank > o.rank }
            if enqueuedAt != o.enqueuedAt { return enqueuedAt < o.enqueuedAt }
            return id < o.id
        }
    }

    private mutating func enqueue(_ t: Transfer) {
        let id = t.entry.envelopeID
        guard !queued.contains(id) else { return }
        let key = SendKey(rank: t.entry.urgency.rank, enqueuedAt: t.entry.enqueuedAt, id: id)
        // Binary search for the first element that goes before `key` (the array is worst first).
        var lo = 0
        var hi = sendable.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sendable[mid].goesBefore(key) { hi = mid } else { lo = mid + 1 }
        }
        sendable.insert(key, at: lo)
        queued.insert(id)
    }
    package private(set) var inFlightBytes = 0
    /// Chunk bytes sent in this session (for resume-efficiency figures).
    private(set) var chunkBytesSent: UInt64 = 0

    package init(window: Int, urgentReserve: Int = 0) {
        self.window = window
        self.urgentReserve = urgentReserve
    }

    package var outstanding: Int { transfers.count }
    package func isOffered(_ id: EnvelopeID) -> Bool { transfers[id] != nil }

    /// Registers an offer. Returns false, changing nothing, for an envelope this session is
    /// already transferring: replacing it would forget the bytes it has in flight, and the
    /// window would never open again (a claim that returned an in-flight entry did that).
    ///
    /// An envelope of one chunk is sent with its offer (docs/PROTOCOL.md §5): its chunk is ready
    /// at once, without waiting a round trip for SEND_FROM 0.
    @discardableResult
    package mutating func offered(_ entry: QueueEntry, layout: ChunkLayout) -> Bool {
        guard transfers[entry.envelopeID] == nil else { return false }
        let eager = layout.chunkCount == 1
        let t = Transfer(entry: entry, layout: layout, phase: eager ? .sending : .offered, next: 0, credited: 0)
        transfers[entry.envelopeID] = t
        if eager { enqueue(t) }
        return true
    }

    /// Feeds one answer from the receiver. Messages that are not answers return no effects.
    package mutating func receive(_ message: SessionMessage) throws -> [Effect] {
        switch message {
        case .have(let id):
            guard transfers[id] != nil else { return [] }
            finish(id)
            return [.acknowledged([id])]
        case .sendFrom(let id, let k):
            guard var t = transfers[id] else { return [] }
            guard k >= 0, k <= t.layout.chunkCount else {
                throw WireError(.malformed, "the peer asked for chunk \(k) of an envelope with \(t.layout.chunkCount)")
            }
            if k < t.next, t.resent >= resendBudget {
                ignoredRewinds += 1  // the transfer goes on from where it is; the peer may refuse it
                return []
            }
            // A re-request (after a bad chunk or a restart) un-sends what was sent past k.
            credit(&t, upTo: t.next)
            t.next = k
            t.credited = k
            t.phase = .sending
            transfers[id] = t
            if k < t.layout.chunkCount { enqueue(t) }
            return []
        case .refuse(let id, let reason, let text):
            guard transfers[id] != nil else { return [] }
            finish(id)
            let why = "refused by peer: \(reason) (\(text))"
            if reason == .badSignature { return [.signatureDisputed(id, why)] }
            return [reason.isPermanent ? .quarantine(id, why + ", permanent") : .deferEntry(id, why + ", temporary")]
        case .stored(let id, let count):
            guard var t = transfers[id] else { return [] }
            credit(&t, upTo: min(count, t.next))
            transfers[id] = t
            return []
        case .ack(let ids):
            let known = ids.filter { transfers[$0] != nil }
            for id in known { finish(id) }
            return known.isEmpty ? [] : [.acknowledged(known)]
        case .offer, .chunk, .ping, .pong, .close:
            return []
        }
    }

    /// The next chunk to send: the most urgent, then oldest, transfer with chunks left, if the
    /// window has room (one chunk may always be in flight, so large chunks still move). A Hỏa
    /// tốc chunk may also use the urgent reserve beyond the window.
    package mutating func nextChunk() -> (id: EnvelopeID, index: Int)? {
        while let key = sendable.last {
            guard var t = transfers[key.id], t.phase == .sending, t.next < t.layout.chunkCount else {
                sendable.removeLast()
                queued.remove(key.id)
                continue
            }
            let length = t.layout.ciphertextLength(of: t.next)
            let limit = window + (key.rank >= Urgency.hoaToc.rank ? urgentReserve : 0)
            guard inFlightBytes == 0 || inFlightBytes + length <= limit else { return nil }
            let index = t.next
            t.next += 1
            if index < t.sentEnd { t.resent += length } else { t.sentEnd = index + 1 }
            transfers[key.id] = t
            if t.next >= t.layout.chunkCount {
                sendable.removeLast()
                queued.remove(key.id)
            }
            inFlightBytes += length
            chunkBytesSent += UInt64(length)
            return (key.id, index)
        }
        return nil
    }

    private mutating func credit(_ t: inout Transfer, upTo: Int) {
        guard upTo > t.credited else { return }
        for i in t.credited..<upTo { inFlightBytes -= t.layout.ciphertextLength(of: i) }
        t.credited = upTo
    }

    private mutating func finish(_ id: EnvelopeID) {
        guard var t = transfers[id] else { return }
        credit(&t, upTo: t.next)
        transfers[id] = nil
    }
}
