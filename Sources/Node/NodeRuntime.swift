import Envelope
import Foundation
import Link
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Spool
import Topology
import Wire

/// Everything the daemon's services share, passed explicitly (no globals).
public struct NodeRuntime: Sendable {
    public let identity: NodeIdentity
    public let spool: Spool
    public let link: LinkContext
    public let operations: NodeOperations
    public let group: any EventLoopGroup
    public let logger: Logger
    public let startedAt: Int64
    /// Threads for control requests, apart from the links' `blockingPool`: an operator's
    /// `status` or `queue` then does not queue behind a busy link's chunk transactions, and a
    /// large `send` (sealing takes seconds) does not hold a thread the links need.
    let controlPool: NIOThreadPool

    /// The settings in force: node.json at start, with what `SIGHUP` applied since (`LiveSettings`).
    public var settings: NodeSettings { live.current }
    public let live: LiveSettings
    /// Wakes the services that follow the topology when an update is in force.
    let topologyChanges = TopologyChanges()
    public var clock: @Sendable () -> Int64 { link.clock }

    /// Opens the spool after SQLite's integrity check, returns in-flight entries to ready
    /// (whatever was handed to a link when the node stopped was not acknowledged; only the
    /// daemon does this, at start-up) and builds the shared context.
    /// - Parameter controlPool: threads for control requests; the links' pool when not given.
    public init(
        identity: NodeIdentity, blockingPool: NIOThreadPool, controlPool: NIOThreadPool? = nil,
        group: any EventLoopGroup, logger: Logger
    ) throws {
        // The integrity check comes before anything writes: a damaged spool is refused as it is,
        // for the operator to keep and restore (found by StartupRefusalTests: without it the
        // migrator wrote a page into a damaged file before SQLite noticed the damage).
        let spool = try Spool(path: identity.home.spoolPath, integrityCheck: true)
        // Under the home's lock: a rotation whose topology was stored just before a crash, or
        // arrived while the node was stopped, is completed now.
        if let me = identity.topology[identity.id],
            let rotated = try identity.keys.follow(me, now: Int64(Date().timeIntervalSince1970 * 1000))
        {
            logger.notice("\(rotated)")
            try? spool.recordTopology(
                detail: rotated, actor: "lienthongd", now: Int64(Date().timeIntervalSince1970 * 1000))
        }
        let reset = try spool.resetInFlight()
        if reset > 0 { logger.notice("in-flight entries returned to ready", metadata: ["count": "\(reset)"]) }
        // A send interrupted while it sealed into the spool left a placeholder; nobody finishes it.
        let abandoned = try spool.dropAbandonedStaging()
        if abandoned > 0 {
            logger.notice("unfinished sends removed from the spool", metadata: ["count": "\(abandoned)"])
        }
        let monitor = LinkMonitor()
        let clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
        self.identity = identity
        self.spool = spool
        var link = LinkContext(
            me: identity.id, keys: identity.signingKeys, live: identity.liveTopology, spool: spool,
            blockingPool: blockingPool, configuration: identity.settings.link, logger: logger,
            monitor: monitor, clock: clock)
        link.gate.adoptedKeys = Set(identity.adoptedBoxKeys.keys)
        let keys = identity.keys
        link.linkKeys = { keys.linkKeys }
        self.link = link
        self.startedAt = clock()
        let live = LiveSettings(identity.settings)
        self.live = live
        var operations = NodeOperations(
            identity: identity, spool: spool, monitor: monitor, startedAt: startedAt,
            queueSignal: link.queueSignal, logger: logger, desk: DeskAddress(), clock: clock)
        operations.live = live
        let changes = topologyChanges
        operations.onTopologyChange = { changes.notify() }
        self.operations = operations
        self.group = group
        self.logger = logger
        self.controlPool = controlPool ?? blockingPool
    }

    /// Runs a request of the desk on the control pool (the same threads as the control socket's).
    public func deskBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await controlBlocking(body)
    }

    /// Runs blocking spool work off the event loops.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await link.blocking(body)
    }

    /// Runs a control request's blocking work on the control pool.
    func controlBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await LinkContext.run(on: controlPool, body)
    }
}

/// Runs a service body until it ends or the node shuts down: graceful shutdown cancels it, and
/// a cancellation is a normal end, not a failure of the service group.
func untilShutdown(_ body: @escaping @Sendable () async throws -> Void) async throws {
    do { try await cancelWhenGracefulShutdown(body) } catch is CancellationError {}
}
