import ArgumentParser
import Envelope
import Foundation
import Node
import SodiumKit
import Topology

/// `lienthong topology …`: check a topology file, show routes, provision test networks.
struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Check, sign, install and publish the province topology; show routes; provision a test network.",
        subcommands: [
            Validate.self, Route.self, Provision.self, Sign.self, Pin.self, Install.self, Show.self, Publish.self,
        ])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a topology file and summarise it (nodes per level, depth).",
            discussion:
                "Every error names the node at fault. Example: lienthong topology validate Topology/hoa-binh.json")

        @Argument(help: ArgumentHelp("The topology file (JSON).", valueName: "FILE")) var file: String
        @Flag(help: "Also require every node to have its public keys (as a running network does).") var requireKeys =
            false

        func run() throws {
            let t = try Topology.load(path: file, requireKeys: requireKeys)
            print("\(file): valid (network \(t.network))")
            print("  nodes:     \(t.nodes.count)")
            for (level, count) in t.countByLevel.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                print("  \(level.rawValue + ":", padded: 11)\(count)")
            }
            print("  depth:     \(t.maxDepth)")
            print("  root:      \(t.root.id) (\(t.root.name))")
            let keyed = t.nodes.filter { $0.signingKey != nil && $0.encryptionKey != nil }.count
            let listening = t.nodes.filter { $0.endpoint != nil }.count
            print("  with keys: \(keyed) of \(t.nodes.count); with an endpoint: \(listening)")
        }
    }

    struct Route: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the hop path a document takes from one node to another.",
            discussion:
                "Example: lienthong topology route Topology/hoa-binh.json --from 000.00.01.H27 --to 000.01.11.H27")

        @Argument(help: ArgumentHelp("The topology file (JSON).", valueName: "FILE")) var file: String
        @Option(help: ArgumentHelp("Sending node id.", valueName: "ID")) var from: String
        @Option(help: ArgumentHelp("Receiving node id.", valueName: "ID")) var to: String

        func run() throws {
            let t = try Topology.load(path: file)
            let path = try t.path(from: NodeID(from), to: NodeID(to))
            print("Route \(from) → \(to): \(path.count - 1) hop(s)")
            for (i, id) in path.enumerated() {
                let n = t[id]
                print(
                    """
                      \(i + 1). \(id.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \
                    \(n?.name ?? "?") (\(n?.level.rawValue ?? "?"))
                    """
                )
            }
        }
    }

    struct Provision: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a node home for every node of a topology, for demos and tests.",
            discussion: """
                Generates keys for every node, gives each node that has children a loopback \
                endpoint (127.0.0.1, ports from --base-port up), and writes DIR/topology.json with \
                every public key and endpoint filled in, plus DIR/<node id>/ for each node. The \
                topology is signed (version 1) by --authority, or by a new authority in \
                DIR/authority, whose key every home pins.
                Example:
                  lienthong topology provision Topology/small.json --out /tmp/net \\
                    --base-port 7100
                """)

        @Argument(help: ArgumentHelp("The topology file (JSON).", valueName: "FILE")) var file: String
        @Option(
            help: ArgumentHelp(
                "Directory to create the node homes in (must not exist yet, or be empty).", valueName: "DIR")) var out:
            String
        @Option(help: "First TCP port to give a listening node.") var basePort: Int = 7100
        @Option(help: "Address the listeners use (loopback by default).") var host: String = "127.0.0.1"
        @Option(
            help: ArgumentHelp(
                "The authority to sign with (a new one in DIR/authority if not given).", valueName: "DIR"))
        var authority: String?

        func validate() throws {
            guard (1...65_535).contains(basePort) else { throw ValidationError("--base-port must be 1…65535") }
        }

        func run() throws {
            let fm = FileManager.default
            if let entries = try? fm.contentsOfDirectory(atPath: out), !entries.isEmpty {
                throw CLIError(.provisionNotEmpty, "\(out) is not empty; provision into a new directory")
            }
            var t = try Topology.load(path: file)
            let listeners = t.nodes.filter { t.hasChildren($0.id) }
            guard basePort + listeners.count - 1 <= 65_535 else {
                throw CLIError(.provisionPorts, "\(listeners.count) listeners do not fit above port \(basePort)")
            }
            var keys: [NodeID: (SigningKeyPair, BoxKeyPair)] = [:]
            for n in t.nodes {
                let k = (SigningKeyPair(), BoxKeyPair())
                keys[n.id] = k
                t = t.settingKeys(for: n.id, signing: k.0.publicKey, encryption: k.1.publicKey)
            }
            for (i, n) in listeners.enumerated() {
                t = t.settingEndpoint(for: n.id, try Endpoint.parse("\(host):\(basePort + i)"))
            }
            t = try t.settingVersion(1)
            let bytes = try t.encoded()
            try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
            let signer = try authority.map(Authority.load) ?? Authority.create(at: out + "/authority")
            let signed = try SignedTopology.sign(t, authority: signer)
            try NodeHome.write(bytes, to: out + "/topology.json")
            try NodeHome.write(signed, to: out + "/topology.signed.json")
            for n in t.nodes {
                let (home, _, _) = try NodeHome.create(
                    at: out + "/" + n.id.rawValue, node: n.id, topologyBytes: signed, keys: keys[n.id])
                try home.pinAuthority(signer.publicKey)
            }
            print("Provisioned \(t.nodes.count) node homes in \(out) (network \(t.network)).")
            if let first = listeners.first, let last = listeners.last {
                print(
                    """
                    Listeners: \(listeners.count) nodes on \(host) ports \
                    \(basePort)…\(basePort + listeners.count - 1) (first \(first.id), last \(last.id)).
                    """
                )
            }
            print("Topology with every key and endpoint: \(out)/topology.json (signed: \(out)/topology.signed.json)")
        }
    }
}

extension DefaultStringInterpolation {
    /// Left-aligned padding for tables.
    mutating func appendInterpolation(_ s: String, padded width: Int) {
        appendLiteral(s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count))
    }
}
