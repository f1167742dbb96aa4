import ArgumentParser
import Foundation
import Node
import SodiumKit
import Spool
import Topology

/// `lienthong config show|check`: the settings in force and a check of a whole home, like
/// `postconf` and `postfix check`.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the settings in force, or check a node home without starting it.",
        subcommands: [Show.self, Check.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every setting with its value and where it comes from (default, node.json or environment).",
            discussion: "A setting is also read from LIENTHONG_ and its name in upper snake case, e.g. "
                + "LIENTHONG_RETENTION_DAYS=730; the environment wins over node.json.")
        @OptionGroup var home: HomeOptions
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() throws {
            let (_, config) = try NodeHome.open(home.home)
            let rows = NodeSettings.effective(
                config.settings ?? NodeSettings(),
                fromEnvironment: NodeSettings.environmentKeys(ProcessInfo.processInfo.environment))
            if json {
                let object = rows.map { ["key": $0.key, "value": $0.value, "source": $0.source] }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let width = rows.map(\.key.count).max() ?? 0
            for r in rows {
                print(r.key.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(r.value)  (\(r.source))")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check node.json, the keys and their modes, the topology and the spool; exit 1 on any problem.",
            discussion: "Safe while the daemon runs: it only reads.")
        @OptionGroup var home: HomeOptions

        func run() throws {
            var failed = 0
            func check(_ what: String, _ body: () throws -> String?) {
                do {
                    let detail = try body()
                    print("ok    \(what)" + (detail.map { ": \($0)" } ?? ""))
                } catch {
                    failed += 1
                    print("FAIL  \(what): \(error)")
                }
            }
            let path = home.home
            var opened: NodeHome?
            check("node.json and its settings") {
                let (h, config) = try NodeHome.open(path)
                opened = h
                return "node \(config.node.rawValue)"
            }
            guard let h = opened else { throw ExitCode(1) }
            check("home directory mode") { try Self.mode(h.path, allowed: 0o710) }
            check("keys directory mode") { try Self.mode(h.path + "/keys", allowed: 0o700) }
            check("signing key \(h.signingKeyPath)") {
                _ = try SigningKeyPair(keyFile: h.signingKeyPath)
                return try Self.mode(h.signingKeyPath, allowed: 0o600)
            }
            check("encryption key \(h.boxKeyPath)") {
                _ = try BoxKeyPair(keyFile: h.boxKeyPath)
                return try Self.mode(h.boxKeyPath, allowed: 0o600)
            }
            check("topology signed by the pinned authority, this node in it, its keys pinned") {
                let identity = try NodeIdentity(home: path)
                return """
                    version \(identity.topology.version), \(identity.topology.nodes.count) nodes, network \
                    \(identity.topology.network), authority \(identity.authority.fingerprint)
                    """
            }
            check("spool integrity") {
                _ = try Spool(path: h.spoolPath, integrityCheck: true)
                return try Self.mode(h.spoolPath, allowed: 0o600)
            }
            if failed > 0 { throw ExitCode(1) }
        }

        /// Refuses a file or directory that grants anything beyond `allowed`.
        static func mode(_ path: String, allowed: Int) throws -> String? {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let mode = (attributes[.posixPermissions] as? Int ?? 0) & 0o777
            guard mode & ~allowed == 0 else {
                throw CLIError(
                    .configMode,
                    "\(path) has mode \(String(mode, radix: 8)); make it \(String(allowed, radix: 8)) "
                        + "(chmod \(String(allowed, radix: 8)) \(path))")
            }
            return nil
        }
    }
}
