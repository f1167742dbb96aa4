import Envelope
import Logging
import NIOCore
import SodiumKit
import Spool
import Synchronization
import Wire

/// Work for the committer: everything that writes the spool on the receiving side, in order.
enum InboundWork: Sendable {
    /// A small envelope, complete in memory: committed with others in one transaction.
    case small(IncomingEnvelope)
    /// A large envelope offered: register it (or find how much is already stored).
    case begin(ChunkVerifier, Custody)
    /// A verified chunk of a large envelope.
    case chunk(EnvelopeID, Int, [UInt8])
}

/// A queue of work with a wake-up for its single consumer.
final class WorkQueue<Item: Sendable>: Sendable {
    private let items = Locked<[Item]>([])
    let wakeup = Wakeup()

    func push(_ item: Item) {
        items.withLock { $0.append(item) }
        wakeup.signal()
    }

    func takeAll() -> [Item] {
        items.withLock { all in
            defer { all = [] }
            return all
        }
    }

    /// Takes the items matching `wanted`, leaving the others in order.
    func take(where wanted: (Item) -> Bool) -> [Item] {
        items.withLock { all in
            let taken = all.filter(wanted)
            if !taken.isEmpty { all.removeAll(where: wanted) }
            return taken
        }
    }
}

/// One established, encrypted session with a neighbour: envelopes flow both ways at once.
///
/// Five tasks: the reader (decrypts, answers offers, verifies chunks), the committer (every spool
/// write of the receiving side, grouped: many small envelopes per transaction, chunk batches for
/// large ones; ACK only after commit), the sender (offers from our queue for this peer, chunks by
/// urgency within the window), the writer (frames to the socket in order, at the socket's pace)
/// and the watchdog (keepalive pings, idle timeout).
///
/// Security note: the peer is authenticated, but its messages are still checked: every offered
/// header goes through the ingress gate (signature, origin, recipients, expiry, limits, route),
/// every chunk is verified against the signed digest before it is kept, and an answer about an
/// envelope we did not offer is ignored.
final class LinkSession: Sendable {
    let context: LinkContext
    let peer: NodeID
    let channel: any Channel
    let opener: FrameOpenerBox
    let writer: FrameWriter
    let outbound: Locked<OutboundState>
    let wakeSender: Wakeup
    /// Set when entries may have been enqueued: the sender claims again before its next poll.
    let queueDirty = Atomic<Bool>(false)
    /// Hỏa tốc entries other sessions' commits (or a local send) handed to this one.
    let handoffs: HandoffBox
    let work = WorkQueue<InboundWork>()
    /// Answers about our offers, applied to the spool by the acker in batches (off the reader,
    /// so the reader never waits for an fsync before reading on).
    let answers = WorkQueue<OutboundState.Effect>()
    /// Chunks that failed verification, per envelope, this session: asked again up to
    /// `maxRejections` times, then the envelope is refused for now (the sender's copy may be damaged).
    let rejections = Locked<[EnvelopeID: Int]>([:])
    static let maxRejections = 3
    /// Longest wait for the writer to flush the frames before CLOSE when a session ends.
    static let closeFlushLimit: Duration = .seconds(2)
    let lastHeard: Atomic<Int64>
    let readerDone = Atomic<Bool>(false)
    let summary: Locked<SessionSummary>
    let logger: Logger

    /// @unchecked: the opener is used by the reader only.
    struct FrameOpenerBox: @unchecked Sendable { let opener: FrameOpener }

    init(context: LinkContext, crypto: SessionCrypto, channel: any Channel) {
        self.context = context
        self.peer = crypto.peer
        self.channel = channel
        let wake = Wakeup()
        self.wakeSender = wake
        self.handoffs = HandoffBox { wake.signal() }
        self.opener = FrameOpenerBox(opener: crypto.opener)
        self.writer = FrameWriter(sealer: crypto.sealer)
        self.outbound = Locked(
            OutboundState(window: context.configuration.window, urgentReserve: context.configuration.urgentReserve))
        self.lastHeard = Atomic(context.clock())
        self.summary = Locked(SessionSummary(peer: crypto.peer.rawValue))
        self.receiving = Locked(InboundOffers(limits: context.configuration.inboundOffers))
        self.offerRate = Locked(
            OfferRate(
                perSecond: context.configuration.offersPerSecond,
                burst: context.configuration.offerBurst))
        var logger = context.logger
        logger[metadataKey: "peer"] = "\(crypto.peer)"
        self.logger = logger
    }

