import Envelope
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
import Wire

/// Wakes a waiting task; a signal sent while nobody waits is kept for the next wait.
final class Wakeup: Sendable {
    private let state = NIOLockedValueBox<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLockedValue { s in
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when signalled or cancelled, or at `deadline` if there is one. A deadline is a
    /// moment something falls due (the next deferred entry, the end of a peer's grace), never a
    /// period to look again.
    func wait(until deadline: ContinuousClock.Instant? = nil) async {
        guard let deadline else { return await waitForSignal() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal() }
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = state.withLockedValue { s in
                    if s.pending {
                        s.pending = false
                        return true
                    }
                    s.waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            self.signal()
        }
    }
}

/// Encrypts session messages in order and hands them to the single writer task, counting the
/// bytes not yet written so the sender can hold back when the socket is slow (NIO writability).
final class FrameWriter: Sendable {
    private let state: NIOLockedValueBox<FrameSealerBox>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    let frames: AsyncStream<ByteBuffer>
    let pending = Atomic<Int>(0)
    let bytesOut = Atomic<Int>(0)
    /// Signalled after each frame written: the reader waits on it while the backlog is too long.
    let drained = Wakeup()

    /// @unchecked: the sealer is only touched under the mutex.
    struct FrameSealerBox: @unchecked Sendable { let sealer: FrameSealer }

    init(sealer: FrameSealer) {
        state = NIOLockedValueBox(FrameSealerBox(sealer: sealer))
        (frames, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
    }

    /// What a queued frame costs beyond its bytes (its buffer's storage object, the stream's and
    /// NIO's queue entries, malloc's headers), counted in `pending` so that a backlog of tiny
    /// frames is bounded by memory, not by payload: measured, 1.37 million 34-byte PONGs counted
    /// as 16 MiB took 95 MiB (issue 21, `Scripts/adversary`).
    static let frameOverhead = 256

    /// Seals and queues one message. Order of calls is order on the wire.
    func send(_ message: SessionMessage) throws {
        try state.withLockedValue { box in
            let bytes = try box.sealer.seal(message)
            pending.wrappingAdd(bytes.count + Self.frameOverhead, ordering: .relaxed)
            continuation.yield(ByteBuffer(bytes: bytes))
        }
    }

    func finish() { continuation.finish() }

    /// The writer task: writes queued frames to the channel in order.
    func drain(into outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, written: (Int) -> Void = { _ in }) async throws
    {
        for await frame in frames {
            let n = frame.readableBytes
            try await outbound.write(frame)
            pending.wrappingSubtract(n + Self.frameOverhead, ordering: .relaxed)
            bytesOut.wrappingAdd(n, ordering: .relaxed)
            written(n)
            drained.signal()
        }
    }

    /// Returns once at most `limit` bytes wait for the socket; throws if the peer has not read
    /// enough of them within `deadline`. The reader calls it before each frame, so a peer that
    /// sends without reading (PINGs whose PONGs it never takes) is stopped by TCP backpressure
    /// and then dropped, instead of making this node buffer its replies without bound.
    func waitForRoom(limit: Int, deadline: Duration) async throws {
        guard pending.load(ordering: .relaxed) > limit else { return }
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        while pending.load(ordering: .relaxed) > limit {
            let left = clock.now.duration(to: end)
            guard left > .zero else {
                throw WireError(
                    .timeout,
                    "the peer has not read \(pending.load(ordering: .relaxed)) bytes of replies "
                        + "for \(deadline); dropping it (it sends without reading)")
            }
            await drained.wait(until: end)
            try Task.checkCancellation()
        }
    }
}

/// Counters of one session, for the summary and for `peers`.
public struct SessionSummary: Sendable, Equatable {
    public var peer: String
    public var envelopesSent = 0
    public var envelopesReceived = 0
    /// Offers made straight from a custody commit (Hỏa tốc hand-offs), without a claim.
    public var envelopesHandedOff = 0
    public var chunkBytesSent: UInt64 = 0
    public var chunkBytesReceived: UInt64 = 0
    public var closeReason = ""
}

/// One session per peer at a time: a new session with a peer waits until the previous one has
/// committed everything it received and returned its in-flight entries. Otherwise a quick
/// reconnection would resume from a point the old session is still writing past.
public actor PeerSessions {
    private var busy: Set<NodeID> = []
    private var waiters: [NodeID: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    func acquire(_ peer: NodeID) async {
        if !busy.contains(peer) {
            busy.insert(peer)
            return
        }
        await withCheckedContinuation { waiters[peer, default: []].append($0) }
    }

    func release(_ peer: NodeID) {
        if var queue = waiters[peer], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[peer] = queue
            next.resume()  // the slot passes straight to the next session
        } else {
            busy.remove(peer)
        }
    }
}
