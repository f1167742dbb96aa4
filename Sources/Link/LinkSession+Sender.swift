import Envelope
import Spool
import Synchronization

/// The sending half of a session: claims entries for this peer, offers them and sends their
/// chunks (most urgent first, within the window), and applies the peer's answers (ACK, refusals)
/// to the spool. The decisions are `OutboundState`'s; this file does the spool and socket work.
///
/// Security note: answers from the peer only ever concern envelopes this session offered
/// (`OutboundState` ignores the rest); nothing here reads a peer's bytes into the spool.
extension LinkSession {
    // MARK: - Sender

    func senderLoop() async throws {
        let config = context.configuration
        let spool = context.spool
        let peer = self.peer
        var nextPoll: Int64 = 0
        var claimDue = false
        var claimSkipped = false
        while !Task.isCancelled {
            var worked = false
            // Hỏa tốc entries handed over by a custody commit: offered at once, no claim. A claim
            // that is due waits one round for them (never two), so their chunks go out before any
            // spool transaction, and a stream of hand-offs cannot keep the queue from being claimed.
            let handed = handoffs.takeAll()
            for h in handed where outbound.withLock({ $0.offered(h.entry, layout: h.header.layout) }) {
                try writer.send(.offer(header: h.header.encoded, table: h.table.bytes))
                summary.withLock { $0.envelopesHandedOff += 1 }
            }
            if !handed.isEmpty { worked = true }
            // Claimed in slices, so the first offers go out (and the receiver starts) sooner.
            let room = min(256, config.maxOutstandingOffers - outbound.withLock { $0.outstanding })
            let now = context.clock()
            if !claimDue { claimDue = now >= nextPoll || queueDirty.exchange(false, ordering: .acquiringAndReleasing) }
            if claimDue && room > 0 && !handed.isEmpty && !claimSkipped {
                claimSkipped = true
            } else if claimDue && room > 0 {
                claimDue = false
                claimSkipped = false
                let offers = try await context.blocking { try spool.claimForSending(peer: peer, now: now, limit: room) }
                for (entry, header, table) in offers
                where outbound.withLock({ $0.offered(entry, layout: header.layout) }) {
                    try writer.send(.offer(header: header.encoded, table: table.bytes))
                }
                if !offers.isEmpty { worked = true }
                if offers.count < room { nextPoll = now + config.queuePollInterval.milliseconds }
            }
            // Chunks, most urgent first, while the window and the socket keep up; read from the
            // spool a batch at a time (one trip to the blocking pool for many chunks).
            // Frames queued for the socket are kept short (`writeQueue`), apart from the window of
            // chunks in flight: an urgent offer or chunk then waits behind little bulk data.
            while writer.pending.load(ordering: .relaxed) < min(config.window, config.writeQueue) {
                var picks: [(id: EnvelopeID, index: Int)] = []
                // A few chunks per trip to the spool: enough to keep the socket busy, few enough
                // that a relay's memory stays small (each chunk is up to 64 KiB).
                while picks.count < 16, let next = outbound.withLock({ $0.nextChunk() }) { picks.append(next) }
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
            if !worked { await wakeSender.wait(timeout: config.queuePollInterval) }
        }
    }

    /// Applies the peer's answers: all ACKs that arrived meanwhile in one transaction. Drains
    /// what arrived before the session ends, like the committer.
    func ackerLoop() async throws {
        while true {
            let effects = answers.takeAll()
            guard !effects.isEmpty else {
                if readerDone.load(ordering: .acquiring) || Task.isCancelled { return }
                await answers.wakeup.wait(timeout: .milliseconds(500))
                continue
            }
            let acked: [EnvelopeID] = effects.flatMap { e -> [EnvelopeID] in
                if case .acknowledged(let ids) = e { ids } else { [] }
            }
            let others = effects.filter { if case .acknowledged = $0 { false } else { true } }
            try await apply((acked.isEmpty ? [] : [.acknowledged(acked)]) + others)
        }
    }

    private func apply(_ effects: [OutboundState.Effect]) async throws {
        let spool = context.spool
        let peer = self.peer
        let now = context.clock()
        let retry = context.configuration.retry
        for effect in effects {
            switch effect {
            case .acknowledged(let ids):
                let n = try await context.blocking { try spool.ackBatch(ids, peer: peer, now: now) }
                summary.withLock { $0.envelopesSent += n }
            case .deferEntry(let id, let why):
                logger.notice(
                    "peer refused an envelope for now",
                    metadata: ["envelope": "\(id.hex.prefix(16))", "reason": "\(why)"])
                let attempts = try await context.blocking {
                    try spool.queueEntries(peer: peer, envelope: id).first?.attempts ?? 1
                }
                let delay = retry.delay(attempts: attempts)
                try await context.blocking { try spool.deferEntry(id, peer: peer, error: why, delay: delay, now: now) }
            case .quarantine(let id, let why):
                logger.warning(
                    "peer refused an envelope for good; quarantined",
                    metadata: ["envelope": "\(id.hex.prefix(16))", "reason": "\(why)"])
                try await context.blocking { try spool.quarantine(id, peer: peer, reason: why, now: now) }
            }
        }
    }
}
