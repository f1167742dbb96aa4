import Envelope
import Spool
import Wire

/// The committer: every spool write of a session's receiving side, in order — small envelopes
/// grouped into one transaction, large ones begun (held to the peer's partial quota) and their
/// verified chunk runs appended, custody taken, and ACK or STORED sent only after the commit.
extension LinkSession {
    func committerLoop() async throws {
        var large: [EnvelopeID: (verifier: ChunkVerifier, custody: Custody, next: Int)] = [:]
        while true {
            let items = work.takeAll()
            guard !items.isEmpty else {
                if readerDone.load(ordering: .acquiring) || Task.isCancelled { return }
                await work.wakeup.wait(timeout: .milliseconds(500))
                continue
            }
            let spool = context.spool
            let now = context.clock()
            // Small envelopes: one transaction for all of them, then one ACK frame.
            try await commitSmalls(items.compactMap { if case .small(let e) = $0 { e } else { nil } })
            // Large envelopes: begin, then consecutive chunks per envelope in one transaction each.
            var i = 0
            var smallsInBetween = false
            while i < items.count {
                switch items[i] {
                case .small:
                    i += 1
                case .begin(let verifier, let custody):
                    i += 1
                    let id = verifier.header.id
                    do {
                        let quota = context.configuration.partialQuota
                        let from = peer.rawValue
                        switch try await context.blocking({
                            try spool.begin(verifier, from: from, now: now, quota: quota)
                        }) {
                        case .duplicate:
                            receiving.withLock { $0[id] = nil }
                            try writer.send(.have(id))
                        case .resume(let k):
                            if k > 0 {
                                logger.info(
                                    "resuming a partial envelope",
                                    metadata: ["envelope": "\(id.hex.prefix(16))", "fromChunk": "\(k)"])
                            }
                            large[id] = (verifier, custody, k)
                            if k == verifier.header.layout.chunkCount {
                                try await completeLarge(id, &large)
                            } else {
                                try writer.send(.sendFrom(id, k))
                            }
                        }
                    } catch {
                        receiving.withLock { $0[id] = nil }
                        try refuse(id, Self.reason(for: error), "\(error)")
                    }
                case .chunk(let id, let first, _):
                    // A run of consecutive chunks of one envelope. A gap starts a new run: after
                    // a re-request, stale chunks still in flight are followed by the re-sent ones,
                    // and those must not be swallowed with the stale run.
                    // At most `chunksPerTransaction` chunks per transaction; small envelopes that
                    // arrived meanwhile (an urgent one, say) are committed between two of them.
                    var chunks: [[UInt8]] = []
                    while i < items.count, chunks.count < context.configuration.chunksPerTransaction,
                        case .chunk(let cid, let index, let data) = items[i], cid == id, index == first + chunks.count
                    {
                        chunks.append(data)
                        i += 1
                    }
                    defer { smallsInBetween = true }
                    if smallsInBetween {
                        try await commitSmalls(
                            work.take { if case .small = $0 { true } else { false } }.compactMap {
                                if case .small(let e) = $0 { e } else { nil }
                            })
                    }
                    guard let state = large[id], first == state.next else { continue }  // stale after a re-request
                    do {
                        let batch = chunks
                        let stored = try await context.blocking {
                            try spool.appendChunks(state.verifier, first: first, chunks: batch, now: now)
                        }
                        large[id]?.next = stored
                        try writer.send(.stored(id, stored))
                        if stored == state.verifier.header.layout.chunkCount { try await completeLarge(id, &large) }
                    } catch let e as SpoolError where e.code == .chunkRejected {
                        // The verified chunks before the bad one are stored; the bad one never is.
                        let have = try await context.blocking { try spool.storedEnvelope(id)?.chunksStored } ?? first
                        large[id]?.next = have
                        try writer.send(.stored(id, have))
                        if try !askAgain(id, from: have) {
                            large[id] = nil
                            receiving.withLock { $0[id] = nil }
                        }
                    } catch {
                        large[id] = nil
                        receiving.withLock { $0[id] = nil }
                        try refuse(id, Self.reason(for: error), "\(error)")
                    }
                }
            }
        }
    }

    /// Accepts whole small envelopes in one transaction and acknowledges them (one ACK frame per
    /// `maxAckIDs`); refuses them all for now if the transaction fails. Hỏa tốc ones are handed
    /// to their next hops' sessions on the way (`QueueSignal.commit`).
    private func commitSmalls(_ smalls: [IncomingEnvelope]) async throws {
        guard !smalls.isEmpty else { return }
        let spool = context.spool
        let signal = context.queueSignal
        let logger = self.logger
        let now = context.clock()
        let results: [AcceptResult]
        do {
            results = try await context.blocking { try signal.accept(smalls, now: now, spool: spool, logger: logger) }
        } catch {
            for e in smalls { try refuse(e.header.id, Self.reason(for: error), "\(error)") }
            return
        }
        summary.withLock { $0.envelopesReceived += results.filter { $0 == .accepted }.count }
        for chunk in stride(from: 0, to: smalls.count, by: SessionMessage.maxAckIDs) {
            try writer.send(.ack(smalls[chunk..<min(smalls.count, chunk + SessionMessage.maxAckIDs)].map(\.header.id)))
        }
    }

    private func completeLarge(
        _ id: EnvelopeID, _ large: inout [EnvelopeID: (verifier: ChunkVerifier, custody: Custody, next: Int)]
    ) async throws {
        guard let state = large[id] else { return }
        let spool = context.spool
        let signal = context.queueSignal
        let logger = self.logger
        let now = context.clock()
        let envelope = (header: state.verifier.header, table: state.verifier.table, custody: state.custody)
        let result = try await context.blocking {
            try signal.commit([envelope], now: now, spool: spool, logger: logger) { custodies in
                [try spool.complete(id, custody: custodies[0], now: now)]
            }[0]
        }
        large[id] = nil
        receiving.withLock { $0[id] = nil }
        if result == .accepted { summary.withLock { $0.envelopesReceived += 1 } }
        try writer.send(.ack([id]))
    }

    /// After a chunk failed verification: asks for it again, or, when this envelope's chunks
    /// keep failing, refuses it for now (the sender defers it and retries later). Returns
    /// whether it asked again.
    func askAgain(_ id: EnvelopeID, from index: Int, ask: Bool = true) throws -> Bool {
        let n = rejections.withLock { r in
            r[id, default: 0] += 1
            return r[id] ?? 0
        }
        if n > Self.maxRejections {
            try refuse(
                id, .temporaryFailure,
                """
                chunk \(index) failed verification against the signed digest \(n) times; the sender's copy may \
                be damaged
                """
            )
            return false
        }
        guard ask else { return true }
        logger.notice(
            "chunk failed verification; asking again",
            metadata: ["envelope": "\(id.hex.prefix(16))", "chunk": "\(index)"])
        try writer.send(.sendFrom(id, index))
        return true
    }

    static func reason(for error: any Error) -> RefusalReason {
        if let s = error as? SpoolError, s.code == .diskFull { return .diskFull }
        return .temporaryFailure
    }
}
