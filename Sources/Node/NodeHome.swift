import Envelope
import Foundation
import SodiumKit
import Topology

/// The files of a node home:
///
/// ```
/// DIR/               0710 (the group may reach control.sock, nothing else)
///   node.json        config: format, node id, topology file name
///   topology.json    the node's copy of the province topology
///   keys/            0700
///     sign.key       Ed25519 secret key, 0600
///     box.key        X25519 secret key, 0600
///     public.json    the public halves, to hand to the topology maintainer
/// ```
public struct NodeHome: Sendable {
    public static let configFormat = "lienthong-node-v1"

    public struct Config: Codable, Sendable {
        public var format: String
        public var node: NodeID
        public var topology: String
        /// Optional tuning (docs/OPERATIONS.md); absent means every documented default.
        public var settings: NodeSettings?
    }

    public let path: String
    public var configPath: String { path + "/node.json" }
    public var topologyPath: String { path + "/topology.json" }
    public var signingKeyPath: String { path + "/keys/sign.key" }
    public var boxKeyPath: String { path + "/keys/box.key" }
    public var publicKeysPath: String { path + "/keys/public.json" }
    /// Encryption keys of retired units this node answers for (`keys adopt`), one `ID.box.key` each.
    public var adoptedKeysPath: String { path + "/keys/adopted" }
    public var keysPath: String { path + "/keys" }
    /// New key pairs from `keys rotate`, waiting for a topology that pins them.
    public var nextKeysPath: String { path + "/keys/next" }
    /// Keys a rotation retired, kept while still needed (docs/TOPOLOGY.md §Key rotation).
    public var previousKeysPath: String { path + "/keys/previous" }

    /// Creates a new home with fresh keys. Refuses a directory that already holds a node.
    @discardableResult
    public static func create(
        at path: String, node: NodeID, topologyBytes: [UInt8],
        keys: (SigningKeyPair, BoxKeyPair)? = nil
    ) throws -> (NodeHome, SigningKeyPair, BoxKeyPair) {
        let home = NodeHome(path: path)
        let fm = FileManager.default
        guard !fm.fileExists(atPath: home.configPath) else {
            throw NodeError(
                .homeExists,
                "\(path) already holds a node (\(home.configPath)); choose another --home or remove it first")
        }
        do {
            try fm.createDirectory(atPath: path + "/keys", withIntermediateDirectories: true)
            // Group traverse only: operators in the daemon's group reach the 0660 control socket
            // by name; they cannot list the home, and the keys and the spool stay owner-only.
            try fm.setAttributes([.posixPermissions: 0o710], ofItemAtPath: path)
            try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path + "/keys")
        } catch {
            throw NodeError(.homeIo, "cannot create node home \(path): \(error.localizedDescription)")
        }
        let (sign, box) = keys ?? (SigningKeyPair(), BoxKeyPair())
        try sign.write(to: home.signingKeyPath)
        try box.write(to: home.boxKeyPath)
        try write(
            try json(
                PublicKeys(
                    node: node, signingKey: Base64.encode(sign.publicKey.bytes),
                    encryptionKey: Base64.encode(box.publicKey.bytes))), to: home.publicKeysPath)
        try write(topologyBytes, to: home.topologyPath)
        try write(
            try json(Config(format: configFormat, node: node, topology: "topology.json", settings: nil)),
            to: home.configPath)
        return (home, sign, box)
    }

    /// Opens an existing home, with a clear error when it is not one.
    public static func open(_ path: String) throws -> (NodeHome, Config) {
        let home = NodeHome(path: path)
        guard let data = FileManager.default.contents(atPath: home.configPath) else {
            throw NodeError(
                .homeMissing, "\(path) is not a LienThong node home (no node.json); create one with `lienthong init`")
        }
        var config: Config
        do { config = try JSONDecoder().decode(Config.self, from: data) } catch let error as NodeError {
            throw error  // a setting, named
        } catch {
            throw NodeError(.homeConfig, "\(home.configPath) is damaged: \(error)")
        }
        let environment = ProcessInfo.processInfo.environment
        if !NodeSettings.environmentKeys(environment).isEmpty {
            config.settings = try (config.settings ?? NodeSettings()).overlaid(with: environment)
        }
        guard config.format == configFormat else {
            throw NodeError(
                .homeConfig, "\(home.configPath) has format '\(config.format)', this version reads '\(configFormat)'")
        }
        return (home, config)
    }

    public struct PublicKeys: Codable {
        public var node: NodeID
        public var signingKey: String
        public var encryptionKey: String
    }

    public static func json<T: Encodable>(_ value: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try e.encode(value)) + [0x0a]
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw NodeError(.homeIo, "cannot write \(path): \(error.localizedDescription)")
        }
    }
}

extension NodeHome {
    /// The topology authority's public key this node pins (base64, one line).
    public var authorityPath: String { path + "/authority.pub" }
    /// The signed topology that was in force before the last update (former neighbours).
    public var previousTopologyPath: String { path + "/topology.previous.json" }
    /// Down-routes in force: which of its parents each failed-over child is attached to now.
    public var routesPath: String { path + "/routes.json" }

    /// The pinned authority key, or nil when the home pins none.
    public func pinnedAuthority() throws -> SigningPublicKey? {
        guard let data = FileManager.default.contents(atPath: authorityPath) else { return nil }
        return try Self.authorityKey(String(decoding: data, as: UTF8.self), source: authorityPath)
    }

    /// The topology in the home, without the secret keys: checked against the pinned authority.
    public func signedTopology() throws -> Topology {
        guard let pinned = try pinnedAuthority() else {
            throw NodeError(
                .homeUnsigned,
                """
                \(path) pins no topology authority; \
                pin it with `lienthong topology pin --home \(path) --authority-key KEY`
                """
            )
        }
        return try NodeIdentity.loadSigned(topologyPath, pinned: pinned).topology
    }

    /// Pins `key` (replacing any pinned one).
    public func pinAuthority(_ key: SigningPublicKey) throws {
        try Self.write(Array((Base64.encode(key.bytes) + "\n").utf8), to: authorityPath)
    }

    /// An authority key from its base64 text (as `authority init` prints it and `authority.pub` holds).
    public static func authorityKey(_ text: String, source: String) throws -> SigningPublicKey {
        guard let bytes = Base64.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? SigningPublicKey(bytes: bytes)
        else {
            throw NodeError(
                .homeConfig, "\(source) is not an Ed25519 public key in base64 (as `lienthong authority init` prints)")
        }
        return key
    }

    public var spoolPath: String { path + "/spool.sqlite" }
    /// The daemon's control socket (owner-only).
    public var controlSocketPath: String { path + "/control.sock" }
}
