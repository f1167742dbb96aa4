import Envelope
import Gate
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SodiumKit
import Spool
import Synchronization
import Wire

/// What a session's committer writes to the spool, in order: the receiving half's work
/// (`InboundState`'s `commitSmall`, `begin`, `append`) and the peer's answers to our offers.
enum SpoolWork: Sendable {
    case inbound(InboundState.Action)
    case answer(OutboundState.Effect)
}

/// One established, encrypted session with a neighbour: envelopes flow both ways at once.
///
/// Five tasks. The reader decrypts each frame and feeds it to a state machine: offers and chunks
/// to `InboundState` (after the custody gate checked the offer), answers to our offers to
/// `OutboundState`; what they decide is sent, or pushed to the committer's `Mailbox`. The
/// committer does every spool write of the session in order, grouped (many small envelopes per
/// transaction, runs of chunks, all ACKs that arrived meanwhile in one), and sends ACK or STORED
/// only after the commit. The sender offers Hỏa tốc hints and claimed entries and sends chunks by
/// urgency within the window; the writer writes frames in order at the socket's pace; the
/// watchdog pings and drops a silent peer. Nothing waits on a timer for another task: each wait
/// ends on a signal, on a finished mailbox, or on a deadline.
///
/// Security note: the peer is authenticated, but its messages are still checked: every offered
/// header goes through the custody gate (signature, origin, recipients, expiry, limits, route),
/// every chunk is verified against the signed digest before it is kept, and an answer about an
/// envelope we did not offer is ignored.
final class LinkSession: Sendable {
    let context: LinkContext
    let peer: NodeID
    let channel: any Channel
    let opener: FrameOpenerBox
    let writer: FrameWriter
    let outbound: NIOLockedValueBox<OutboundState>
    let inbound: NIOLockedValueBox<InboundState>
    let wakeSender: Wakeup
    /// Set when entries may have been enqueued: the sender claims again.
    let queueDirty = Synchronization.Atomic<Bool>(false)
    /// Hỏa tốc entries a custody commit (another session's, or a local send) pointed this one at.
    let hints: HintBox
    let work = Mailbox<SpoolWork>()
    /// Longest wait for the writer to flush the frames before CLOSE when a session ends.
    static let closeFlushLimit: Duration = .seconds(2)
    let lastHeard: Synchronization.Atomic<Int64>
    let summary: NIOLockedValueBox<SessionSummary>
    let logger: Logger

    /// @unchecked: the opener is used by the reader only.
    struct FrameOpenerBox: @unchecked Sendable { let opener: FrameOpener }

    init(context: LinkContext, crypto: SessionCrypto, channel: any Channel) {
        let config = context.configuration
        self.context = context
        self.peer = crypto.peer
        self.channel = channel
        let wake = Wakeup()
        self.wakeSender = wake
        self.hints = HintBox { wake.signal() }
        self.opener = FrameOpenerBox(opener: crypto.opener)
        self.writer = FrameWriter(sealer: crypto.sealer)
        self.outbound = NIOLockedValueBox(OutboundState(window: config.window, urgentReserve: config.urgentReserve))
        self.inbound = NIOLockedValueBox(
            InboundState(
                peer: crypto.peer.rawValue,
                limits: InboundState.Limits(
                    offers: config.inboundOffers, smallEnvelopeChunks: config.smallEnvelopeChunks,
                    chunksPerTransaction: config.chunksPerTransaction)))
        self.lastHeard = Atomic(context.clock())
        self.summary = NIOLockedValueBox(SessionSummary(peer: crypto.peer.rawValue))
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
        // Registered before the sender's first claim: a hint given to an earlier session that
        // ended without offering it is an entry still ready, which that claim finds.
        context.queueSignal.register(self, peer: peer, hints: hints) { [weak self] in
            self?.queueDirty.store(true, ordering: .releasing)
            self?.wakeSender.signal()
        }
        defer { context.queueSignal.unregister(self) }
        logger.info("link up")
        let writerEnded = Wakeup()
        let sendThreshold = min(context.configuration.window, context.configuration.writeQueue)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.guarded("writer") {
                    try await self.writer.drain(into: channelOut) {
                        [monitor = self.context.monitor, peer = self.peer, writer = self.writer, wake = self.wakeSender]
                        n in
                        monitor.sent(peer, bytes: n)
                        // Room again in the write queue: the sender may go on with chunks.
                        if writer.pending.load(ordering: .relaxed) < sendThreshold { wake.signal() }
                    }
                }
                writerEnded.signal()
            }
            group.addTask { await self.guarded("sender") { try await self.senderLoop() } }
            group.addTask { await self.guarded("watchdog") { try await self.watchdog() } }
            await withTaskGroup(of: Void.self) { receiving in
                receiving.addTask { await self.guarded("committer") { try await self.committerLoop() } }
                let farewell = await readUntilEnd(&inbound)
                // Whatever arrived and verified is committed before the session ends (and its
                // STORED/ACK sent), so a cut link resumes after the last chunk that reached us.
                work.finish()
                await receiving.waitForAll()
                // CLOSE is the last frame: it ends the sending stream.
                if let farewell { try? writer.send(farewell) }
            }
            writer.finish()
            // The writer ends once it has written the CLOSE, or when the socket fails: a peer
            // that reads too slowly has its channel closed after `closeFlushLimit`.
            let limit = min(context.configuration.drainDeadline, Self.closeFlushLimit)
            let deadline = LinkEndpoints.closeAfter(limit, channel)
            await writerEnded.wait()
            deadline.cancel()
            group.cancelAll()
        }
        channel.close(promise: nil)
        // Entries claimed for this peer and not acknowledged go back to ready; hints not offered
        // are dropped (their entries never left ready).
        hints.close()
        _ = try? await context.blocking { [spool = context.spool, peer] in try spool.requeueInFlight(peer: peer) }
        var s = summary.withLockedValue { $0 }
        context.monitor.sessionDown(peer, reason: s.closeReason)
        await context.sessions.release(peer)
        s.chunkBytesSent = outbound.withLockedValue { $0.chunkBytesSent }
        s.chunkBytesReceived = self.inbound.withLockedValue { $0.chunkBytesReceived }
        logger.info(
            "link down",
            metadata: [
                "reason": "\(s.closeReason)", "sent": "\(s.envelopesSent)", "received": "\(s.envelopesReceived)",
            ])
        return s
    }

    /// Runs the reader until the peer closes or the link fails; returns the CLOSE to send, if any.
    private func readUntilEnd(
        _ inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) async
        -> SessionMessage?
    {
        do {
            try await readerLoop(&inbound)
            setReason("closed by peer")
        } catch is CancellationError {
            setReason("shutting down")
            return .close(.shuttingDown, "node shutting down")
        } catch let error as WireError where error.code == .timeout {
            // A peer that does not read: its socket will not take a CLOSE either. Closing the
            // channel now fails the writer's pending writes, so the session can end.
            setReason("\(error)")
            logger.warning("dropping a peer that does not read", metadata: ["error": "\(error)"])
            channel.close(promise: nil)
        } catch {
            setReason("\(error)")
            logger.warning("link failed", metadata: ["error": "\(error)"])
            return .close(.protocolError, "\(error)")
        }
        return nil
    }

    func setReason(_ r: String) {
        summary.withLockedValue { if $0.closeReason.isEmpty { $0.closeReason = r } }
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

    // MARK: - Watchdog

    /// The keepalive timer: a PING every `keepaliveInterval`, a peer silent for `idleTimeout`
    /// dropped, and a former neighbour let go once nothing is queued for it.
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
