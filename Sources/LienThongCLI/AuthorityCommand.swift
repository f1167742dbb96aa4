import ArgumentParser
import Envelope
import Foundation
import Node
import SodiumKit
import Topology

/// `lienthong authority …`: the province's topology authority, the key that signs topologies.
struct AuthorityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authority",
        abstract: "The topology authority: the key that signs the province's topology.",
        subcommands: [Init.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the authority's key pair in a new directory.",
            discussion: """
                Run once, by the province's IT body, on a machine that is not a node. DIR gets \
                authority.key (secret, 0600: keep it offline and backed up) and authority.pub (give \
                it to every node: `lienthong init --authority-key` or `lienthong topology pin`).
                Example:
                  lienthong authority init --out /secure/lienthong-authority
                """)
        @Option(help: ArgumentHelp("Directory to create (must not hold an authority).", valueName: "DIR"))
        var out: String

        func run() throws {
            let key = try Authority.create(at: out)
            print("Authority key created in \(out).")
            print("Public key:   \(Base64.encode(key.publicKey.bytes))")
            print("Fingerprint:  \(key.publicKey.fingerprint)")
        }
    }
}

/// An authority directory: `authority.key` (secret) and `authority.pub`.
enum Authority {
    static func create(at dir: String) throws -> SigningKeyPair {
        let files = FileManager.default
        guard !files.fileExists(atPath: dir + "/authority.key") else {
            throw CLIError(.authorityExists, "\(dir) already holds an authority key; it is never overwritten")
        }
        try files.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o700)
        let key = SigningKeyPair()
        try key.write(to: dir + "/authority.key")
        try NodeHome.write(Array((Base64.encode(key.publicKey.bytes) + "\n").utf8), to: dir + "/authority.pub")
        return key
    }

    static func load(_ dir: String) throws -> SigningKeyPair {
        do { return try SigningKeyPair(keyFile: dir + "/authority.key") } catch {
            throw CLIError(
                .authorityMissing, "no authority key in \(dir) (\(error)); create one with `lienthong authority init`")
        }
    }

    /// A key given as base64 text or as a file holding it (authority.pub).
    static func publicKey(_ text: String) throws -> SigningPublicKey {
        if FileManager.default.fileExists(atPath: text), let data = FileManager.default.contents(atPath: text) {
            return try NodeHome.authorityKey(String(decoding: data, as: UTF8.self), source: text)
        }
        return try NodeHome.authorityKey(text, source: "--authority-key")
    }
}
