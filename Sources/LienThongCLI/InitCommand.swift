import ArgumentParser
import Envelope
import Foundation
import Node
import SodiumKit
import Topology

/// `lienthong init`: creates a node home with fresh keys.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node home: configuration, a copy of the topology, and new keys.",
        discussion: """
            Run once on the agency's computer. It creates DIR with the node's secret keys \
            (readable only by you) and prints the public keys: send those to the province IT \
            team so they can add them to the topology file.
            The node pins --authority-key, the province's topology authority: it will only run \
            with a topology that authority signed (install it with `lienthong topology install` \
            once your keys are in it).
            Example:
              lienthong init --node 000.00.01.H27 --topology Topology/hoa-binh.json \\
                --authority-key authority.pub --home /var/lib/lienthong
            """)

    @Option(help: ArgumentHelp("This node's id, as written in the topology (e.g. 000.00.01.H27).", valueName: "ID"))
    var node: String

    @Option(help: ArgumentHelp("The province topology file (JSON).", valueName: "FILE"))
    var topology: String

    @Option(help: ArgumentHelp("The topology authority's public key: base64, or a file holding it.", valueName: "KEY"))
    var authorityKey: String?

    @OptionGroup var home: HomeOptions

    func run() throws {
        let id = try NodeID(node)
        let pinned = try authorityKey.map(Authority.publicKey)
        let fileBytes = try Topology.readFile(topology, limit: Topology.maxFileSize * 2)
        // A signed topology (checked against the key being pinned) or the plain template.
        let topo =
            try SignedTopology.looksSigned(fileBytes)
            ? SignedTopology.decode(
                fileBytes, pinned: try pinned ?? { throw ValidationError("a signed topology needs --authority-key") }(),
                requireKeys: false
            ).topology
            : Topology.load(path: topology)
        guard let entry = topo[id] else {
            throw CLIError(
                .initUnknownNode,
                "node \(id) is not in \(topology); check the id with `lienthong topology validate \(topology)`")
        }
        let bytes = SignedTopology.looksSigned(fileBytes) ? fileBytes : try topo.encoded()
        let (h, sign, box) = try NodeHome.create(at: home.home, node: id, topologyBytes: bytes)
        if let pinned { try h.pinAuthority(pinned) }
        print("Created node home \(h.path) for \(id) (\(entry.name)).")
        print(
            """
            Signing key (Ed25519):    \(Base64.encode(sign.publicKey.bytes))  fingerprint \
            \(sign.publicKey.fingerprint)
            """
        )
        print(
            "Encryption key (X25519):  \(Base64.encode(box.publicKey.bytes))  fingerprint \(box.publicKey.fingerprint)")
        print("Send \(h.publicKeysPath) to the province IT team to have these keys added to the topology.")
    }
}
