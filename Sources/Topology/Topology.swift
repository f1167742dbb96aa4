/// The Topology module: the province tree of LienThong nodes, read from a JSON topology file,
/// validated, and queried for neighbours and routes.
///
/// Each agency runs one node; nodes form the administrative tree (province → district →
/// commune, or deeper). A node talks only to its parents and children, and an envelope travels
/// along the tree: up through primary parents to the lowest common ancestor of sender and
/// recipient, then down. `Topology.nextHops(from:recipients:)` turns a recipient list into one
/// copy per next hop, however many recipients lie behind it.
///
/// The file format is documented in `docs/TOPOLOGY.md`. Everything here is pure: no network,
/// no store, no clock. The parent, children and depth maps are computed once when a topology is
/// built, so routing a 2,000-recipient envelope costs a few array lookups per recipient.
///
/// Security note: the untrusted input this module touches is topology files (and topology
/// bytes handed over by other modules). It refuses a file over `Topology.maxFileSize` before
/// reading it, checks every field's type, length and character set, refuses display names with
/// control or bidi-override characters (they end up on operators' terminals), checks key
/// lengths, and rejects cycles and unreachable nodes with iterative (never recursive) graph
/// walks, so no file can crash it, exhaust its stack or make it loop. It must never open a
/// connection, resolve a host name, write a file, or hold or log secret keys: the topology
/// carries public keys only, and pinning them is its whole job, so a key is only ever replaced
/// by an explicit provisioning call (`settingKeys`), never implicitly.
import Envelope
import SodiumKit

/// A validated province topology: a single-rooted tree of nodes (with optional failover
/// parents), plus the network identifier.
///
/// Values are only ever built through validation (`decode`, `load`, or
/// `init(network:note:nodes:requireKeys:)`), so every query can rely on the tree being well
/// formed. Queries that take an unknown id return an empty answer (`[]`, `nil`); routing
/// queries throw `TOPO-UNKNOWN-NODE` instead, since a wrong route must never be silent.
public struct Topology: Sendable {
    /// The format marker every topology file starts with.
    public static let format = "lienthong-topology-v1"
    /// Files larger than this are refused before they are read (16 MiB; the 167-node Hòa Bình
    /// tree with keys and endpoints is about 50 KiB).
    public static let maxFileSize = 16 << 20

    /// The network identifier (e.g. `hoa-binh-2020`). Link handshakes mix it in, so nodes of two
    /// different networks never talk to each other.
    public let network: String
    /// Free text for the people maintaining the file (provenance, caveats); preserved on encoding.
    public let note: String?
    /// The nodes, in file order.
    public internal(set) var nodes: [TopologyNode]
    /// The longest lifetime an envelope may have on this network, in days (`maxLifetimeDays`,
    /// 1…3650); nil for the default of 90 days. Every node's gate refuses longer ones.
    public internal(set) var maxLifetimeDays: Int?
    /// The topology's version (`version`, 1…2^31−1), set by `lienthong topology sign`; 0 for a
    /// file without one. A node applies an update only if its version is higher.
    public internal(set) var version: Int = 0

    /// A copy with `version` set (what `topology sign --version N` writes before signing).
    public func settingVersion(_ version: Int) throws -> Topology {
        guard (1...Int(Int32.max)).contains(version) else {
            throw TopologyError(.syntax, "a topology version is a whole number from 1 to \(Int32.max), got \(version)")
        }
        var copy = self
        copy.version = version
        return copy
    }

    // Precomputed maps, indexed like `nodes`. Keys and endpoints can change (provisioning) but
    // the shape of the tree cannot, so these are shared between a topology and its
    // `settingKeys`/`settingEndpoint` copies.
    let index: [NodeID: Int]
    let primaryParentIndex: [Int]  // -1 for the root
    let childIndices: [[Int]]  // primary children, file order
    let failoverChildIndices: [[Int]]
    let depths: [Int]
    let rootIndex: Int
    let successorIndex: [Int]  // the live node answering for each node (itself unless retired)

    // MARK: Lookup

    /// The node with this id, or nil when it is not in the topology.
    public subscript(_ id: NodeID) -> TopologyNode? {
        index[id].map { nodes[$0] }
    }

    /// True when the topology has a node with this id.
    public func contains(_ id: NodeID) -> Bool { index[id] != nil }

    /// The live node that answers for `id`: `id` itself, or, for a retired unit, the end of its
    /// `mergedInto` chain. Nil for an unknown id.
    public func successor(of id: NodeID) -> NodeID? {
        index[id].map { nodes[successorIndex[$0]].id }
    }

    /// The retired units `id` answers for (directly or along a chain of merges), in file order.
    public func predecessors(of id: NodeID) -> [NodeID] {
        guard let i = index[id] else { return [] }
        return nodes.indices.filter { $0 != i && successorIndex[$0] == i }.map { nodes[$0].id }
    }

