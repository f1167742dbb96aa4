import Envelope
import SodiumKit

extension Topology {
    /// Longest accepted display name, in characters. Real names are under 60.
    public static let maxNameLength = 200
    /// Longest accepted network identifier, in bytes.
    public static let maxNetworkLength = 64

    /// Builds a topology from nodes, validating the whole tree.
    ///
    /// Checks, in this order (the first failure is thrown, naming the node at fault): the
    /// network identifier; at least one node; unique ids; names; parents (no duplicates, not
    /// itself, all known); exactly one root; levels never rising going down; every node
    /// reachable from the root; no cycle through any parent link; unique endpoints and keys;
    /// and, with `requireKeys`, both keys on every node.
    public init(network: String, note: String? = nil, nodes: [TopologyNode], requireKeys: Bool = false) throws {
        try Self.checkNetwork(network)
        if let note { try Self.checkText(note, what: "the note", node: nil, maxLength: 4096) }
        guard !nodes.isEmpty else {
            throw TopologyError(.noRoot, "the topology has no nodes; it needs at least the root (the province hub)")
        }

        var index: [NodeID: Int] = [:]
        index.reserveCapacity(nodes.count)
        for (i, n) in nodes.enumerated() {
            if let first = index[n.id] {
                throw TopologyError(
                    .duplicateID,
                    "node \(n.id) appears twice (entries \(first + 1) and \(i + 1)); every agency needs its own id",
                    node: n.id)
            }
            index[n.id] = i
        }

        for n in nodes {
            try Self.checkText(n.name, what: "the name", node: n.id, maxLength: Self.maxNameLength)
            var seen = Set<NodeID>()
            for p in n.parents {
                guard p != n.id else {
                    throw TopologyError(.cycle, "node \(n.id) lists itself as a parent", node: n.id)
                }
                guard seen.insert(p).inserted else {
                    throw TopologyError(.badParents, "node \(n.id) lists parent \(p) twice", node: n.id)
                }
                guard let pi = index[p] else {
                    throw TopologyError(
                        .unknownParent,
                        "node \(n.id) lists parent \(p), which is not in the topology; add \(p) or fix the parent id",
                        node: n.id)
                }
                guard nodes[pi].level <= n.level else {
                    throw TopologyError(
                        .badLevel,
                        """
                        node \(n.id) (\(n.level.rawValue)) has parent \(p) at a lower level \
                        (\(nodes[pi].level.rawValue)); levels only go down the tree
                        """,
                        node: n.id)
                }
            }
        }

        let successors = try Self.successors(nodes, index: index)

        let roots = nodes.indices.filter { nodes[$0].parents.isEmpty }
        guard let rootIndex = roots.first else {
            throw TopologyError(
                .noRoot, "every node has a parent, so there is no root; the province hub must have \"parents\": []")
        }
        guard roots.count == 1 else {
            let list = roots.prefix(5).map { nodes[$0].id.rawValue }.joined(separator: ", ")
            throw TopologyError(
                .multipleRoots,
                """
                \(roots.count) nodes have no parent (\(list)\(roots.count > 5 ? ", …" : "")); only the root \
                may have none
                """,
                node: nodes[roots[1]].id)
        }

        var children = [[Int]](repeating: [], count: nodes.count)
        var failoverChildren = [[Int]](repeating: [], count: nodes.count)
        var primaryParent = [Int](repeating: -1, count: nodes.count)
        for (i, n) in nodes.enumerated() {
            for (k, p) in n.parents.enumerated() {
                let pi = index[p]!  // every parent was checked above
                if k == 0 {
                    primaryParent[i] = pi
                    children[pi].append(i)
                } else {
                    failoverChildren[pi].append(i)
                }
            }
        }

        let order = try Self.topologicalOrder(
            nodes, index: index, root: rootIndex,
            children: children, failoverChildren: failoverChildren)
        // In topological order every parent comes before its children, so one pass suffices.
        var depths = [Int](repeating: 0, count: nodes.count)
        for i in order where primaryParent[i] >= 0 { depths[i] = depths[primaryParent[i]] + 1 }

        try Self.checkUnique(nodes)
        if requireKeys { try Self.checkKeysPresent(nodes) }

        self.network = network
        self.note = note
        self.nodes = nodes
        self.index = index
        self.primaryParentIndex = primaryParent
        self.childIndices = children
        self.failoverChildIndices = failoverChildren
        self.depths = depths
        self.rootIndex = rootIndex
        self.successorIndex = successors
    }

