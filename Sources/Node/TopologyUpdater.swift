import Envelope
import Foundation
import Logging
import Spool
import Topology

/// Applies a signed topology update without a restart (docs/TOPOLOGY.md §Updates): checks it,
/// stores it, puts it in force, moves every queue entry whose next hop changed in one
/// transaction, and passes it to each neighbour — old and new — once. An update that is not
/// newer than the one in force is not passed on, so a flood through the tree ends.
///
/// Security note: the update comes from an operator or from any neighbour; it is believed only
/// if the pinned authority signed it, it is newer, it is a valid tree with every key, and it
/// names this node with this node's own signing key. A refusal is logged and audited with its
/// reason and changes nothing.
public struct TopologyUpdater: Sendable {
    let identity: NodeIdentity
    let spool: Spool
    let notices: Notices
    let logger: Logger?
    let clock: @Sendable () -> Int64

    /// What happened to an update.
    public enum Outcome: Sendable, Equatable {
        /// In force now; passed on to this many neighbours; this many queue entries moved.
        case applied(version: Int, neighbours: Int, moved: Int)
        /// Not newer than the version in force (a copy of the flood from another side): ignored.
        case alreadyHave(current: Int)
    }

    /// Applies `bytes`, which came from `from` (a neighbour's id, or `operator:NAME`).
    @discardableResult
    public func apply(_ bytes: [UInt8], from: String) throws -> Outcome {
        let now = clock()
        let live = identity.liveTopology
        let old = live.current
        let update: SignedTopology
        do {
            update = try SignedTopology.decode(bytes, pinned: identity.authority)
            let version = update.topology.version
            guard version > old.version else {
                if (try? NodeID(from)) != nil { return .alreadyHave(current: old.version) }
                throw TopologyError(
                    .staleVersion, "version \(version) is not newer than the version in force, \(old.version)")
            }
            guard let me = update.topology[identity.id] else {
                throw TopologyError(.nodeMissing, "version \(version) does not name this node (\(identity.id))")
            }
            // The keys in force, or the pair `keys rotate` made, which come into force with it.
            guard identity.keys.holds(me) else {
                throw TopologyError(
                    .badKey,
                    """
                    version \(version) pins keys for this node (\(identity.id)) that it holds neither in force nor \
                    from `keys rotate`
                    """)
            }
            guard update.topology.network == old.network else {
                throw TopologyError(.badNetwork, "version \(version) is for network \(update.topology.network)")
            }
        } catch {
            let reason = "\(error)"
            logger?.error(
                "topology update refused; nothing changed", metadata: ["from": "\(from)", "reason": "\(reason)"])
            try? spool.recordTopology(
                detail: "refused an update from \(from): \(reason)", actor: actorName(from), now: now)
            throw error
        }
        let new = update.topology
        // Stored before it is in force: a crash after this point starts with the new version.
        if let current = live.signed { try NodeHome.write(current, to: identity.home.previousTopologyPath) }
        try NodeHome.write(update.bytes, to: identity.home.topologyPath)
        live.replace(with: new, signed: update.bytes)

        let moved = try rerouteQueue(now: now)
        let merges = new.nodes.filter(\.isRetired).compactMap { n in new.successor(of: n.id).map { (n.id, $0) } }
        try spool.followSuccessors(merges, now: now)

        // Old and new neighbours, except the one it came from, each get one copy over its link.
        let neighbours = Set(old.neighbours(of: identity.id) + new.neighbours(of: identity.id))
            .subtracting((try? NodeID(from)).map { [$0] } ?? [])
        var copies: [IncomingEnvelope] = []
        for n in neighbours.sorted() {
            do {
                copies.append(try notices.topologyUpdate(to: n, signed: update.bytes, version: new.version, now: now))
            } catch {
                logger?.warning("cannot pass the topology on", metadata: ["to": "\(n)", "error": "\(error)"])
            }
        }
        if !copies.isEmpty { _ = try spool.acceptBatch(copies, now: now) }
        // Only now, the copies signed with the key the neighbours still know: a rotation's new
        // keys come into force (their old ones kept as the topology allows).
        if let me = new[identity.id], let rotated = try identity.keys.follow(me, now: now) {
            try spool.recordTopology(detail: rotated, actor: actorName(from), now: now)
            logger?.notice("\(rotated)", metadata: ["version": "\(new.version)"])
        }
        try spool.recordTopology(
            detail: "applied version \(new.version) (was \(old.version)) from \(from); \(moved) queue entries moved; "
                + "passed on to \(copies.count) neighbours",
            actor: actorName(from), now: now)
        logger?.notice(
            "topology version \(new.version) in force (was \(old.version))",
            metadata: ["from": "\(from)", "moved": "\(moved)", "passedOn": "\(copies.count)"])
        return .applied(version: new.version, neighbours: copies.count, moved: moved)
    }

    private func actorName(_ from: String) -> String { (try? NodeID(from)).map { $0.rawValue } ?? from }

    /// Moves every queue entry the topology in force routes elsewhere, in one transaction, and
    /// sends undeliverable notices for recipients it no longer has. Run when an update is applied
    /// and when the daemon starts (an update stored just before a crash, or keys adopted since).
    @discardableResult
    public func rerouteQueue(now: Int64) throws -> Int {
        let topology = identity.topology
        let plan = Self.reroutePlan(
            try spool.routedEntries(), me: identity.id, topology: topology,
            adopted: Set(identity.adoptedBoxKeys.keys))
        let moved = try spool.reroute(plan, detail: "topology version \(topology.version)", now: now)
        try noticeDropped(plan, now: now)
        return moved
    }

    /// Where each queue entry goes under `topology`: one entry per new next hop for its
    /// recipients still in the tree, into this node's inbox for retired units merged into it
    /// whose keys it `adopted` (until then they stay where they are); entries whose next hop
    /// stays are left alone. Pure.
    public static func reroutePlan(
        _ entries: [RoutedEntry], me: NodeID, topology: Topology, adopted: Set<NodeID> = []
    ) -> [QueueReroute] {
        entries.compactMap { e in
            let known = e.recipients.filter { topology.contains($0) && $0 != me }
            let dropped = e.recipients.filter { !topology.contains($0) }
            let mine = e.isDocument ? known.filter { topology.successor(of: $0) == me } : []
            let here = mine.contains(where: adopted.contains)
            let routed = known.filter { !mine.contains($0) }
            var hops =
                (try? topology.nextHops(from: me, recipients: routed, followingMerges: e.isDocument))?.byNextHop ?? [:]
            if !mine.isEmpty && !here { hops[e.peer, default: []] += mine }  // waits for the key
            if dropped.isEmpty && !here && hops.keys.sorted() == [e.peer] { return nil }  // the next hop stays
            return QueueReroute(
                envelopeID: e.envelopeID, fromPeer: e.peer, to: hops, dropped: dropped, deliverHere: here)
        }
    }

    /// Undeliverable notices for documents whose recipients left the topology.
    private func noticeDropped(_ plan: [QueueReroute], now: Int64) throws {
        var notices: [IncomingEnvelope] = []
        for item in plan where !item.dropped.isEmpty {
            guard let stored = try spool.storedEnvelope(item.envelopeID), stored.header.kind == .document else {
                continue
            }
            let event = UndeliverableEvent(
                envelopeID: item.envelopeID, origin: stored.header.origin, kind: .document, peer: item.fromPeer,
                recipients: item.dropped, expiresAt: stored.header.expiresAt)
            if let notice = try? self.notices.undeliverable(event, now: now) { notices.append(notice) }
        }
        if !notices.isEmpty { _ = try spool.acceptBatch(notices, now: now) }
    }
}
