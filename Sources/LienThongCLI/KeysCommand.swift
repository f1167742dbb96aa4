import ArgumentParser
import Foundation
import Node
import SodiumKit
import Topology

/// `lienthong keys …`: the node's public keys.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Show this node's public keys; rotate them; adopt a retired unit's encryption key.",
        subcommands: [Show.self, Rotate.self, Adopt.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the node's public signing and encryption keys with their fingerprints.",
            discussion: "Read a fingerprint aloud over the phone to check a key another office received.")

        @OptionGroup var home: HomeOptions
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() throws {
            let (h, config) = try NodeHome.open(home.home)
            // Loading the secret keys also checks their permissions and that they are intact.
            let sign = try SigningKeyPair(keyFile: h.signingKeyPath)
            let box = try BoxKeyPair(keyFile: h.boxKeyPath)
            if json {
                struct Out: Encodable {
                    let node: String, signingKey: String, signingFingerprint: String, encryptionKey: String,
                        encryptionFingerprint: String
                }
                let out = Out(
                    node: config.node.rawValue, signingKey: Base64.encode(sign.publicKey.bytes),
                    signingFingerprint: sign.publicKey.fingerprint, encryptionKey: Base64.encode(box.publicKey.bytes),
                    encryptionFingerprint: box.publicKey.fingerprint)
                print(String(decoding: try NodeHome.json(out), as: UTF8.self), terminator: "")
            } else {
                print("Node:                     \(config.node)")
                print("Signing key (Ed25519):    \(Base64.encode(sign.publicKey.bytes))")
                print("  fingerprint             \(sign.publicKey.fingerprint)")
                print("Encryption key (X25519):  \(Base64.encode(box.publicKey.bytes))")
                print("  fingerprint             \(box.publicKey.fingerprint)")
            }
        }
    }
}

extension KeysCommand {
    /// `lienthong keys adopt --from RETIRED-HOME`: the successor of a merged unit takes its
    /// encryption key, so what was (and still is) sealed to it opens here.
    struct Adopt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take the encryption key of a unit that will be merged into this node.",
            discussion: """
                Run it on the successor before the authority publishes the topology in which the \
                retired unit has "mergedInto": this node. The key is checked against the topology in \
                force, copied into keys/adopted/ (0600) and used after the node restarts. The retired \
                unit's signing key is not taken: it signs nothing after the merge.
                """)

        @OptionGroup var home: HomeOptions
        @Option(help: "The retired unit's node home (or a copy of it, with keys/box.key).")
        var from: String

        func run() throws {
            let (h, config) = try NodeHome.open(home.home)
            let (retired, retiredConfig) = try NodeHome.open(from)
            let id = retiredConfig.node
            guard id != config.node else {
                throw CLIError(.keysAdopt, "\(from) is this node's own home; give the retired unit's home")
            }
            let keys = try BoxKeyPair(keyFile: retired.boxKeyPath)
            let topology = try NodeIdentity.loadSigned(h.topologyPath, pinned: try pinned(h)).topology
            guard let node = topology[id] else {
                throw CLIError(
                    .keysAdopt, "\(id) is not in this node's topology (version \(topology.version)); nothing adopted")
            }
            guard node.encryptionKey == keys.publicKey else {
                throw CLIError(
                    .keysAdopt,
                    """
                    the key in \(retired.boxKeyPath) is not the encryption key the topology pins for \(id); \
                    nothing adopted. Check that \(from) is that unit's home
                    """)
            }
            try FileManager.default.createDirectory(atPath: h.adoptedKeysPath, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: h.adoptedKeysPath)
            let path = h.adoptedKeysPath + "/\(id).box.key"
            guard !FileManager.default.fileExists(atPath: path) else {
                print("\(id)'s encryption key is already adopted (\(path))")
                return
            }
            try keys.write(to: path)
            print(
                """
                adopted the encryption key of \(id) (\(node.name)), fingerprint \(keys.publicKey.fingerprint)
                restart this node (systemctl restart lienthong) so that, once \(id) is merged into it, it opens \
                and answers for what is sealed to \(id)
                """)
        }

        private func pinned(_ h: NodeHome) throws -> SigningPublicKey {
            guard let key = try h.pinnedAuthority() else {
                throw CLIError(.keysAdopt, "\(h.path) pins no topology authority; pin one first (docs/TOPOLOGY.md)")
            }
            return key
        }
    }
}

extension KeysCommand {
    /// `lienthong keys rotate --home DIR`: new key pairs, waiting for the authority's topology.
    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make new key pairs for this node and print their public halves for the topology authority.",
            discussion: """
                The node keeps using its keys until a topology pinning the new ones arrives; then they come \
                into force without a restart. Give the printed keys to the authority, which sets them as this \
                node's signingKey and encryptionKey, the old signing key as previousSigningKey with a \
                previousKeyUntil (the grace period; leave both out to revoke a leaked key), signs and \
                publishes (docs/TOPOLOGY.md §Key rotation). Run again, it prints the same pending keys.
                """)

        @OptionGroup var home: HomeOptions
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() throws {
            let (h, config) = try NodeHome.open(home.home)
            let current = try SigningKeyPair(keyFile: h.signingKeyPath)
            let (sign, box, new) = try NodeKeys.rotate(home: h)
            if json {
                struct Out: Encodable {
                    let node: String, signingKey: String, encryptionKey: String, previousSigningKey: String,
                        signingFingerprint: String, encryptionFingerprint: String, new: Bool
                }
                let out = Out(
                    node: config.node.rawValue, signingKey: Base64.encode(sign.publicKey.bytes),
                    encryptionKey: Base64.encode(box.publicKey.bytes),
                    previousSigningKey: Base64.encode(current.publicKey.bytes),
                    signingFingerprint: sign.publicKey.fingerprint, encryptionFingerprint: box.publicKey.fingerprint,
                    new: new)
                print(String(decoding: try NodeHome.json(out), as: UTF8.self), terminator: "")
                return
            }
            print(new ? "New keys for \(config.node), waiting in \(h.nextKeysPath):" : "Pending keys (made earlier):")
            print("  \"signingKey\": \"\(Base64.encode(sign.publicKey.bytes))\"")
            print("      fingerprint \(sign.publicKey.fingerprint)")
            print("  \"encryptionKey\": \"\(Base64.encode(box.publicKey.bytes))\"")
            print("      fingerprint \(box.publicKey.fingerprint)")
            print("  \"previousSigningKey\": \"\(Base64.encode(current.publicKey.bytes))\" (the key in force now)")
            print(
                """
                Next: give these to the topology authority (read the fingerprints over the phone). This node \
                goes on with its current keys until a topology pinning the new ones reaches it.
                """)
        }
    }
}
