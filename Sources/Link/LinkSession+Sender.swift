import Envelope
import Gate
import Spool
import Synchronization

/// The sending half of a session: offers Hỏa tốc hints and the entries it claims for this peer,
/// sends their chunks (most urgent first, within the window), and applies the peer's answers
/// (ACK, refusals) to the spool. The decisions are `OutboundState`'s; this file does the spool
/// and socket work.
///
/// Security note: answers from the peer only ever concern envelopes this session offered
/// (`OutboundState` ignores the rest); nothing here reads a peer's bytes into the spool.
extension LinkSession {
    // MARK: - Sender

    /// Waits only for a signal (a hint, an enqueue, an answer, room in the write queue) or for the
    /// moment the next deferred entry for this peer is due; never polls.
    func senderLoop() async throws {
        let config = context.configuration
        let spool = context.spool
        let peer = self.peer
        let clock = ContinuousClock()
        var claimDue = true  // the first claim: entries that waited for this session
        var claimSkipped = false
        var nextDue: Int64?
        while !Task.isCancelled {
            var worked = false
            // Hỏa tốc entries a custody commit pointed this session at: offered at once, no claim.
            // A claim that is due waits one round for them (never two), so their chunks go out
            // before any spool transaction, and a stream of hints cannot keep the queue from being
            // claimed. An entry already offered (claimed meanwhile) is not offered twice.
            let hinted = hints.takeAll()
            for h in hinted where outbound.withLockedValue({ $0.offered(h.entry, layout: h.header.layout) }) {
                try writer.send(.offer(header: h.header.encoded, table: h.table.bytes))
                summary.withLockedValue { $0.envelopesHandedOff += 1 }
            }
            if !hinted.isEmpty { worked = true }
            // Claimed in slices, so the first offers go out (and the receiver starts) sooner.
            let room = min(256, config.maxOutstandingOffers - outbound.withLockedValue { $0.outstanding })
            let now = context.clock()
            if queueDirty.exchange(false, ordering: .acquiringAndReleasing) { claimDue = true }
            if let due = nextDue, now >= due { claimDue = true }
            if claimDue && room > 0 && !hinted.isEmpty && !claimSkipped {
                claimSkipped = true
            } else if claimDue && room > 0 {
                claimDue = false
                claimSkipped = false
                let (offers, due) = try await context.blocking {
                    let offers = try spool.claimForSending(peer: peer, now: now, limit: room)
                    // All that was due is claimed: the next claim is when the next entry is due.
                    return (offers, offers.count < room ? try spool.nextAttempt(peer: peer, now: now) : now)
                }
                nextDue = due
                for (entry, header, table) in offers
                where outbound.withLockedValue({ $0.offered(entry, layout: header.layout) }) {
                    try writer.send(.offer(header: header.encoded, table: table.bytes))
                }
                if !offers.isEmpty { worked = true }
            }
            // Chunks, most urgent first, while the window and the socket keep up; read from the
            // spool a batch at a time (one trip to the blocking pool for many chunks).
            // Frames queued for the socket are kept short (`writeQueue`), apart from the window of
            // chunks in flight: an urgent offer or chunk then waits behind little bulk data.
            while writer.pending.load(ordering: .relaxed) < min(config.window, config.writeQueue) {
                var picks: [(id: EnvelopeID, index: Int)] = []
                // A few chunks per trip to the spool: enough to keep the socket busy, few enough
                // that a relay's memory stays small (each chunk is up to 64 KiB).
                while picks.count < 16, let next = outbound.withLockedValue({ $0.nextChunk() }) { picks.append(next) }
                guard !picks.isEmpty else { break }
                let batch = picks
                let chunks = try await context.blocking { try spool.chunks(batch) }
                for (p, data) in zip(picks, chunks) {
                    guard let data else {
                        throw SpoolError(
                            .notFound, "chunk \(p.index) of \(p.id.hex.prefix(16))… vanished from the spool")
                    }
                    try writer.send(.chunk(p.id, p.index, data))
                }
                worked = true
            }
            guard !worked else { continue }
            // A claim held back by a full set of offers waits for an answer; otherwise for the
            // next entry due, if any.
            let deadline = claimDue ? nil : nextDue.map { clock.now.advanced(by: .milliseconds(max(0, $0 - now))) }
            await wakeSender.wait(until: deadline)
        }
    }

    /// Applies the peer's answers that reached the committer together: all ACKs in one
    /// transaction, then each refusal.
    func apply(_ effects: [OutboundState.Effect]) async throws {
        guard !effects.isEmpty else { return }
        let spool = context.spool
        let peer = self.peer
        let now = context.clock()
        let retry = context.configuration.retry
        let acked = effects.flatMap { e -> [EnvelopeID] in if case .acknowledged(let ids) = e { ids } else { [] } }
        if !acked.isEmpty {
            let n = try await context.blocking { try spool.ackBatch(acked, peer: peer, now: now) }
            summary.withLockedValue { $0.envelopesSent += n }
        }
        var deferred = false
        for effect in effects {
            switch effect {
            case .acknowledged:
                break
            case .deferEntry(let id, let why):
                logger.notice(
                    "peer refused an envelope for now",
                    metadata: ["envelope": "\(id.hex.prefix(16))", "reason": "\(why)"])
                try await context.blocking {
                    let attempts = try spool.queueEntries(peer: peer, envelope: id).first?.attempts ?? 1
                    try spool.deferEntry(id, peer: peer, error: why, delay: retry.delay(attempts: attempts), now: now)
                }
                deferred = true
            case .signatureDisputed(let id, let why):
                let holds = try await context.blocking { [context] in
                    guard let header = try spool.storedEnvelope(id)?.header else { return false }
                    let keys =
                        context.topology[header.origin]?.signingKeys(signedAt: header.createdAt, checkedAt: now) ?? []
                    return (try? header.verifySignature(originKeys: keys)) != nil
                }
                guard holds else {
                    logger.warning(
                        "peer refused an envelope whose signature this node no longer accepts either; quarantined",
                        metadata: ["envelope": "\(id.hex.prefix(16))", "reason": "\(why)"])
                    try await context.blocking {
                        try spool.quarantine(id, peer: peer, reason: why + ", permanent", now: now)
                    }
                    continue
                }
                // Valid here: the peer has not applied the topology with the origin's new key yet.
                logger.notice(
                    "peer does not know the origin's key yet (a key rotation still flooding); will offer it again",
                    metadata: ["envelope": "\(id.hex.prefix(16))", "reason": "\(why)"])
                try await context.blocking {
                    let attempts = try spool.queueEntries(peer: peer, envelope: id).first?.attempts ?? 1
                    try spool.deferEntry(
                        id, peer: peer, error: why + ", temporary: the peer's topology is behind",
                        delay: retry.delay(attempts: attempts), now: now)
                }
                deferred = true
            case .quarantine(let id, let why):
                logger.warning(
                    "peer refused an envelope for good; quarantined",
                    metadata: ["envelope": "\(id.hex.prefix(16))", "reason": "\(why)"])
                try await context.blocking { try spool.quarantine(id, peer: peer, reason: why, now: now) }
            }
        }
        if deferred {
            // The sender learns when the deferred entry is due at its next claim.
            queueDirty.store(true, ordering: .releasing)
            wakeSender.signal()
        }
    }
}