    /// Runs until the peer closes, the link fails, or the task is cancelled.
    func run(
        inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound channelOut: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async -> SessionSummary {
        await context.sessions.acquire(peer)
        context.monitor.sessionUp(peer, now: context.clock())
        context.queueSignal.register(self, peer: peer, box: handoffs) { [weak self] in
            self?.queueDirty.store(true, ordering: .releasing)
            self?.wakeSender.signal()
        }
        defer { context.queueSignal.unregister(self) }
        logger.info("link up")
        let writerEnded = Wakeup()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.guarded("writer") {
                    try await self.writer.drain(into: channelOut) {
                        [monitor = self.context.monitor, peer = self.peer] n in
                        monitor.sent(peer, bytes: n)
                    }
                }
                writerEnded.signal()
            }
            group.addTask { await self.guarded("sender") { try await self.senderLoop() } }
            group.addTask { await self.guarded("watchdog") { try await self.watchdog() } }
            await withTaskGroup(of: Void.self) { receiving in
                receiving.addTask { await self.guarded("committer") { try await self.committerLoop() } }
                receiving.addTask { await self.guarded("acker") { try await self.ackerLoop() } }
                var farewell: SessionMessage?
                do {
                    try await readerLoop(&inbound)
                    setReason("closed by peer")
                } catch is CancellationError {
                    setReason("shutting down")
                    farewell = .close(.shuttingDown, "node shutting down")
                } catch let error as WireError where error.code == .timeout {
                    // A peer that does not read: its socket will not take a CLOSE either. Closing
                    // the channel now fails the writer's pending writes, so the session can end.
                    setReason("\(error)")
                    logger.warning("dropping a peer that does not read", metadata: ["error": "\(error)"])
                    channel.close(promise: nil)
                } catch {
                    setReason("\(error)")
                    logger.warning("link failed", metadata: ["error": "\(error)"])
                    farewell = .close(.protocolError, "\(error)")
                }
                // Whatever arrived and verified is committed before the session ends (and its
                // STORED/ACK sent), so a cut link resumes after the last chunk that reached us.
                // CLOSE is the last frame: it ends the sending stream.
                readerDone.store(true, ordering: .releasing)
                work.wakeup.signal()
                answers.wakeup.signal()
                await receiving.waitForAll()
                if let farewell { try? writer.send(farewell) }
            }
            writer.finish()
            // The writer ends once it has written the CLOSE (or the socket failed); a peer that
            // reads too slowly is not waited for longer than `closeFlushLimit`.
            await writerEnded.wait(timeout: min(context.configuration.drainDeadline, Self.closeFlushLimit))
            group.cancelAll()
        }
        channel.close(promise: nil)
        // Entries claimed for this peer (or handed to it) and not acknowledged go back to ready;
        // a hand-off after this point is refused and put back by whoever committed it.
        handoffs.close()
        _ = try? await context.blocking { [spool = context.spool, peer] in try spool.requeueInFlight(peer: peer) }
        var s = summary.withLock { $0 }
        context.monitor.sessionDown(peer, reason: s.closeReason)
        await context.sessions.release(peer)
        s.chunkBytesSent = outbound.withLock { $0.chunkBytesSent }
        logger.info(
            "link down",
            metadata: [
                "reason": "\(s.closeReason)", "sent": "\(s.envelopesSent)", "received": "\(s.envelopesReceived)",
            ])
        return s
    }

    private func setReason(_ r: String) {
        summary.withLock { if $0.closeReason.isEmpty { $0.closeReason = r } }
    }

    /// Runs a child task; any failure ends the session (closing the channel ends the reader).
    /// A failed writer does not close: the peer has gone, but frames it sent before going may
    /// still be buffered, and the reader must get (and the committer store) every one of them.
    private func guarded(_ name: String, _ body: () async throws -> Void) async {
        do { try await body() } catch is CancellationError {} catch {
            setReason("\(name): \(error)")
            logger.warning("\(name) failed", metadata: ["error": "\(error)"])
            if name != "writer" { channel.close(promise: nil) }
        }
    }

    // MARK: - Reader

    private func readerLoop(_ inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) async throws {
        let config = context.configuration
        while let frame = try await inbound.next() {
            try Task.checkCancellation()
            try await writer.waitForRoom(limit: config.maxWriteBacklog, deadline: config.drainDeadline)
            let now = context.clock()
            lastHeard.store(now, ordering: .relaxed)
            context.monitor.received(peer, bytes: frame.readableBytes, now: now)
            let message = try opener.opener.open(Array(buffer: frame))
            switch message {
            case .offer(let header, let table):
                try await receiveOffer(header: header, table: table)
            case .chunk(let id, let index, let data):
                try receiveChunk(id, index, data)
            case .have, .sendFrom, .refuse, .stored, .ack:
                let effects = try outbound.withLock { try $0.receive(message) }
                for e in effects { answers.push(e) }
                wakeSender.signal()
            case .ping(let n):
                try writer.send(.pong(n))
            case .pong:
                break
            case .close(let reason, let text):
                setReason("peer closed: \(reason) \(text)")
                return
            }
        }
    }

    /// Verifiers of envelopes being received, by id (reader only).
    let receiving: Locked<InboundOffers>
    /// New offers this peer may still make (reader only, but `Sendable` for the session class).
    private let offerRate: Locked<OfferRate>

    private func receiveOffer(header headerBytes: [UInt8], table: [UInt8]) async throws {
        let now = context.clock()
        let header: EnvelopeHeader
        do {
            header = try EnvelopeHeader.parse(headerBytes, limits: context.ingress.limits)
        } catch {
            let id = try EnvelopeID(bytes: Blake2b.hash(headerBytes))  // what its id would be
            return try refuse(id, (error as? EnvelopeError)?.code == .tooLarge ? .tooLarge : .malformed, "\(error)")
        }
        let id = header.id
        guard offerRate.withLock({ $0.take(now: now) }) else {
            return try refuse(
                id, .temporaryFailure,
                "more than \(context.configuration.offersPerSecond) new envelopes a "
                    + "second from this peer; offer it again later")
        }
        let verifier: ChunkVerifier
        let custody: Custody
        do {
            try context.ingress.check(header, now: now)
            do { verifier = try ChunkVerifier(header: header, table: try ChunkTable(bytes: table)) } catch {
                throw IngressError(.chunkTableMismatch, "the chunk table does not match the signed header")
            }
            custody = try context.ingress.custody(for: header, from: peer.rawValue)
        } catch let e as IngressError {
            return try refuse(id, e.reason, e.message)
        }
        let small = header.layout.chunkCount <= max(1, context.configuration.smallEnvelopeChunks)
        let full: String? = receiving.withLock { offers in
            offers[id] = nil  // offered again while in progress: starts over, as before
            if let why = offers.refusal(for: header, small: small) { return why }
            offers[id] = InboundOffers.Entry(verifier: verifier, custody: custody, small: small ? [] : nil)
            return nil
        }
        if let full { return try refuse(id, .temporaryFailure, full) }
        if small {
            // No spool round trip per offer: a duplicate is found by the group commit, which
            // stores nothing for it and still acknowledges it (custody was already ours).
            // The chunk of a one-chunk envelope follows its offer unasked.
            if header.layout.chunkCount > 1 { try writer.send(.sendFrom(id, 0)) }
        } else {
            work.push(.begin(verifier, custody))
        }
    }

    func refuse(_ id: EnvelopeID, _ reason: RefusalReason, _ text: String) throws {
        context.refusals.refused(
            "refused an envelope", source: peer.rawValue,
            reason: "\(reason): \(id.hex.prefix(16))… \(text.prefix(200))", now: context.clock(),
            kind: "envelope-\(reason)")
        try writer.send(.refuse(id, reason, String(text.prefix(200))))
    }

    private func receiveChunk(_ id: EnvelopeID, _ index: Int, _ data: [UInt8]) throws {
        guard let r = receiving.withLock({ $0[id] }) else { return }  // stale or unknown: ignore
        do {
            if r.small != nil {
                try r.verifier.verify(index: index, ciphertext: data)
            } else {
                // Large envelopes: the digest is checked once, by the spool's appendChunks in the
                // committer (which stores only verified chunks and asks again for a bad one);
                // here only the index and length, so nothing oversized is queued.
                let layout = r.verifier.header.layout
                guard index >= 0, index < layout.chunkCount, data.count == layout.ciphertextLength(of: index) else {
                    throw EnvelopeError(.chunkDigestMismatch, "chunk \(index) has the wrong index or length")
                }
            }
        } catch {
            // Never kept, never forwarded: ask for this chunk again (a few times). An index out of
            // range is not asked for (an honest sender never sends one, and would take the
            // request for a protocol error); it only counts towards the refusal.
            let inRange = index >= 0 && index < r.verifier.header.layout.chunkCount
            guard try askAgain(id, from: index, ask: inRange) else {
                receiving.withLock { $0[id] = nil }
                return
            }
            return
        }
        summary.withLock { $0.chunkBytesReceived += UInt64(data.count) }
        if var small = r.small {
            guard index == small.count else { return }
            small.append(data)
            if small.count == r.verifier.header.layout.chunkCount {
                receiving.withLock { $0[id] = nil }
                work.push(
                    .small(
                        IncomingEnvelope(verifier: r.verifier, chunks: small, from: peer.rawValue, custody: r.custody)))
            } else {
                receiving.withLock { $0[id]?.small = small }
            }
        } else {
            work.push(.chunk(id, index, data))
        }
    }

    // MARK: - Watchdog

    private func watchdog() async throws {
        let config = context.configuration
        var n: UInt64 = 0
        while !Task.isCancelled {
            try await Task.sleep(for: min(config.keepaliveInterval, config.idleTimeout))
            let silent = context.clock() - lastHeard.load(ordering: .relaxed)
            if Duration.milliseconds(silent) >= config.idleTimeout {
                setReason("peer silent for \(silent / 1000) s (idle timeout)")
                logger.notice("dropping a silent peer", metadata: ["silentSeconds": "\(silent / 1000)"])
                channel.close(promise: nil)
                return
            }
            // A peer the topology in force no longer makes a neighbour (a former one, let in to
            // hear of the change) is let go once nothing is queued for it.
            if !context.topology.areNeighbours(context.me, peer),
                (try? await context.blocking({ [spool = context.spool, peer] in
                    try spool.queueEntries(peer: peer).isEmpty
                })) == true
            {
                setReason("no longer a neighbour in topology version \(context.topology.version)")
                logger.notice("closing the link to a former neighbour")
                channel.close(promise: nil)
                return
            }
            n += 1
            try writer.send(.ping(n))
        }
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
