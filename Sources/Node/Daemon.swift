import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `lienthongd --home DIR`: the node as one `ServiceGroup` — listener for children, uplink to
/// the parent, delivery (receipts), janitor, control server — with graceful shutdown on
/// SIGTERM/SIGINT: link sessions stop at a chunk boundary after committing what arrived.
///
/// Security note: the daemon holds the node's secret keys and its spool; it accepts TCP only
/// from neighbours the topology pins (the link handshake), and control requests only on an
/// owner-only Unix socket. Only one daemon runs per home (an exclusive lock on `DIR/lienthongd.lock`).
public enum Daemon {
    /// - Parameter extraServices: services of modules above `Node` (the desk), built from the
    ///   runtime and run in the same group, so they start and stop with the node.
    public static func run(
        home: String, logLevel: Logger.Level = .info,
        extraServices: @Sendable (NodeRuntime) throws -> [any Service] = { _ in [] }
    ) async throws {
        let tuned = AllocatorTuning.apply()
        let identity = try NodeIdentity(home: home)
        var logger = Logger(label: "lienthongd")
        logger.logLevel = logLevel
        logger[metadataKey: "node"] = "\(identity.id)"
        if AllocatorTuning.isAvailable && !tuned {
            logger.warning(
                """
                the C library refused the allocator settings; large buffers will be mapped and unmapped each \
                time (more CPU, same results)
                """
            )
        }
        let lock = try HomeLock(identity.home.path + "/lienthongd.lock")
        defer { lock.release() }
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let controlPool = NIOThreadPool(numberOfThreads: 2)
        controlPool.start()
        let runtime: NodeRuntime
        do {
            runtime = try NodeRuntime(
                identity: identity, blockingPool: pool, controlPool: controlPool,
                group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        } catch {
            try? await pool.shutdownGracefully()
            try? await controlPool.shutdownGracefully()
            throw error
        }
        logger.info("node starting", metadata: ["name": "\(identity.name)", "spool": "\(identity.home.spoolPath)"])
        var extras: [any Service]
        do {
            extras = try extraServices(runtime)
            if let path = identity.settings.hotFolder {
                let root = path.hasPrefix("/") ? path : identity.home.path + "/" + path
                extras.append(
                    ExchangeService(
                        runtime: runtime,
                        folder: try ExchangeFolder(
                            root: root, operations: runtime.operations.acting(actor: "hot-folder"))))
            }
        } catch {
            try? await pool.shutdownGracefully()
            try? await controlPool.shutdownGracefully()
            throw error
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: ControlService(runtime: runtime)),
                    .init(service: ListenerService(runtime: runtime), successTerminationBehavior: .ignore),
                    .init(service: UplinkService(runtime: runtime), successTerminationBehavior: .ignore),
                    .init(service: DeliveryService(runtime: runtime)),
                    .init(service: DownRouteService(runtime: runtime)),
                    .init(service: JanitorService(runtime: runtime)),
                    .init(service: RetentionService(runtime: runtime)),
                    .init(service: SystemdService(notifier: SystemdNotifier())),
                    .init(service: ReloadService(runtime: runtime)),
                ] + extras.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do { try await group.run() } catch {
            try? await pool.shutdownGracefully()
            try? await controlPool.shutdownGracefully()
            throw error
        }
        try? await pool.shutdownGracefully()
        try? await controlPool.shutdownGracefully()
        logger.info("node stopped")
    }
}

/// An exclusive `flock` on a file in the node home, held while the daemon runs.
struct HomeLock: ~Copyable {
    let fd: Int32

    init(_ path: String) throws {
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NodeError(.nodeLock, "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw NodeError(
                .nodeAlreadyRunning, "another lienthongd holds \(path); only one daemon may run on a node home")
        }
    }

    func release() { close(fd) }
}
