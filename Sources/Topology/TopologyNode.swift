import Envelope
import SodiumKit

/// The administrative level of a node. Levels only get deeper going down the tree: a node is
/// never at a higher level than its parents (province bodies may sit under the province hub,
/// at the same level).
public enum NodeLevel: String, Sendable, Hashable, CaseIterable, Comparable, Codable {
    case province
    case district
    case commune
    /// Below a commune (thôn, bản, xóm, tổ dân phố), for provinces that go that far.
    case village

    /// 0 for the province, increasing downwards.
    public var rank: Int {
        switch self {
        case .province: 0
        case .district: 1
        case .commune: 2
        case .village: 3
        }
    }

    public static func < (a: NodeLevel, b: NodeLevel) -> Bool { a.rank < b.rank }
}

/// One node of the topology: an agency that runs a LienThong node.
///
/// The fields are plain values; whether they make a valid tree is checked when a `Topology` is
/// built from them (`Topology.init(network:note:nodes:requireKeys:)` or `Topology.decode`).
public struct TopologyNode: Sendable, Hashable {
    /// The agency code, unique in the topology.
    public var id: NodeID
    /// The display name, in Vietnamese with diacritics (e.g. "Xã Yên Mông").
    public var name: String
    public var level: NodeLevel
    /// Empty for the root. Otherwise the first entry is the primary parent, the one routes go
    /// through; any further entries are failover parents the node may dial when the primary
    /// parent is unreachable.
    public var parents: [NodeID]
    /// The GSO administrative-unit code this node stands for, when there is one (kept for
    /// cross-reference with official statistics; not used for routing).
    public var gso: String?
    /// Where the node accepts connections from its children. Nil for a node that only dials out
    /// (a commune behind NAT).
    public var endpoint: Endpoint?
    /// The node's Ed25519 identity key, pinned for link authentication and origin signatures.
    public var signingKey: SigningPublicKey?
    /// The node's X25519 key, to which content keys addressed to it are sealed.
    public var encryptionKey: BoxPublicKey?
    /// Set on a retired unit (the 2025 reorganisation: a district removed, three communes merged
    /// into one): the node that took over its work. Envelopes for a retired node are routed to
    /// its successor, which opens them with the retired node's encryption key (`keys adopt`) and
    /// answers for it. A retired node keeps its keys (its past signatures still verify) and its
    /// parents (a retired node still running hands on what it holds through them), but no node
    /// may have it as a parent.
    public var mergedInto: NodeID?
    /// The signing key this node used before its last rotation (`lienthong keys rotate`), with
    /// the end of its grace period (ms since the epoch): until then envelopes it signed with the
    /// old key are still carried, and it may still authenticate with it. A leaked key is revoked
    /// by leaving both out.
    public var previousSigningKey: SigningPublicKey?
    public var previousKeyUntil: Int64?

    public init(
        id: NodeID, name: String, level: NodeLevel, parents: [NodeID], gso: String? = nil,
        endpoint: Endpoint? = nil, signingKey: SigningPublicKey? = nil, encryptionKey: BoxPublicKey? = nil,
        mergedInto: NodeID? = nil
    ) {
        self.id = id
        self.name = name
        self.level = level
        self.parents = parents
        self.gso = gso
        self.endpoint = endpoint
        self.signingKey = signingKey
        self.encryptionKey = encryptionKey
        self.mergedInto = mergedInto
    }

    /// True for a unit merged into another (`mergedInto` set).
    public var isRetired: Bool { mergedInto != nil }

    /// The parent routes go through; nil for the root.
    public var primaryParent: NodeID? { parents.first }

    /// The parents after the first, tried when the primary parent cannot be reached.
    public var failoverParents: [NodeID] { Array(parents.dropFirst()) }

    /// The keys a signature of this node made at `signedAt` verifies with: its signing key, and
    /// the previous one for what was signed before its grace period ended. `checkedAt` is the
    /// transport's clock: an envelope in transit (or a link) is refused the old key once the
    /// grace period is over; a document opened later from the spool (`checkedAt` nil) is not.
    public func signingKeys(signedAt: Int64, checkedAt now: Int64?) -> [SigningPublicKey] {
        guard let key = signingKey else { return [] }
        guard let previous = previousSigningKey, let until = previousKeyUntil, signedAt < until,
            (now ?? Int64.min) < until
        else { return [key] }
        return [key, previous]
    }

    /// True when both public keys are present.
    public var hasKeys: Bool { signingKey != nil && encryptionKey != nil }
}
