import Envelope
import Foundation
import SodiumKit

/// A topology signed by the province's topology authority (`lienthong authority init`): the
/// network's root of trust, versioned, so it can change while the network runs
/// (docs/TOPOLOGY.md §Signed topologies).
///
/// ```json
/// {"format": "lienthong-signed-topology-v1", "authority": "…base64 Ed25519 public key…",
///  "topology": "…base64 of the topology file's exact bytes…", "signature": "…base64…"}
/// ```
///
/// The signature is over a domain label and the exact bytes of the inner file, so nothing has to
/// be canonicalised, and a signature made for anything else never verifies as a topology's.
///
/// Security note: `decode` takes files and network payloads from anywhere: the size is checked
/// before parsing, the wrapper's fields strictly, the signature against the **pinned** key (the
/// wrapper's own `authority` field is only compared, never trusted), and only then is the inner
/// topology decoded and validated like any topology file.
public struct SignedTopology: Sendable {
    public static let format = "lienthong-signed-topology-v1"
    static let label = Array("lienthong-topology-signature-v1\u{0}".utf8)

    /// The validated topology.
    public let topology: Topology
    /// The whole signed file, as received (what is stored and passed on).
    public let bytes: [UInt8]
    /// The key that signed it.
    public let authority: SigningPublicKey

    /// Signs `topology` (with its version set) by `authority`; returns the signed file's bytes.
    public static func sign(_ topology: Topology, authority: SigningKeyPair) throws -> [UInt8] {
        let inner = try topology.encoded()
        let signature = authority.sign(label + inner)
        let object: [String: String] = [
            "format": format, "authority": Base64.encode(authority.publicKey.bytes), "topology": Base64.encode(inner),
            "signature": Base64.encode(signature),
        ]
        var out = "{\n"
        for (i, key) in ["format", "authority", "topology", "signature"].enumerated() {
            out += "  \"\(key)\": \"\(object[key]!)\"" + (i < 3 ? ",\n" : "\n")
        }
        return Array((out + "}\n").utf8)
    }

    /// True when `bytes` look like a signed topology (its format marker), before any checking.
    public static func looksSigned(_ bytes: [UInt8]) -> Bool {
        bytes.count <= Topology.maxFileSize * 2
            && ((try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any])?["format"] as? String
                == format
    }

    /// Verifies `bytes` against the pinned authority and decodes the topology inside.
    public static func decode(
        _ bytes: [UInt8], pinned: SigningPublicKey, requireKeys: Bool = true
    ) throws
        -> SignedTopology
    {
        guard bytes.count <= Topology.maxFileSize * 2 else {
            throw TopologyError(.tooLarge, "a signed topology is at most \(Topology.maxFileSize * 2) bytes")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw TopologyError(.syntax, "a signed topology is a JSON object; this is not JSON")
        }
        guard object["format"] as? String == format else {
            throw TopologyError(
                .unsigned,
                """
                this is not a signed topology (format "\(format)"); have the province's topology authority sign \
                it with `lienthong topology sign`
                """)
        }
        let unknown = Set(object.keys).subtracting(["format", "authority", "topology", "signature"])
        guard unknown.isEmpty else {
            throw TopologyError(
                .syntax, "a signed topology has unknown fields: \(unknown.sorted().joined(separator: ", "))")
        }
        guard let authorityText = object["authority"] as? String, let authorityBytes = Base64.decode(authorityText),
            let authority = try? SigningPublicKey(bytes: authorityBytes)
        else { throw TopologyError(.syntax, "a signed topology's \"authority\" is not an Ed25519 public key") }
        guard let innerText = object["topology"] as? String, let inner = Base64.decode(innerText),
            let signatureText = object["signature"] as? String, let signature = Base64.decode(signatureText),
            signature.count == SigningKeyPair.signatureByteCount
        else { throw TopologyError(.syntax, "a signed topology needs base64 \"topology\" and \"signature\" fields") }
        guard authority == pinned else {
            throw TopologyError(
                .wrongAuthority,
                """
                signed by the authority \(authority.fingerprint), but this node pins \(pinned.fingerprint); \
                only a topology from the pinned authority is loaded
                """)
        }
        guard pinned.isValidSignature(signature, for: label + inner) else {
            throw TopologyError(
                .badSignature, "the topology's signature does not verify: it was altered after signing, or is forged")
        }
        let topology = try Topology.decode(inner, requireKeys: requireKeys)
        guard topology.version > 0 else {
            throw TopologyError(.syntax, "a signed topology must carry a version (`topology sign --version N`)")
        }
        return SignedTopology(topology: topology, bytes: bytes, authority: authority)
    }
}

