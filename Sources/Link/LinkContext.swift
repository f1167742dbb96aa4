import Envelope
import Foundation
import Gate
import Logging
import NIOPosix
import SodiumKit
import Spool
import Topology
import Wire

/// What a node gives its link sessions: identity, topology, spool, where to run blocking work.
/// Passed explicitly (no globals).
public struct LinkContext: Sendable {
    public let me: NodeID
    /// The keys this node authenticates links with, read at each handshake: a key rotation
    /// changes them while the node runs (the default: `keys` alone, for ever).
    public var linkKeys: @Sendable () -> LinkKeys
    /// The topology in force (replaced by an applied update) and the one before it.
    public let live: LiveTopology
    public var topology: Topology { live.current }
    public let spool: Spool
    /// The one way into the queue: checks at offer time, the custody commit when complete.
    public var gate: CustodyGate
    /// Spool transactions (blocking SQLite calls with fsync) run here, not on event loops.
    public let blockingPool: NIOThreadPool
    public let configuration: LinkConfiguration
    public let logger: Logger
    public let replayGuard: ReplayGuard
    /// Serialises sessions with the same peer.
    public let sessions: PeerSessions
    /// Live per-peer link state, for operators.
    public let monitor: LinkMonitor
    /// Wakes the senders when entries are enqueued.
    public let queueSignal: QueueSignal
    /// Milliseconds since the epoch.
    public let clock: @Sendable () -> Int64
    /// Handshake and envelope refusals, logged in aggregate per source and minute.
    public let refusals: RefusalLog

    public init(
        me: NodeID, keys: SigningKeyPair, topology: Topology, spool: Spool, blockingPool: NIOThreadPool,
        configuration: LinkConfiguration = LinkConfiguration(), logger: Logger,
        replayGuard: ReplayGuard = ReplayGuard(), sessions: PeerSessions = PeerSessions(),
        monitor: LinkMonitor = LinkMonitor(), queueSignal: QueueSignal = QueueSignal(),
        limits: EnvelopeLimits = .default,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.init(
            me: me, keys: keys, live: LiveTopology(topology), spool: spool, blockingPool: blockingPool,
            configuration: configuration, logger: logger, replayGuard: replayGuard, sessions: sessions,
            monitor: monitor, queueSignal: queueSignal, limits: limits, clock: clock)
    }

    public init(
        me: NodeID, keys: SigningKeyPair, live: LiveTopology, spool: Spool, blockingPool: NIOThreadPool,
        configuration: LinkConfiguration = LinkConfiguration(), logger: Logger,
        replayGuard: ReplayGuard = ReplayGuard(), sessions: PeerSessions = PeerSessions(),
        monitor: LinkMonitor = LinkMonitor(), queueSignal: QueueSignal = QueueSignal(),
        limits: EnvelopeLimits = .default,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.me = me
        let fixed = LinkKeys(keys)
        self.linkKeys = { fixed }
        self.live = live
        self.spool = spool
        self.gate = CustodyGate(
            me: me, live: live, spool: spool, limits: limits, signal: queueSignal, logger: logger)
        self.blockingPool = blockingPool
        self.configuration = configuration
        self.logger = logger
        self.replayGuard = replayGuard
        self.sessions = sessions
        self.monitor = monitor
        self.queueSignal = queueSignal
        self.clock = clock
        self.refusals = RefusalLog(logger: logger)
    }

    var network: String { topology.network }

    /// The acceptor's view: any neighbour in the topology in force — or in the one before it, so a
    /// node that has not heard of a change yet can still come and be told — may connect, with its
    /// pinned key.
    var acceptorIdentity: AcceptorIdentity {
        let live = self.live
        let me = self.me
        let clock = self.clock
        return AcceptorIdentity(
            network: live.current.network, me: me, keys: linkKeys(),
            neighbourKeys: { id in
                live.mayLink(me, id) ? live.signingKeys(of: id, now: clock()) : []
            }, replayGuard: replayGuard)
    }

    /// Runs a blocking spool operation off the event loops. Not cancelled with the calling task:
    /// a session that is shutting down still commits what it received (and a spool transaction
    /// is never abandoned half-way by a cancellation; SQLite's atomicity covers a crash).
    public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Self.run(on: blockingPool, body)
    }

    /// `body` on one of `pool`'s threads, the way `blocking` runs it (the node's control requests
    /// use their own pool).
    public static func run<T: Sendable>(
        on pool: NIOThreadPool, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            pool.submit { state in
                guard case .active = state else {
                    c.resume(throwing: SpoolError(.io, "the node is stopping; the operation was not run"))
                    return
                }
                c.resume(with: Result(catching: body))
            }
        }
    }
}
