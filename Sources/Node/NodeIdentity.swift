import Envelope
import Foundation
import SodiumKit
import Topology

/// A node home loaded for work: its id, topology, settings and both key pairs.
///
/// Security note: holds the node's secret keys (in `SecretBytes`, zeroed on release); they are
/// used to sign, to open content keys and to authenticate links, and never written to logs or
/// to the control socket.
public struct NodeIdentity: Sendable {
    public let home: NodeHome
    public let id: NodeID
    /// The topology in force, replaced when a newer signed version is applied.
    public let liveTopology: LiveTopology
    /// The topology authority this node pins (`authority.pub`).
    public let authority: SigningPublicKey
    public let settings: NodeSettings
    /// The node's key pairs, rotated while it runs (`keys rotate`, then a topology pinning them).
    public let keys: NodeKeys
    /// The signing key in force.
    public var signingKeys: SigningKeyPair { keys.signing }
    /// The encryption key in force.
    public var boxKeys: BoxKeyPair { keys.box }
    /// The encryption keys of retired units merged into this node (`keys adopt`), by their id:
    /// what was sealed to them opens here.
    public let adoptedBoxKeys: [NodeID: BoxKeyPair]

    /// The topology in force now.
    public var topology: Topology { liveTopology.current }

    public init(home path: String) throws {
        let (home, config) = try NodeHome.open(path)
        self.home = home
        id = config.node
        settings = config.settings ?? NodeSettings()
        guard let authority = try home.pinnedAuthority() else {
            throw NodeError(
                .homeUnsigned,
                """
                \(path) pins no topology authority (\(home.authorityPath)); pin the province's with `lienthong \
                topology pin --home \(path) --authority-key KEY` and install a topology it signed (docs/TOPOLOGY.md)
                """)
        }
        self.authority = authority
        let signed = try Self.loadSigned(home.topologyPath, pinned: authority)
        let previous =
            FileManager.default.fileExists(atPath: home.previousTopologyPath)
            ? try? Self.loadSigned(home.previousTopologyPath, pinned: authority).topology : nil
        let topology = signed.topology
        // Down-routes survive a restart: forgetting one would route a failed-over child's
        // documents back to the parent that cannot reach it.
        let routes =
            FileManager.default.contents(atPath: home.routesPath).flatMap {
                try? JSONDecoder().decode([String: LiveTopology.Route].self, from: $0)
            } ?? [:]
        liveTopology = LiveTopology(
            topology, signed: signed.bytes, previous: previous,
            routes: Dictionary(uniqueKeysWithValues: routes.compactMap { k, v in (try? NodeID(k)).map { ($0, v) } }))
        guard topology[id] != nil else {
            throw NodeError(.homeNotInTopology, "this node (\(id)) is not in its own topology \(home.topologyPath)")
        }
        keys = try NodeKeys(home: home)
        adoptedBoxKeys = try Self.loadAdopted(home.adoptedKeysPath)
        // Read-only here (any CLI loads a home): keys the topology pins that this node holds
        // neither in force nor pending are refused; the daemon completes a rotation (`NodeRuntime`).
        if let me = topology[id], !keys.holds(me) {
            throw NodeError(
                .homeKeyMismatch,
                """
                the topology pins other keys for \(id) than this node holds (in force, or pending from `keys \
                rotate`); the keys or the topology were replaced
                """)
        }
    }

    /// The keys in `keys/adopted/` (`ID.box.key`, 0600 like the node's own); none when absent.
    static func loadAdopted(_ dir: String) throws -> [NodeID: BoxKeyPair] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [:] }
        var keys: [NodeID: BoxKeyPair] = [:]
        for name in names.sorted() where name.hasSuffix(".box.key") {
            let id = try NodeID(String(name.dropLast(".box.key".count)))
            keys[id] = try BoxKeyPair(keyFile: dir + "/" + name)
        }
        return keys
    }

    /// The recipient this node opens `header` as, with its key: itself when it is named, else a
    /// retired unit merged into it whose key it adopted; nil when it can open it as neither.
    public func recipientKeys(for header: EnvelopeHeader) -> (NodeID, BoxKeyPair)? {
        let named = header.recipientIDs
        if named.contains(id) { return (id, boxKeys) }
        for r in named where topology.successor(of: r) == id {
            if let keys = adoptedBoxKeys[r] { return (r, keys) }
        }
        return nil
    }

    /// The same with every key to try: this node's in force, then those a rotation retired.
    public func openingKeys(for header: EnvelopeHeader) -> (NodeID, [BoxKeyPair]) {
        guard let (recipient, key) = recipientKeys(for: header) else { return (id, keys.openingKeys) }
        return recipient == id ? (id, keys.openingKeys) : (recipient, [key])
    }

    /// A signed topology file checked against the pinned authority, the file named in errors.
    public static func loadSigned(_ path: String, pinned: SigningPublicKey) throws -> SignedTopology {
        let bytes = try Topology.readFile(path, limit: Topology.maxFileSize * 2)
        do {
            return try SignedTopology.decode(bytes, pinned: pinned)
        } catch let e as TopologyError {
            throw TopologyError(e.code, "\(path): \(e.message)", node: e.node, cause: e.cause)
        }
    }

    public var name: String { topology[id]?.name ?? id.rawValue }
}

/// Guesses a media type from a file name, for attached files.
public enum MediaType {
    public static func guess(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "pdf": "application/pdf"
        case "txt", "md": "text/plain; charset=utf-8"
        case "doc": "application/msword"
        case "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case "xml": "application/xml"
        case "json": "application/json"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        default: "application/octet-stream"
        }
    }
}