    /// For each node, the live node that answers for it: itself, or the end of its `mergedInto`
    /// chain. Refuses a merge into an unknown node or itself, a loop of merges, and a retired
    /// node that another node lists as a parent (it has no children: they move with the merge).
    private static func successors(_ nodes: [TopologyNode], index: [NodeID: Int]) throws -> [Int] {
        for n in nodes {
            if let m = n.mergedInto {
                guard m != n.id else {
                    throw TopologyError(.badMerge, "node \(n.id) is merged into itself; name its successor", node: n.id)
                }
                guard index[m] != nil else {
                    throw TopologyError(
                        .badMerge, "node \(n.id) is merged into \(m), which is not in the topology", node: n.id)
                }
            }
            for p in n.parents where nodes[index[p]!].isRetired {
                throw TopologyError(
                    .badMerge,
                    """
                    node \(n.id) lists parent \(p), which is merged into \(nodes[index[p]!].mergedInto!); a retired \
                    unit has no children: re-parent \(n.id)
                    """,
                    node: n.id)
            }
        }
        var out = Array(nodes.indices)
        for i in nodes.indices {
            // Iterative and bounded: a chain longer than the node count is a loop.
            var j = i
            var steps = 0
            while let m = nodes[j].mergedInto {
                j = index[m]!
                steps += 1
                guard steps <= nodes.count else {
                    throw TopologyError(
                        .badMerge, "the merges starting at node \(nodes[i].id) form a loop", node: nodes[i].id)
                }
            }
            out[i] = j
        }
        return out
    }

    /// Kahn's algorithm from the root over every parent link (primary and failover). Returns the
    /// nodes parents-first; throws `unreachable` for nodes the walk never visits and `cycle` for
    /// nodes it visits but cannot order. Iterative, so any file size is safe.
    private static func topologicalOrder(
        _ nodes: [TopologyNode], index: [NodeID: Int], root: Int,
        children: [[Int]], failoverChildren: [[Int]]
    ) throws -> [Int] {
        // Reachability first: a node cut off from the root is reported as such, even when what
        // cuts it off is a loop among its parents; that is the more useful message.
        var reached = [Bool](repeating: false, count: nodes.count)
        reached[root] = true
        var queue = [root]
        var head = 0
        while head < queue.count {
            let i = queue[head]
            head += 1
            for c in children[i] + failoverChildren[i] where !reached[c] {
                reached[c] = true
                queue.append(c)
            }
        }
        if let lost = reached.firstIndex(of: false) {
            let loop = parentLoop(from: lost, nodes: nodes, index: index, within: { !reached[$0] })
            let n = nodes[lost]
            throw TopologyError(
                .unreachable,
                """
                node \(n.id) (\(n.name)) cannot be reached from the root \(nodes[root].id): its parents \
                \(loop) never lead to the root
                """,
                node: n.id)
        }

        var pending = nodes.map { $0.parents.count }
        var order = [root]
        order.reserveCapacity(nodes.count)
        head = 0
        while head < order.count {
            let i = order[head]
            head += 1
            for c in children[i] + failoverChildren[i] {
                pending[c] -= 1
                if pending[c] == 0 { order.append(c) }
            }
        }
        if order.count < nodes.count, let stuck = pending.firstIndex(where: { $0 > 0 }) {
            let loop = parentLoop(from: stuck, nodes: nodes, index: index, within: { pending[$0] > 0 })
            throw TopologyError(
                .cycle,
                "the parents of node \(nodes[stuck].id) form a loop (\(loop)); a node cannot be its own ancestor",
                node: nodes[stuck].id)
        }
        return order
    }

    /// Describes the loop reached by following parents that stay `within` a set of nodes that
    /// all have such a parent (unreached or unordered nodes always do): "A → B → C → A".
    private static func parentLoop(
        from start: Int, nodes: [TopologyNode], index: [NodeID: Int],
        within: (Int) -> Bool
    ) -> String {
        var path: [Int] = []
        var position: [Int: Int] = [:]
        var i = start
        while position[i] == nil {
            position[i] = path.count
            path.append(i)
            guard let next = nodes[i].parents.lazy.compactMap({ index[$0] }).first(where: within) else { break }
            i = next
        }
        let shown = position[i].map { Array(path[$0...]) + [i] } ?? path
        let text = shown.prefix(12).map { nodes[$0].id.rawValue }.joined(separator: " → ")
        return shown.count > 12 ? text + " → …" : text
    }

