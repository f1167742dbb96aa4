import Envelope

/// Where copies of one envelope go from one node: the answer of `Topology.nextHops`.
public struct RoutePlan: Sendable, Equatable {
    /// True when the node itself is among the recipients (deliver into its own inbox).
    public var local: Bool
    /// For each neighbour to send a copy to, the recipients behind it, sorted and without
    /// duplicates. One entry per next hop, however many recipients lie behind it.
    public var byNextHop: [NodeID: [NodeID]]

    public init(local: Bool, byNextHop: [NodeID: [NodeID]]) {
        self.local = local
        self.byNextHop = byNextHop
    }

    /// The neighbours to send a copy to, sorted.
    public var nextHops: [NodeID] { byNextHop.keys.sorted() }

    /// The number of distinct recipients covered, local delivery included.
    public var recipientCount: Int { byNextHop.values.reduce(local ? 1 : 0) { $0 + $1.count } }
}

extension Topology {
    /// The hop path from `from` to `to`, both ends included: up along primary parents to their
    /// lowest common ancestor, then down. `[from]` when they are the same node.
    /// Throws `TOPO-UNKNOWN-NODE` for an id that is not in the topology.
    public func path(from: NodeID, to: NodeID) throws -> [NodeID] {
        var a = try requireIndex(from, role: "sender")
        var b = try requireIndex(to, role: "recipient")
        var up: [Int] = []  // from `from` towards the common ancestor
        var down: [Int] = []  // from `to` towards the common ancestor, reversed at the end
        while depths[a] > depths[b] {
            up.append(a)
            a = primaryParentIndex[a]
        }
        while depths[b] > depths[a] {
            down.append(b)
            b = primaryParentIndex[b]
        }
        while a != b {
            up.append(a)
            a = primaryParentIndex[a]
            down.append(b)
            b = primaryParentIndex[b]
        }
        return (up + [a] + down.reversed()).map { nodes[$0].id }
    }

    /// The neighbour an envelope for `to` leaves `from` through, or nil when `to` is `from`.
    /// Throws `TOPO-UNKNOWN-NODE` for an id that is not in the topology.
    public func nextHop(from: NodeID, to: NodeID) throws -> NodeID? {
        let f = try requireIndex(from, role: "sender")
        let r = successorIndex[try requireIndex(to, role: "recipient")]
        return hop(from: f, to: r).map { nodes[$0].id }
    }

    /// Splits a recipient list into one copy per next hop from `from` (tree routing along
    /// primary parents): recipients below `from` go to the child whose subtree holds them,
    /// everything else goes to `from`'s primary parent; `from` itself sets `local`. A retired
    /// recipient is routed as its successor (`local` when that is `from`) and keeps its own id in
    /// the lists.
    /// Duplicate recipients count once.
    ///
    /// Costs O(depth) per recipient with no allocation beyond the result, so a 2,000-recipient
    /// broadcast on the 167-node province tree is a few thousand array reads. Throws
    /// `TOPO-UNKNOWN-NODE` naming the first recipient (or sender) not in the topology; nothing
    /// is routed in that case, so a mistyped recipient is never silently dropped.
    ///
    /// - Parameter followingMerges: route a retired recipient as its successor (documents: the
    ///   successor opens and answers for them). False for receipts and notices, which go to the
    ///   retired node itself, a leaf of its parents: while it still runs, its tracking is its own.
    public func nextHops(
        from: NodeID, recipients: some Sequence<NodeID>, followingMerges: Bool = true
    ) throws -> RoutePlan {
        let f = try requireIndex(from, role: "sender")
        var local = false
        var groups: [Int: Set<Int>] = [:]
        for id in recipients {
            let named = try requireIndex(id, role: "recipient")
            // A retired unit's envelopes go to its successor (still listed under its own id).
            if let h = hop(from: f, to: followingMerges ? successorIndex[named] : named) {
                groups[h, default: []].insert(named)
            } else {
                local = true
            }
        }
        var byNextHop: [NodeID: [NodeID]] = [:]
        byNextHop.reserveCapacity(groups.count)
        for (h, members) in groups {
            byNextHop[nodes[h].id] = members.map { nodes[$0].id }.sorted()
        }
        return RoutePlan(local: local, byNextHop: byNextHop)
    }

    /// The next hop by index; nil when `r == f`.
    private func hop(from f: Int, to r: Int) -> Int? {
        if r == f { return nil }
        // Climb from the recipient to one level below the sender: if that node's parent is the
        // sender, the recipient is in the sender's subtree and that node is the child to use.
        var x = r
        let below = depths[f] + 1
        while depths[x] > below { x = primaryParentIndex[x] }
        if depths[x] == below && primaryParentIndex[x] == f { return x }
        // Not below us: it goes up. The root has every node below it, so f is not the root here.
        return primaryParentIndex[f]
    }
}

extension Topology {
    /// This topology with each `child` routed through the parent it is attached to now (one of
    /// its own parents, made its primary): down-routing after a failover. Routes that name a
    /// node that is not one of the child's parents are ignored; the shape stays a valid tree
    /// because only the order of a node's own parents changes.
    public func routing(_ routes: [NodeID: NodeID]) -> Topology {
        var nodes = self.nodes
        var changed = false
        for (child, parent) in routes {
            guard let i = index[child], nodes[i].parents.first != parent, nodes[i].parents.contains(parent) else {
                continue
            }
            nodes[i].parents = [parent] + nodes[i].parents.filter { $0 != parent }
            changed = true
        }
        guard changed, var routed = try? Topology(network: network, note: note, nodes: nodes) else { return self }
        routed.version = version
        routed.maxLifetimeDays = maxLifetimeDays
        return routed
    }
}
