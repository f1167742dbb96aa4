import ArgumentParser
import Foundation
import Node
import SodiumKit

/// `lienthong keys …`: the node's public keys.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Show this node's public keys.",
        subcommands: [Show.self])

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
