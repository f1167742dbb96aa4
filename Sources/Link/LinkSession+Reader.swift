import Envelope
import Gate
import NIOCore
import SodiumKit
import Spool
import Wire

/// The reader: decrypts each frame and hands it to the state machine it concerns. It never
/// waits for the spool; what must be written goes to the committer's mailbox.
extension LinkSession {
    func readerLoop(_ inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) async throws {
        let config = context.configuration
        var offerRate = OfferRate(perSecond: config.offersPerSecond, burst: config.offerBurst)
        while let frame = try await inbound.next() {
            try Task.checkCancellation()
            try await writer.waitForRoom(limit: config.maxWriteBacklog, deadline: config.drainDeadline)
            let now = context.clock()
            lastHeard.store(now, ordering: .relaxed)
            context.monitor.received(peer, bytes: frame.readableBytes, now: now)
            let message = try opener.opener.open(Array(buffer: frame))
            switch message {
            case .offer(let header, let table):
                try perform(receiveOffer(header: header, table: table, now: now, rate: &offerRate))
            case .chunk(let id, let index, let data):
                try perform(self.inbound.withLockedValue { $0.chunk(id, index, data) })
            case .have, .sendFrom, .refuse, .stored, .ack:
                let effects = try outbound.withLockedValue { try $0.receive(message) }
                for e in effects { work.push(.answer(e)) }
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

    /// An offer: parsed under the limits, held to the peer's offer rate, checked by the custody
    /// gate, then given to `InboundState`.
    private func receiveOffer(
        header headerBytes: [UInt8], table: [UInt8], now: Int64, rate: inout OfferRate
    ) throws -> [InboundState.Action] {
        let header: EnvelopeHeader
        do {
            header = try EnvelopeHeader.parse(headerBytes, limits: context.gate.limits)
        } catch {
            let id = try EnvelopeID(bytes: Blake2b.hash(headerBytes))  // what its id would be
            let reason: RefusalReason = (error as? EnvelopeError)?.code == .tooLarge ? .tooLarge : .malformed
            return [.refuse(id, reason, "\(error)")]
        }
        guard rate.take(now: now) else {
            return [
                .refuse(
                    header.id, .temporaryFailure,
                    "more than \(context.configuration.offersPerSecond) new envelopes a "
                        + "second from this peer; offer it again later")
            ]
        }
        let verifier: ChunkVerifier
        let custody: Custody
        do {
            try context.gate.check(header, now: now)
            do { verifier = try ChunkVerifier(header: header, table: try ChunkTable(bytes: table)) } catch {
                throw IngressError(.chunkTableMismatch, "the chunk table does not match the signed header")
            }
            custody = try context.gate.custody(for: header, from: peer.rawValue)
        } catch let e as IngressError {
            return [.refuse(header.id, e.reason, e.message)]
        }
        return inbound.withLockedValue { $0.offer(verifier, custody: custody) }
    }

    /// Carries out what `InboundState` decided: frames to the peer, work to the committer.
    /// Returns the envelopes whose custody transaction is due (the committer runs it).
    @discardableResult
    func perform(_ actions: [InboundState.Action]) throws -> [EnvelopeID] {
        var complete: [EnvelopeID] = []
        for action in actions {
            switch action {
            case .refuse(let id, let reason, let text):
                context.refusals.refused(
                    "refused an envelope", source: peer.rawValue,
                    reason: "\(reason): \(id.hex.prefix(16))… \(text.prefix(200))", now: context.clock(),
                    kind: "envelope-\(reason)")
                try writer.send(.refuse(id, reason, String(text.prefix(200))))
            case .sendFrom(let id, let index):
                try writer.send(.sendFrom(id, index))
            case .askAgain(let id, let index):
                logger.notice(
                    "chunk failed verification; asking again",
                    metadata: ["envelope": "\(id.hex.prefix(16))", "chunk": "\(index)"])
                try writer.send(.sendFrom(id, index))
            case .have(let id):
                try writer.send(.have(id))
            case .stored(let id, let count):
                try writer.send(.stored(id, count))
            case .ack(let ids):
                try writer.send(.ack(ids))
            case .commitSmall, .begin, .append:
                work.push(.inbound(action))
            case .complete(let id):
                complete.append(id)
            }
        }
        return complete
    }
}
