import Envelope
import Foundation
import Link
import Logging
import ServiceLifecycle
import Spool
import Topology

/// The payload of an attachment notice (kind `control`): the notice's origin says `child` is
/// attached to it since `at` (ms). Format in docs/PROTOCOL.md §8.
public struct AttachmentBody: Codable, Sendable, Equatable {
    public static let formatName = "lienthong-attachment-v1"
    public var format: String
    public var child: String
    public var at: Int64
}

/// Down-routing after a failover (docs/TOPOLOGY.md §Failover): a child that dialled one of its
/// failover parents gets its documents there, and back along the signed tree once it returns.
///
/// The parent a child is attached to announces it to the nodes whose routes change — every node
/// on the tree paths from it to the child's other parents — when the child fails over to it, or
/// returns to its primary. Each applies the newest announcement (`LiveTopology.attach`), keeps it
/// in `routes.json`, and re-routes its queue; the primary parent, which is where an envelope a
/// relay re-routes away from it goes back up, hands over what it held (`Spool.admitBounce` takes
/// it back upstream). A primary parent that holds a session with the child when an older
/// announcement arrives answers for itself, so a late notice cannot send the child's documents
/// away from it.
///
/// Security note: notices arrive from other nodes, signed by their origin (checked by the gate);
/// one is believed only for a child that lists its origin as a parent in the signed topology, so a
/// node can only draw to itself the children the authority gave it. Bodies are small JSON, read
/// under a size limit.
struct Attachments: Sendable {
    let operations: NodeOperations

    private var identity: NodeIdentity { operations.identity }
    private var live: LiveTopology { identity.liveTopology }

    /// A session with `peer` came up: when it is a child attached here other than the routes say
    /// (a failover child, or a primary child that was away), announce it.
    func sessionUp(_ peer: NodeID) throws {
        let me = identity.id
        let parents = live.signedTopology.parents(of: peer)
        guard parents.contains(me), live.routes[peer]?.parent != me else { return }
        // A primary child that never left needs no word: the signed tree routes to it already.
        if parents.first == me && live.routes[peer] == nil { return }
        try announce(peer, at: operations.clock())
    }

    /// `child` is attached here since `at`: in force here, then told to the nodes whose routes change.
    func announce(_ child: NodeID, at: Int64) throws {
        let me = identity.id
        _ = live.attach(child, to: me, at: at)
        try persist()
        let tree = live.signedTopology
        var recipients = Set<NodeID>()
        for other in tree.parents(of: child) where other != me {
            for n in try tree.path(from: me, to: other) where n != me { recipients.insert(n) }
        }
        if !recipients.isEmpty {
            try operations.gate.accept([operations.notices.attachment(child, to: recipients.sorted(), at: at)], now: at)
        }
        let moved = try operations.topologyUpdater.rerouteQueue(now: operations.clock())
        operations.gate.notify()
        operations.logger?.notice(
            "a child is attached here; the nodes on its other routes are told",
            metadata: [
                "child": "\(child)", "told": "\(recipients.sorted().map(\.rawValue).joined(separator: ","))",
                "moved": "\(moved)",
            ])
    }

    /// An attachment notice from `origin`, delivered here. Returns whether routes changed.
    @discardableResult
    func apply(_ body: AttachmentBody, from origin: NodeID) throws -> Bool {
        let child = try NodeID(body.child)
        let tree = live.signedTopology
        guard tree.parents(of: child).contains(origin) else {
            throw NodeError(
                .noticeMalformed, "\(origin) says \(child) is attached to it, but it is not one of \(child)'s parents")
        }
        let me = identity.id
        if tree.primaryParent(of: child) == me, origin != me, operations.monitor?.isConnected(child) == true {
            // The child is here: whatever an older notice says, this node answers for itself.
            try announce(child, at: max(operations.clock(), body.at + 1))
            return true
        }
        guard live.attach(child, to: origin, at: body.at) else { return false }
        try persist()
        let moved = try operations.topologyUpdater.rerouteQueue(now: operations.clock())
        operations.gate.notify()
        operations.logger?.notice(
            "a child's attachment changed; routes follow",
            metadata: ["child": "\(child)", "parent": "\(origin)", "moved": "\(moved)"])
        return true
    }

    private func persist() throws {
        let routes = Dictionary(uniqueKeysWithValues: live.routes.map { ($0.key.rawValue, $0.value) })
        try NodeHome.write(Array(try JSONEncoder().encode(routes)), to: identity.home.routesPath)
    }
}

/// Announces a child that fails over to this node, or comes back (`Attachments`), as sessions
/// come up; ends with the daemon.
struct DownRouteService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        try await untilShutdown {
            for await peer in runtime.link.monitor.sessionsUp {
                do {
                    try await runtime.blocking { [runtime] in
                        try Attachments(operations: runtime.operations).sessionUp(peer)
                    }
                } catch {
                    runtime.logger.warning(
                        "cannot announce a child's attachment; will at its next session",
                        metadata: ["child": "\(peer)", "error": "\(error)"])
                }
            }
        }
    }
}
