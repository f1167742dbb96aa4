import Envelope
import Spool
import Wire

/// The sending half of a session, as a plain state machine: which envelopes are offered, which
/// are being sent from which chunk, and how many chunk bytes are in flight (the window).
///
/// Events come from the peer's answers; effects tell the session what to do to the spool.
struct OutboundState {
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
    }

    enum Effect: Equatable {
        /// Custody passed (ACK, or HAVE: the receiver already had it): remove the queue entries.
        case acknowledged([EnvelopeID])
        /// A temporary refusal: defer with backoff.
        case deferEntry(EnvelopeID, String)
        /// A permanent refusal: quarantine with the reason.
        case quarantine(EnvelopeID, String)
    }

    let window: Int
    private(set) var transfers: [EnvelopeID: Transfer] = [:]
    private(set) var inFlightBytes = 0
    /// Chunk bytes sent in this session (for resume-efficiency figures).
    private(set) var chunkBytesSent: UInt64 = 0

    init(window: Int) { self.window = window }

    var outstanding: Int { transfers.count }
    func isOffered(_ id: EnvelopeID) -> Bool { transfers[id] != nil }

    mutating func offered(_ entry: QueueEntry, layout: ChunkLayout) {
        transfers[entry.envelopeID] = Transfer(entry: entry, layout: layout, phase: .offered, next: 0, credited: 0)
    }

    /// Feeds one answer from the receiver. Messages that are not answers return no effects.
    mutating func receive(_ message: SessionMessage) throws -> [Effect] {
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
            // A re-request (after a bad chunk or a restart) un-sends what was sent past k.
            credit(&t, upTo: t.next)
            t.next = k
            t.credited = k
            t.phase = .sending
            transfers[id] = t
            return []
        case .refuse(let id, let reason, let text):
            guard transfers[id] != nil else { return [] }
            finish(id)
            let why = "refused by peer: \(reason) (\(text))"
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
    /// window has room (one chunk may always be in flight, so large chunks still move).
    mutating func nextChunk() -> (id: EnvelopeID, index: Int)? {
        let candidates = transfers.values.filter { $0.phase == .sending && $0.next < $0.layout.chunkCount }
        guard let best = candidates.min(by: { QueuePolicy.order($0.entry, $1.entry) }) else { return nil }
        let length = best.layout.ciphertextLength(of: best.next)
        guard inFlightBytes == 0 || inFlightBytes + length <= window else { return nil }
        var t = best
        let index = t.next
        t.next += 1
        transfers[t.entry.envelopeID] = t
        inFlightBytes += length
        chunkBytesSent += UInt64(length)
        return (t.entry.envelopeID, index)
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