    /// The single node without parents (the province hub).
    public var root: TopologyNode { nodes[rootIndex] }

    // MARK: Tree relations

    /// All parents of a node, primary first, then failover parents; [] for the root or an
    /// unknown id.
    public func parents(of id: NodeID) -> [NodeID] { self[id]?.parents ?? [] }

    /// The parent routes go through; nil for the root or an unknown id.
    public func primaryParent(of id: NodeID) -> NodeID? { self[id]?.primaryParent }

    /// The nodes whose primary parent is `id`, in file order: the routing tree's children.
    public func children(of id: NodeID) -> [NodeID] {
        guard let i = index[id] else { return [] }
        return childIndices[i].map { nodes[$0].id }
    }

    /// The nodes that list `id` as a failover (non-primary) parent, in file order. They may dial
    /// this node when their primary parent is down, so it must accept them.
    public func failoverChildren(of id: NodeID) -> [NodeID] {
        guard let i = index[id] else { return [] }
        return failoverChildIndices[i].map { nodes[$0].id }
    }

    /// Every node `id` may hold a link with: its parents (primary first), its children, then the
    /// nodes that use it as a failover parent. A peer outside this list is refused at the
    /// handshake.
    public func neighbours(of id: NodeID) -> [NodeID] {
        guard let i = index[id] else { return [] }
        // The lists are disjoint: a parent cannot also be a child (that is a cycle, refused at load).
        return nodes[i].parents + childIndices[i].map { nodes[$0].id } + failoverChildIndices[i].map { nodes[$0].id }
    }

    /// True when `a` and `b` may hold a link: one is a parent (primary or failover) of the other.
    public func areNeighbours(_ a: NodeID, _ b: NodeID) -> Bool {
        guard let na = self[a], let nb = self[b] else { return false }
        return na.parents.contains(b) || nb.parents.contains(a)
    }

    /// True when the node accepts connections from children (it has primary or failover
    /// children), i.e. it needs an endpoint in a running network.
    public func hasChildren(_ id: NodeID) -> Bool {
        guard let i = index[id] else { return false }
        return !childIndices[i].isEmpty || !failoverChildIndices[i].isEmpty
    }

    /// All descendants of `id` along primary parents, excluding `id` itself, in depth-first
    /// pre-order (file order among siblings). [] for a leaf or an unknown id.
    public func descendants(of id: NodeID) -> [NodeID] {
        guard let i = index[id] else { return [] }
        var out: [NodeID] = []
        // An explicit stack: a pathological (but valid) deep chain must not overflow the call stack.
        var stack = childIndices[i].reversed() as [Int]
        while let j = stack.popLast() {
            out.append(nodes[j].id)
            stack.append(contentsOf: childIndices[j].reversed())
        }
        return out
    }

    /// The subtree rooted at `id`: `id` itself first, then `descendants(of:)`. [] for an unknown id.
    public func subtree(of id: NodeID) -> [NodeID] {
        guard contains(id) else { return [] }
        return [id] + descendants(of: id)
    }

    /// Hops from the root along primary parents: 0 for the root, nil for an unknown id.
    public func depth(of id: NodeID) -> Int? { index[id].map { depths[$0] } }

    /// The depth of the deepest node (2 for province → district → commune).
    public var maxDepth: Int { depths.max() ?? 0 }

    /// How many nodes there are at each level (levels without nodes are absent).
    public var countByLevel: [NodeLevel: Int] {
        nodes.reduce(into: [:]) { $0[$1.level, default: 0] += 1 }
    }

    // MARK: Provisioning

    /// A copy with the node's public keys set (replacing any it had). An id that is not in the
    /// topology leaves it unchanged. Uniqueness of keys across nodes is checked again when the
    /// result is encoded and loaded.
    public func settingKeys(for id: NodeID, signing: SigningPublicKey, encryption: BoxPublicKey) -> Topology {
        guard let i = index[id] else { return self }
        var copy = self
        copy.nodes[i].signingKey = signing
        copy.nodes[i].encryptionKey = encryption
        return copy
    }

    /// A copy with the node's endpoint set, or removed with nil. An id that is not in the
    /// topology leaves it unchanged.
    public func settingEndpoint(for id: NodeID, _ endpoint: Endpoint?) -> Topology {
        guard let i = index[id] else { return self }
        var copy = self
        copy.nodes[i].endpoint = endpoint
        return copy
    }

    /// Internal: the index of a node that a routing query names, or `TOPO-UNKNOWN-NODE`.
    func requireIndex(_ id: NodeID, role: String) throws -> Int {
        guard let i = index[id] else {
            throw TopologyError(.unknownNode, "\(role) \(id) is not in the topology of network \(network)", node: id)
        }
        return i
    }
}
