import Envelope
import Foundation
import Link
import Logging
import ServiceLifecycle
import Spool
import Topology

/// Accepts the node's children (and failover children) on its endpoint from the topology, and
/// those of the previous topology: a retired district restarted after the update still lets in a
/// commune that missed it (the commune was down), tells it, and the commune moves. A node that
/// has no children to accept waits until an update gives it some (a commune made a parent).
struct ListenerService: Service {
    let runtime: NodeRuntime

    /// Where to listen, or nil while no topology in force or before it gives this node children.
    static func endpoint(of me: NodeID, _ live: LiveTopology) -> Endpoint? {
        let now = live.signedTopology
        let previous = live.previous
        guard now.hasChildren(me) || previous?.hasChildren(me) == true else { return nil }
        return now[me]?.endpoint ?? previous?[me]?.endpoint
    }

    func run() async throws {
        let me = runtime.identity.id
        let live = runtime.identity.liveTopology
        try await untilShutdown {
            if Self.endpoint(of: me, live) == nil {
                runtime.logger.info(
                    "no children to accept; not listening until a topology update gives this node some")
                await runtime.topologyChanges.wait { Self.endpoint(of: me, live) != nil }
            }
            guard !Task.isCancelled, let endpoint = Self.endpoint(of: me, live) else { return }
            try await listen(on: endpoint)
        }
    }

    private func listen(on endpoint: Endpoint) async throws {
        let host = runtime.settings.listenHost ?? endpoint.host
        let logger = runtime.logger
        try await LinkEndpoints.listen(
            host: host, port: endpoint.port, context: runtime.link, group: runtime.group,
            onBound: { port in logger.info("listening for children", metadata: ["address": "\(host):\(port)"]) },
            onSession: { result in
                // Handshake refusals are already logged, in aggregate
                // (`RefusalLog`): one line per source and minute.
                switch result {
                case .failure(let error):
                    logger.debug("incoming connection ended", metadata: ["error": "\(error)"])
                case .success:
                    AllocatorTuning.release()
                }
            })
    }
}

/// Keeps the link to the node's parent up: children always dial parents. Reconnects with
/// exponential backoff and full jitter (reset once a session was established, capped).
///
/// Failover rule (docs/OPERATIONS.md): a node with several parents dials its primary parent;
/// when the primary has been unreachable for `failoverAfterMs` it dials the next parent in the
/// topology's order. Whichever parent it dials is handed the entries waiting for the others. While
/// on a failover parent it checks every `failoverAfterMs` whether the primary accepts connections
/// again, and if so closes the failover link (gracefully) and returns to the primary.
struct UplinkService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        let me = runtime.identity.id
        let identity = runtime.identity
        try await untilShutdown {
            while !Task.isCancelled {
                // A topology update that changes this node's parents ends the current link
                // (gracefully) and starts over with the new ones. The signed order: the routing
                // topology puts the parent this node is attached to first (below).
                let parents = identity.liveTopology.signedTopology.parents(of: me)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    if !parents.isEmpty { group.addTask { try await self.loop(parents) } }
                    group.addTask {
                        await runtime.topologyChanges.wait {
                            identity.liveTopology.signedTopology.parents(of: me) != parents
                        }
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
                if Task.isCancelled { return }
                runtime.logger.notice(
                    "parents changed with the topology; dialling the new ones",
                    metadata: ["parents": "\(identity.liveTopology.signedTopology.parents(of: me).map(\.rawValue))"])
            }
        }
    }

    private enum Outcome: Sendable {
        case session(SessionSummary)
        case primaryIsBack
    }

    private func loop(_ parents: [NodeID]) async throws {
        let monitor = runtime.link.monitor
        let logger = runtime.logger
        let clock = runtime.clock
        let failoverAfter = runtime.settings.failoverAfterMs ?? 120_000
        var backoff = runtime.settings.reconnect
        var current = 0
        var unreachableSince: Int64?
        while !Task.isCancelled {
            let parent = parents[current]
            guard let endpoint = runtime.identity.topology[parent]?.endpoint else {
                throw NodeError(.nodeNoEndpoint, "parent \(parent) has no endpoint in the topology; cannot dial it")
            }
            if parents.count > 1 {
                // What this node sends up from now on goes to the parent it dials (its own
                // down-route), and the entries waiting for the others are handed to it.
                _ = runtime.identity.liveTopology.attach(runtime.identity.id, to: parent, at: clock())
                let moved = try await runtime.blocking { [spool = runtime.spool] in
                    try parents.filter { $0 != parent }.reduce(0) {
                        $0 + (try spool.retarget(from: $1, to: parent, now: clock()))
                    }
                }
                if moved > 0 {
                    logger.notice(
                        "queue entries handed to the parent being dialled",
                        metadata: ["parent": "\(parent)", "count": "\(moved)"])
                }
            }
            monitor.setDial(parent, backoffMs: nil, nextDialAt: nil, error: nil)
            var failure: String
            do {
                switch try await dial(parent, endpoint, probing: current > 0 ? parents[0] : nil, every: failoverAfter) {
                case .session(let summary):
                    AllocatorTuning.release()
                    backoff.recordSuccess()
                    unreachableSince = nil
                    failure = summary.closeReason
                    if current > 0 { current = 0 }  // after a failover link ends, try the primary first again
                case .primaryIsBack:
                    logger.notice(
                        "primary parent reachable again; leaving the failover parent",
                        metadata: ["parent": "\(parents[0])"])
                    current = 0
                    backoff.recordSuccess()
                    continue
                }
            } catch is CancellationError {
                return
            } catch {
                failure = "\(error)"
                if unreachableSince == nil { unreachableSince = clock() }
            }
            if Task.isCancelled { return }
            let now = clock()
            let next = backoff.recordFailure(now: now)
            monitor.setDial(parent, backoffMs: next - now, nextDialAt: next, error: failure)
            // What an operator reads: which parent, where, why, and when the next try is.
            let wait = String(format: "%.1f", Double(next - now) / 1000)
            logger.info(
                """
                cannot reach parent \(parent) at \(endpoint.host):\(endpoint.port): \
                \(failure.prefix(200)); next try in \(wait) s
                """,
                metadata: ["parent": "\(parent)", "in_ms": "\(next - now)"])
            if let since = unreachableSince, parents.count > 1, now - since >= failoverAfter {
                current = (current + 1) % parents.count
                unreachableSince = nil
                backoff.recordSuccess()
                logger.notice(
                    "failover: parent unreachable too long; dialling the next one",
                    metadata: ["from": "\(parent)", "to": "\(parents[current])"])
                continue
            }
            try await Task.sleep(for: .milliseconds(max(0, next - now)))
        }
    }

    /// One session with `parent`; on a failover parent, raced against a periodic check that the
    /// primary accepts connections again (which ends the session gracefully).
    private func dial(
        _ parent: NodeID, _ endpoint: Endpoint, probing primary: NodeID?, every interval: Int64
    ) async throws -> Outcome {
        let runtime = self.runtime
        guard let primary, let primaryEndpoint = runtime.identity.topology[primary]?.endpoint else {
            return .session(
                try await LinkEndpoints.dial(parent, at: endpoint, context: runtime.link, group: runtime.group))
        }
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask {
                .session(
                    try await LinkEndpoints.dial(parent, at: endpoint, context: runtime.link, group: runtime.group))
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: .milliseconds(interval))
                    if await LinkEndpoints.accepts(primaryEndpoint, group: runtime.group) { return .primaryIsBack }
                }
            }
            guard let first = try await group.next() else { throw CancellationError() }
            group.cancelAll()
            return first
        }
    }
}