/// The topology in force in a running node, shared by the link, the gate and the operations,
/// replaced whole when a newer signed version is applied. The one before it is kept, so a
/// neighbour that has not heard of the change yet (a commune whose parent moved) is still let in
/// to receive it. `current` is the signed topology with the down-routes in force (`routes`): a
/// child that failed over to another of its parents is routed through that parent.
public final class LiveTopology: Sendable {
    /// Where a child is attached now, and when that was announced (ms; the newest wins).
    public struct Route: Sendable, Equatable, Codable {
        public var parent: NodeID
        public var at: Int64
        public init(parent: NodeID, at: Int64) {
            self.parent = parent
            self.at = at
        }
    }
    private struct State {
        var signedTopology: Topology
        var current: Topology
        var signed: [UInt8]?
        var previous: Topology?
        var routes: [NodeID: Route] = [:]
    }
    private let state: Locked<State>

    public init(
        _ topology: Topology, signed: [UInt8]? = nil, previous: Topology? = nil, routes: [NodeID: Route] = [:]
    ) {
        let routes = routes.filter { topology.parents(of: $0.key).contains($0.value.parent) }
        state = Locked(
            State(
                signedTopology: topology, current: topology.routing(routes.mapValues(\.parent)), signed: signed,
                previous: previous, routes: routes))
    }

    /// The topology in force, with the down-routes applied.
    public var current: Topology { state.withLock { $0.current } }
    /// The topology as the authority signed it, without down-routes.
    public var signedTopology: Topology { state.withLock { $0.signedTopology } }
    /// The signed file of the topology in force (nil for an unsigned one).
    public var signed: [UInt8]? { state.withLock { $0.signed } }
    /// The topology before the last change, if any.
    public var previous: Topology? { state.withLock { $0.previous } }
    /// The latest announced attachment of each child that has failed over (a child back at its
    /// primary parent keeps its entry, naming that parent).
    public var routes: [NodeID: Route] { state.withLock { $0.routes } }

    /// Puts `topology` in force; the one it replaces becomes `previous`. Down-routes the new
    /// tree no longer allows are dropped.
    public func replace(with topology: Topology, signed: [UInt8]) {
        state.withLock {
            $0.previous = $0.signedTopology
            $0.signedTopology = topology
            $0.routes = $0.routes.filter { topology.parents(of: $0.key).contains($0.value.parent) }
            $0.current = topology.routing($0.routes.mapValues(\.parent))
            $0.signed = signed
        }
    }

    /// Records that `child` is attached to `parent` now (announced at `at`): routed through it,
    /// or back along the signed tree when it is the child's primary parent. Ignored (false) when
    /// `parent` is not one of the child's parents or an announcement as new or newer is in force.
    public func attach(_ child: NodeID, to parent: NodeID, at: Int64) -> Bool {
        state.withLock { s in
            let parents = s.signedTopology.parents(of: child)
            guard parents.contains(parent), (s.routes[child]?.at ?? Int64.min) < at else { return false }
            // Kept when it is the primary too: an older announcement arriving late changes nothing.
            s.routes[child] = Route(parent: parent, at: at)
            s.current = s.signedTopology.routing(s.routes.mapValues(\.parent))
            return true
        }
    }

    /// True when `peer` may hold a link with `me`: a neighbour now, or one under the previous
    /// topology (so it can be told of the change and hand over what it holds).
    public func mayLink(_ me: NodeID, _ peer: NodeID) -> Bool {
        state.withLock { s in
            s.signedTopology.areNeighbours(me, peer) || (s.previous?.areNeighbours(me, peer) ?? false)
        }
    }

    /// The key a peer authenticates with: from the current topology, else the previous one.
    public func signingKey(of peer: NodeID) -> SigningPublicKey? {
        state.withLock { $0.current[peer]?.signingKey ?? $0.previous?[peer]?.signingKey }
    }

    /// Every key a peer may authenticate with at `now`, the one pinned now first: its key in
    /// the current topology and, during a rotation's grace period, its previous one; for a node
    /// the current topology no longer has, its key in the previous topology. Empty for a stranger.
    public func signingKeys(of peer: NodeID, now: Int64) -> [SigningPublicKey] {
        state.withLock { s in
            if let node = s.current[peer] { return node.signingKeys(signedAt: now, checkedAt: now) }
            return s.previous?[peer]?.signingKey.map { [$0] } ?? []
        }
    }
}
