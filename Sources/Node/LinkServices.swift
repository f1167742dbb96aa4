import Foundation
import Logging
import ServiceLifecycle
import Envelope
import Link
import Spool
import Topology

/// Accepts the node's children (and failover children) on its endpoint from the topology.
struct ListenerService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        let me = runtime.identity.id, topology = runtime.identity.topology
        guard let endpoint = topology[me]?.endpoint, topology.hasChildren(me) else {
            runtime.logger.info("no children to accept; not listening")
            return
        }
        let host = runtime.settings.listenHost ?? endpoint.host
        let logger = runtime.logger
        try await untilShutdown {
            try await LinkEndpoints.listen(host: host, port: endpoint.port, context: runtime.link, group: runtime.group,
                                           onBound: { port in logger.info("listening for children", metadata: ["address": "\(host):\(port)"]) },
                                           onSession: { result in
                                               if case .failure(let error) = result {
                                                   logger.notice("incoming connection ended", metadata: ["error": "\(error)"])
                                               }
                                           })
        }
    }
}

/// Keeps the link to the node's parent up: children always dial parents. Reconnects with
/// exponential backoff and full jitter (reset once a session was established, capped).
///
/// Failover rule (docs/OPERATIONS.md): a node with several parents dials its primary parent;
/// when the primary has been unreachable for `failoverAfterMs` it dials the next parent in the
/// topology's order and hands that parent the entries waiting for the primary; when that link
/// drops it starts again from the primary.
struct UplinkService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        let parents = runtime.identity.topology.parents(of: runtime.identity.id)
        guard !parents.isEmpty else { return }
        try await untilShutdown { try await self.loop(parents) }
    }

    private func loop(_ parents: [NodeID]) async throws {
        let monitor = runtime.link.monitor, logger = runtime.logger, clock = runtime.clock
        let failoverAfter = runtime.settings.failoverAfterMs ?? 120_000
        var backoff = runtime.settings.reconnect
        var rng = SystemRandomNumberGenerator()
        var current = 0
        var unreachableSince: Int64?
        while !Task.isCancelled {
            let parent = parents[current]
            guard let endpoint = runtime.identity.topology[parent]?.endpoint else {
                throw NodeError("NODE-NO-ENDPOINT", "parent \(parent) has no endpoint in the topology; cannot dial it")
            }
            if current > 0 {
                let moved = try await runtime.blocking { [spool = runtime.spool, primary = parents[0]] in
                    try spool.retarget(from: primary, to: parent, now: clock())
                }
                if moved > 0 { logger.notice("failover: entries for the primary parent handed to this one", metadata: ["parent": "\(parent)", "count": "\(moved)"]) }
            }
            monitor.setDial(parent, backoffMs: nil, nextDialAt: nil, error: nil)
            var failure: String
            do {
                let summary = try await LinkEndpoints.dial(parent, at: endpoint, context: runtime.link, group: runtime.group)
                backoff.recordSuccess()
                unreachableSince = nil
                failure = summary.closeReason
                if current > 0 { current = 0 }  // after a failover link ends, try the primary first again
            } catch is CancellationError {
                return
            } catch {
                failure = "\(error)"
                if unreachableSince == nil { unreachableSince = clock() }
            }
            if Task.isCancelled { return }
            let now = clock()
            let next = backoff.recordFailure(now: now, using: &rng)
            monitor.setDial(parent, backoffMs: next - now, nextDialAt: next, error: failure)
            logger.info("link to parent down; will dial again", metadata: ["parent": "\(parent)", "in_ms": "\(next - now)", "reason": "\(failure.prefix(200))"])
            if let since = unreachableSince, parents.count > 1, now - since >= failoverAfter {
                current = (current + 1) % parents.count
                unreachableSince = nil
                backoff.recordSuccess()
                logger.notice("failover: parent unreachable too long; dialling the next one", metadata: ["from": "\(parent)", "to": "\(parents[current])"])
                continue
            }
            try await Task.sleep(for: .milliseconds(max(0, next - now)))
        }
    }
}
