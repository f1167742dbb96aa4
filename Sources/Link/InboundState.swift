import Envelope
import Spool
import Wire

/// The receiving half of a session, as a plain state machine (the counterpart of
/// `OutboundState`): what the peer has offered and this node is receiving, and what to do next.
///
/// An envelope goes through these phases, by id:
/// - none: not offered, or finished. A chunk for it is stale and ignored.
/// - `small`: a small envelope (at most `smallEnvelopeChunks` chunks, one by default), held in
///   memory until complete, then committed with others in one transaction (`commitSmall`).
/// - `offered`: a large envelope offered; the committer registers it in the spool (`begin`).
/// - `receiving(next)`: a large envelope registered, chunks from `next` on expected; verified
///   runs of chunks are appended, each run in one transaction (`append`), until `complete`.
///
/// Inputs come from the peer (`offer`, `chunk`) and from the committer (the outcome of each
/// spool step); each returns the actions the session carries out, in order. Chunks that fail
/// verification are asked for again up to `maxRejections` times, then the envelope is refused for
/// now (the sender's copy may be damaged). Bounds on what a peer may have in progress are
/// `InboundOffers`'.
///
/// Security note: every number here comes from the peer; offers reach this type only after the
/// custody gate checked their signed header, and a chunk of an envelope not in progress, or out
/// of order, is ignored, never stored.
package struct InboundState {
    package struct Limits: Sendable, Equatable {
        package var offers: InboundOffers.Limits
        /// Envelopes of at most this many chunks are held in memory (at least 1).
        package var smallEnvelopeChunks: Int
        /// Chunks of a large envelope appended per transaction.
        package var chunksPerTransaction: Int
        /// Failed verifications of one envelope's chunks before it is refused for now.
        package var maxRejections: Int

        package init(
            offers: InboundOffers.Limits = InboundOffers.Limits(), smallEnvelopeChunks: Int = 1,
            chunksPerTransaction: Int = 8, maxRejections: Int = 3
        ) {
            self.offers = offers
            self.smallEnvelopeChunks = smallEnvelopeChunks
            self.chunksPerTransaction = chunksPerTransaction
            self.maxRejections = maxRejections
        }
    }

    /// What the session does next.
    package enum Action: Sendable {
        /// Send REFUSE (logged and counted).
        case refuse(EnvelopeID, RefusalReason, String)
        /// Send SEND_FROM: the chunks from `index` on.
        case sendFrom(EnvelopeID, Int)
        /// Send SEND_FROM after a chunk failed verification (logged).
        case askAgain(EnvelopeID, Int)
        /// Send HAVE: the spool already holds the envelope.
        case have(EnvelopeID)
        /// Send STORED: chunks below `count` are durable here.
        case stored(EnvelopeID, Int)
        /// Send ACK: custody is this node's.
        case ack([EnvelopeID])
        /// Committer: accept a complete small envelope (grouped with others).
        case commitSmall(IncomingEnvelope)
        /// Committer: register a large envelope in the spool.
        case begin(ChunkVerifier, Custody)
        /// Committer: store a chunk of a large envelope (grouped into runs).
        case append(EnvelopeID, Int, [UInt8])
        /// Committer: every chunk is stored; run the custody transaction.
        case complete(EnvelopeID)
    }

    /// A large envelope registered in the spool.
    private struct Large {
        let verifier: ChunkVerifier
        let custody: Custody
        var next: Int
    }

    package let limits: Limits
    /// The peer, as the spool records where an envelope came from.
    package let peer: String
    private var offers: InboundOffers
    private var large: [EnvelopeID: Large] = [:]
    private var rejections: [EnvelopeID: Int] = [:]
    /// Verified chunk bytes received this session.
    package private(set) var chunkBytesReceived: UInt64 = 0

    package init(peer: String, limits: Limits = Limits()) {
        self.peer = peer
        self.limits = limits
        self.offers = InboundOffers(limits: limits.offers)
    }

    /// Envelopes in progress (offered and not finished).
    package var inProgress: Int { offers.count }
    /// Whether a large envelope is registered in the spool and expects `next`.
    package func expected(_ id: EnvelopeID) -> Int? { large[id]?.next }

    // MARK: - From the peer

    /// An offer whose header passed the custody gate. An envelope offered again while in progress
    /// starts over.
    package mutating func offer(_ verifier: ChunkVerifier, custody: Custody) -> [Action] {
        let header = verifier.header
        let id = header.id
        let small = header.layout.chunkCount <= max(1, limits.smallEnvelopeChunks)
        offers[id] = nil
        if let why = offers.refusal(for: header, small: small) { return [.refuse(id, .temporaryFailure, why)] }
        offers[id] = InboundOffers.Entry(verifier: verifier, custody: custody, small: small ? [] : nil)
        guard small else { return [.begin(verifier, custody)] }
        // No spool round trip per offer: a duplicate is found by the group commit, which stores
        // nothing for it and still acknowledges it. The chunk of a one-chunk envelope follows its
        // offer unasked.
        return header.layout.chunkCount > 1 ? [.sendFrom(id, 0)] : []
    }

    /// A chunk from the peer.
    package mutating func chunk(_ id: EnvelopeID, _ index: Int, _ data: [UInt8]) -> [Action] {
        guard let entry = offers[id] else { return [] }  // stale or unknown: ignored
        let layout = entry.verifier.header.layout
        let inRange = index >= 0 && index < layout.chunkCount
        let fits: Bool
        if entry.small != nil {
            fits = (try? entry.verifier.verify(index: index, ciphertext: data)) != nil
        } else {
            // Large envelopes: the digest is checked once, by the spool's appendChunks in the
            // committer; here only the index and length, so nothing oversized is queued.
            fits = inRange && data.count == layout.ciphertextLength(of: index)
        }
        guard fits else {
            // Never kept, never forwarded. An index out of range is not asked for (an honest
            // sender never sends one, and would take the request for a protocol error).
            let actions = rejected(id, at: index, ask: inRange)
            if case .refuse = actions.first { forget(id) }
            return actions
        }
        chunkBytesReceived += UInt64(data.count)
        guard var chunks = entry.small else { return [.append(id, index, data)] }
        guard index == chunks.count else { return [] }
        chunks.append(data)
        guard chunks.count == layout.chunkCount else {
            offers[id]?.small = chunks
            return []
        }
        forget(id)
        return [
            .commitSmall(IncomingEnvelope(verifier: entry.verifier, chunks: chunks, from: peer, custody: entry.custody))
        ]
    }

    // MARK: - From the committer

    /// Small envelopes were committed (accepted or duplicates): acknowledge them all.
    package func smallsCommitted(_ ids: [EnvelopeID]) -> [Action] {
        stride(from: 0, to: ids.count, by: SessionMessage.maxAckIDs).map {
            .ack(Array(ids[$0..<min(ids.count, $0 + SessionMessage.maxAckIDs)]))
        }
    }

    /// The transaction for small envelopes failed: refuse them all for now.
    package func smallsFailed(_ ids: [EnvelopeID], _ reason: RefusalReason, _ text: String) -> [Action] {
        ids.map { .refuse($0, reason, text) }
    }

    /// The spool's answer to `begin`.
    package mutating func began(_ verifier: ChunkVerifier, custody: Custody, _ result: BeginResult) -> [Action] {
        let id = verifier.header.id
        switch result {
        case .duplicate:
            forget(id)
            return [.have(id)]
        case .resume(let k):
            large[id] = Large(verifier: verifier, custody: custody, next: k)
            return k == verifier.header.layout.chunkCount ? [.complete(id)] : [.sendFrom(id, k)]
        }
    }

    /// A spool step for `id` failed (begin, append, complete): refuse it and forget it.
    package mutating func failed(_ id: EnvelopeID, _ reason: RefusalReason, _ text: String) -> [Action] {
        forget(id)
        return [.refuse(id, reason, text)]
    }

    /// The verifier for a run of chunks from `first`, or nil for a stale run (after a
    /// re-request, chunks still in flight arrive before the re-sent ones).
    package func appendable(_ id: EnvelopeID, first: Int) -> ChunkVerifier? {
        guard let l = large[id], l.next == first else { return nil }
        return l.verifier
    }

    /// A run was appended: chunks below `stored` are durable.
    package mutating func appended(_ id: EnvelopeID, stored: Int) -> [Action] {
        guard let l = large[id] else { return [] }
        large[id]?.next = stored
        return [.stored(id, stored)] + (stored == l.verifier.header.layout.chunkCount ? [.complete(id)] : [])
    }

    /// A chunk of a run failed verification in the spool: the chunks before it (`have` in all)
    /// are stored; the bad one is asked for again, or the envelope refused for now.
    package mutating func appendRejected(_ id: EnvelopeID, have: Int) -> [Action] {
        guard large[id] != nil else { return [] }
        large[id]?.next = have
        let again = rejected(id, at: have, ask: true)
        if case .refuse = again.first { forget(id) }
        return [.stored(id, have)] + again
    }

    /// What the custody transaction of a complete large envelope needs.
    package func completion(_ id: EnvelopeID) -> (verifier: ChunkVerifier, custody: Custody)? {
        large[id].map { ($0.verifier, $0.custody) }
    }

    /// The custody transaction committed (or found a duplicate): acknowledge.
    package mutating func completed(_ id: EnvelopeID) -> [Action] {
        forget(id)
        return [.ack([id])]
    }

    // MARK: - Grouping

    /// One spool step of the committer.
    package enum Step {
        case begin(ChunkVerifier, Custody)
        /// Consecutive chunks of one envelope, from `first`, at most `chunksPerTransaction`.
        case append(EnvelopeID, first: Int, [[UInt8]])
    }

    /// The committer's steps for a batch of work, small envelopes apart (they are committed
    /// together, first). A gap in a run starts a new one: after a re-request, stale chunks still in
    /// flight are followed by the re-sent ones, and those must not be swallowed with the stale run.
    package static func steps(_ work: [Action], chunksPerTransaction: Int) -> [Step] {
        var steps: [Step] = []
        for action in work {
            switch action {
            case .begin(let verifier, let custody):
                steps.append(.begin(verifier, custody))
            case .append(let id, let index, let data):
                if case .append(let rid, let first, var chunks) = steps.last, rid == id,
                    index == first + chunks.count, chunks.count < max(1, chunksPerTransaction)
                {
                    chunks.append(data)
                    steps[steps.count - 1] = .append(id, first: first, chunks)
                } else {
                    steps.append(.append(id, first: index, [data]))
                }
            case .commitSmall, .refuse, .sendFrom, .askAgain, .have, .stored, .ack, .complete:
                break
            }
        }
        return steps
    }

    // MARK: - Private

    /// The envelope is finished here (committed, a duplicate, or refused): nothing of it is kept,
    /// so what a peer makes this session remember is bounded by what it has in progress.
    private mutating func forget(_ id: EnvelopeID) {
        offers[id] = nil
        large[id] = nil
        rejections[id] = nil
    }

    /// Counts a failed verification: asks again (when `ask`) or, past the limit, refuses.
    private mutating func rejected(_ id: EnvelopeID, at index: Int, ask: Bool) -> [Action] {
        rejections[id, default: 0] += 1
        let n = rejections[id] ?? 0
        if n > limits.maxRejections {
            return [
                .refuse(
                    id, .temporaryFailure,
                    "chunk \(index) failed verification against the signed digest \(n) times; the sender's copy "
                        + "may be damaged")
            ]
        }
        return ask ? [.askAgain(id, index)] : []
    }
}
