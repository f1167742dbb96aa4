import Envelope
import Gate
import Spool
import Wire

/// The committer: every spool write of a session, in order, in as few transactions as it can —
/// the peer's answers to our offers (all ACKs that arrived meanwhile in one), small envelopes
/// grouped into one, large ones begun (held to the peer's partial quota) and their verified
/// chunk runs appended, custody taken — and ACK or STORED sent only after the commit. Ends when
/// the reader has finished the mailbox and everything in it is written.
extension LinkSession {
    func committerLoop() async throws {
        while let batch = await work.next() {
            try await apply(batch.compactMap { if case .answer(let e) = $0 { e } else { nil } })
            let inboundWork = batch.compactMap { if case .inbound(let a) = $0 { a } else { nil } }
            try await commitSmalls(Self.smalls(inboundWork))
            var ranBefore = false
            for step in InboundState.steps(
                inboundWork, chunksPerTransaction: context.configuration.chunksPerTransaction)
            {
                switch step {
                case .begin(let verifier, let custody):
                    try await begin(verifier, custody)
                case .append(let id, let first, let chunks):
                    // Small envelopes that arrived meanwhile (an urgent one, say) go between two runs.
                    if ranBefore {
                        try await commitSmalls(smallsArrived())
                    }
                    ranBefore = true
                    try await append(id, first: first, chunks)
                }
            }
        }
    }

    /// Small envelopes pushed since the batch was taken, out of the mailbox.
    private func smallsArrived() -> [IncomingEnvelope] {
        let taken = work.take { if case .inbound(.commitSmall) = $0 { true } else { false } }
        return Self.smalls(taken.compactMap { if case .inbound(let a) = $0 { a } else { nil } })
    }

    static func smalls(_ actions: [InboundState.Action]) -> [IncomingEnvelope] {
        actions.compactMap { if case .commitSmall(let e) = $0 { e } else { nil } }
    }

    private func begin(_ verifier: ChunkVerifier, _ custody: Custody) async throws {
        let id = verifier.header.id
        let spool = context.spool
        let from = peer.rawValue
        let quota = context.configuration.partialQuota
        let now = context.clock()
        let actions: [InboundState.Action]
        do {
            let result = try await context.blocking {
                try spool.begin(verifier, from: from, now: now, quota: quota, custody: custody)
            }
            if case .resume(let k) = result, k > 0 {
                logger.info(
                    "resuming a partial envelope", metadata: ["envelope": "\(id.hex.prefix(16))", "fromChunk": "\(k)"])
            }
            actions = inbound.withLockedValue { $0.began(verifier, custody: custody, result) }
        } catch {
            actions = inbound.withLockedValue { $0.failed(id, Self.reason(for: error), "\(error)") }
        }
        try await completeAll(perform(actions))
    }

    private func append(_ id: EnvelopeID, first: Int, _ chunks: [[UInt8]]) async throws {
        guard let verifier = inbound.withLockedValue({ $0.appendable(id, first: first) }) else { return }  // stale
        let spool = context.spool
        let now = context.clock()
        let actions: [InboundState.Action]
        do {
            let stored = try await context.blocking {
                try spool.appendChunks(verifier, first: first, chunks: chunks, now: now)
            }
            actions = inbound.withLockedValue { $0.appended(id, stored: stored) }
        } catch let e as SpoolError where e.code == .chunkRejected {
            // The verified chunks before the bad one are stored; the bad one never is.
            let have = try await context.blocking { try spool.storedEnvelope(id)?.chunksStored } ?? first
            actions = inbound.withLockedValue { $0.appendRejected(id, have: have) }
        } catch {
            actions = inbound.withLockedValue { $0.failed(id, Self.reason(for: error), "\(error)") }
        }
        try await completeAll(perform(actions))
    }

    /// Accepts whole small envelopes in one transaction and acknowledges them; refuses them all
    /// for now if the transaction fails. Through the custody gate's commit, which points the
    /// live sessions of their next hops at Hỏa tốc ones.
    private func commitSmalls(_ smalls: [IncomingEnvelope]) async throws {
        guard !smalls.isEmpty else { return }
        let gate = context.gate
        let now = context.clock()
        let ids = smalls.map(\.header.id)
        let results: [AcceptResult]
        do {
            results = try await context.blocking { try gate.accept(smalls, now: now) }
        } catch {
            try perform(inbound.withLockedValue { $0.smallsFailed(ids, Self.reason(for: error), "\(error)") })
            return
        }
        summary.withLockedValue { $0.envelopesReceived += results.filter { $0 == .accepted }.count }
        try perform(inbound.withLockedValue { $0.smallsCommitted(ids) })
    }

    /// The custody transaction of each large envelope whose chunks are all stored.
    private func completeAll(_ ids: [EnvelopeID]) async throws {
        for id in ids {
            guard let (verifier, custody) = inbound.withLockedValue({ $0.completion(id) }) else { continue }
            let spool = context.spool
            let gate = context.gate
            let now = context.clock()
            let envelope = (header: verifier.header, table: verifier.table, custody: custody)
            let actions: [InboundState.Action]
            do {
                let result = try await context.blocking {
                    try gate.commit([envelope], now: now) { custodies in
                        [try spool.complete(id, custody: custodies[0], now: now)]
                    }[0]
                }
                if result == .accepted { summary.withLockedValue { $0.envelopesReceived += 1 } }
                actions = inbound.withLockedValue { $0.completed(id) }
            } catch {
                actions = inbound.withLockedValue { $0.failed(id, Self.reason(for: error), "\(error)") }
            }
            try perform(actions)
        }
    }

    static func reason(for error: any Error) -> RefusalReason {
        if let s = error as? SpoolError, s.code == .diskFull { return .diskFull }
        return .temporaryFailure
    }
}