    private static func checkUnique(_ nodes: [TopologyNode]) throws {
        var endpoints: [Endpoint: NodeID] = [:]
        var signing: [SigningPublicKey: NodeID] = [:]
        var encryption: [BoxPublicKey: NodeID] = [:]
        for n in nodes {
            if let e = n.endpoint {
                if let other = endpoints.updateValue(n.id, forKey: e) {
                    throw TopologyError(
                        .badEndpoint,
                        "nodes \(other) and \(n.id) both listen on \(e); each node needs its own endpoint", node: n.id)
                }
            }
            // A key shared by two nodes would let one impersonate the other on every link.
            if let k = n.signingKey, let other = signing.updateValue(n.id, forKey: k) {
                throw TopologyError(
                    .badKey,
                    """
                    nodes \(other) and \(n.id) have the same signingKey (fingerprint \(k.fingerprint)); each \
                    node needs its own keys
                    """,
                    node: n.id)
            }
            if let k = n.previousSigningKey, let other = signing.updateValue(n.id, forKey: k) {
                let whose = other == n.id ? "its own signingKey" : "the signing key of \(other)"
                throw TopologyError(
                    .badKey,
                    """
                    node \(n.id)'s previousSigningKey (fingerprint \(k.fingerprint)) is also \(whose); a rotation \
                    needs a new key pair
                    """,
                    node: n.id)
            }
            if let k = n.encryptionKey, let other = encryption.updateValue(n.id, forKey: k) {
                throw TopologyError(
                    .badKey,
                    """
                    nodes \(other) and \(n.id) have the same encryptionKey (fingerprint \(k.fingerprint)); \
                    each node needs its own keys
                    """,
                    node: n.id)
            }
        }
    }

    private static func checkKeysPresent(_ nodes: [TopologyNode]) throws {
        let missing = nodes.filter { !$0.hasKeys }
        guard let first = missing.first else { return }
        let which =
            first.signingKey == nil
            ? (first.encryptionKey == nil ? "neither signingKey nor encryptionKey" : "no signingKey")
            : "no encryptionKey"
        throw TopologyError(
            .missingKeys,
            """
            node \(first.id) (\(first.name)) has \
            \(which)\(missing.count > 1 ? " (nor do \(missing.count - 1) other node(s))" : ""); add the public \
            keys printed by `lienthong init` on that node, or provision the network
            """,
            node: first.id)
    }

    static func checkNetwork(_ network: String) throws {
        let b = Array(network.utf8)
        guard !b.isEmpty, b.count <= maxNetworkLength,
            b.allSatisfy({ c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
            })
        else {
            throw TopologyError(
                .badNetwork,
                """
                network '\(Endpoint.printable(network))' must be 1 to \(maxNetworkLength) ASCII letters, \
                digits, '.', '-' or '_' (e.g. hoa-binh-2020)
                """
            )
        }
    }

    /// Names and notes are printed on operators' terminals: refuse control characters (escape
    /// sequences) and bidi overrides (text that displays differently from what it is).
    static func checkText(_ text: String, what: String, node: NodeID?, maxLength: Int) throws {
        let subject = node.map { "node \($0): \(what)" } ?? what
        let code: TopologyError.Code = node == nil ? .syntax : .badName
        guard !text.allSatisfy(\.isWhitespace) else {
            throw TopologyError(code, "\(subject) is empty", node: node)
        }
        guard text.count <= maxLength else {
            throw TopologyError(
                code, "\(subject) is \(text.count) characters long; at most \(maxLength) are allowed", node: node)
        }
        for s in text.unicodeScalars {
            let v = s.value
            if v < 0x20 || (0x7f...0x9f).contains(v) || (0x202a...0x202e).contains(v) || (0x2066...0x2069).contains(v) {
                throw TopologyError(
                    code,
                    "\(subject) contains the control character U+\(String(v, radix: 16, uppercase: true)); remove it",
                    node: node)
            }
        }
    }
}
