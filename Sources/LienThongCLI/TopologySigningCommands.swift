import ArgumentParser
import Envelope
import Foundation
import Node
import SodiumKit
import Topology

/// `lienthong topology sign|pin|install|show`: signed, versioned topologies (docs/TOPOLOGY.md
/// §Signed topologies).
extension TopologyCommand {
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a topology a version and sign it with the authority's key.",
            discussion: """
                The version must be higher than the one in force for nodes to apply it. \
                Example:
                  lienthong topology sign hoa-binh-2025.json --authority /secure/authority \\
                    --version 2 --out hoa-binh-2025.signed.json
                """)
        @Argument(help: ArgumentHelp("The topology file (JSON), with every node's keys.", valueName: "FILE"))
        var file: String
        @Option(help: ArgumentHelp("The authority's directory (authority init).", valueName: "DIR"))
        var authority: String
        @Option(help: "The version, a whole number above the one in force.") var version: Int
        @Option(help: ArgumentHelp("The signed file to write.", valueName: "FILE")) var out: String

        func run() throws {
            let key = try Authority.load(authority)
            let topology = try Topology.load(path: file, requireKeys: true).settingVersion(version)
            try NodeHome.write(try SignedTopology.sign(topology, authority: key), to: out)
            print(
                "Signed version \(version) of network \(topology.network) (\(topology.nodes.count) nodes) into \(out)")
            print("Authority fingerprint: \(key.publicKey.fingerprint)")
        }
    }

    struct Pin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pin the topology authority's key in a node home (migrating a home made before signing).",
            discussion: """
                Then install a topology it signed with `lienthong topology install`. \
                Example:
                  lienthong topology pin --authority-key /media/usb/authority.pub
                """)
        @OptionGroup var home: HomeOptions
        @Option(help: ArgumentHelp("The authority's public key: base64, or a file holding it.", valueName: "KEY"))
        var authorityKey: String

        func run() throws {
            let (h, _) = try NodeHome.open(home.home)
            let key = try Authority.publicKey(authorityKey)
            try h.pinAuthority(key)
            print("Pinned topology authority \(key.fingerprint) in \(h.path).")
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install a signed topology in a stopped node's home (a running node: topology publish).",
            discussion: """
                Checked like an update: signed by the pinned authority, valid, naming this node with \
                its keys. Example:
                  lienthong topology install hoa-binh.signed.json
                """)
        @OptionGroup var home: HomeOptions
        @Argument(help: ArgumentHelp("The signed topology file.", valueName: "FILE")) var file: String

        func run() throws {
            let (h, config) = try NodeHome.open(home.home)
            guard let pinned = try h.pinnedAuthority() else {
                throw NodeError(
                    .homeUnsigned, "\(h.path) pins no topology authority; run `lienthong topology pin` first")
            }
            let signed = try NodeIdentity.loadSigned(file, pinned: pinned)
            guard signed.topology[config.node] != nil else {
                throw TopologyError(.nodeMissing, "\(file) does not name this node (\(config.node))")
            }
            try NodeHome.write(signed.bytes, to: h.topologyPath)
            print("Installed version \(signed.topology.version) of network \(signed.topology.network) in \(h.path).")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The topology in force in a node home: version, authority, this node's place in the tree.")
        @OptionGroup var home: HomeOptions
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() throws {
            let (h, config) = try NodeHome.open(home.home)
            guard let pinned = try h.pinnedAuthority() else {
                throw NodeError(.homeUnsigned, "\(h.path) pins no topology authority; run `lienthong topology pin`")
            }
            let t = try NodeIdentity.loadSigned(h.topologyPath, pinned: pinned).topology
            let me = config.node
            if json {
                struct Out: Encodable {
                    let network: String, version: Int, nodes: Int, authority: String, node: String
                    let parents: [String], children: [String]
                }
                let out = Out(
                    network: t.network, version: t.version, nodes: t.nodes.count, authority: pinned.fingerprint,
                    node: me.rawValue, parents: t.parents(of: me).map(\.rawValue),
                    children: t.children(of: me).map(\.rawValue))
                print(String(decoding: try NodeHome.json(out), as: UTF8.self), terminator: "")
                return
            }
            print("Network \(t.network), version \(t.version), \(t.nodes.count) nodes")
            print("Authority \(pinned.fingerprint)")
            print("This node \(me) (\(t[me]?.name ?? "?"))")
            print("  parents:  \(t.parents(of: me).map(\.rawValue).joined(separator: ", "))")
            print("  children: \(t.children(of: me).count)")
        }
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand a signed topology to the running node: it applies it and passes it to every neighbour.",
            discussion: """
                Each node checks the signature and that the version is newer, applies it without a \
                restart, moves its queued envelopes to their new routes, and passes it on once. \
                Example:
                  lienthong topology publish hoa-binh-2025.signed.json
                """)
        @OptionGroup var node: NodeAccess
        @Argument(help: ArgumentHelp("The signed topology file.", valueName: "FILE")) var file: String

        func run() throws {
            guard
                case .topologyApplied(let version, let neighbours) = try node.perform(
                    .topologyPublish(file: NodeAccess.absolute(file)))
            else { throw CLIError(.controlUnexpected, "unexpected answer to topology publish") }
            print("Topology version \(version) in force; passed on to \(neighbours) neighbour(s).")
        }
    }
}
