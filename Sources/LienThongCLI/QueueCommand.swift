import ArgumentParser
import Control
import Envelope
import Foundation
import Node
import Spool
import Topology

/// `lienthong queue …`: the operator's view of the outbound queues (after Postfix's postqueue,
/// postsuper and qshape). Listing reads the spool (safe beside the running node: SQLite WAL);
/// hold, release, retry and delete go through the running node, or the spool with --offline.
struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Inspect and steer the outbound queues: list, show, hold, release, retry, delete, shape.",
        discussion: """
            Each envelope waiting to leave has one entry per next hop (peer). States: ready, \
            inflight, deferred (waiting to retry after a failure), held (stopped by an operator), \
            quarantined (refused for a permanent reason). IDs may be shortened to a unique prefix.
            """,
        subcommands: [List.self, Show.self, Hold.self, Release.self, Retry.self, Delete.self, Shape.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List queue entries, oldest first (like postqueue -p).")
        @OptionGroup var home: HomeOptions
        @Option(help: ArgumentHelp("Only entries for this peer.", valueName: "ID")) var peer: String?
        @Option(help: "Only entries in this state; partial: envelopes still being received from a peer.")
        var state: QueueStateFilter?
        @Option(help: "Only entries of this urgency.") var urgency: Urgency?
        @Flag(help: "Print JSON for scripts (fields in docs/OPERATIONS.md).") var json = false

        func run() throws {
            let node = try SpoolHome(home.home)
            if state == .partial {
                let partials = try node.spool.partialEnvelopes(peer: peer)
                let now = CLITime.nowMilliseconds()
                print(
                    json
                        ? try QueueReport.partialJSON(partials, now: now) : QueueReport.partialText(partials, now: now),
                    terminator: "")
                return
            }
            let entries = try node.spool.queueEntries(
                peer: peer.map(NodeID.init), state: state?.queueState,
                urgency: urgency)
            let now = CLITime.nowMilliseconds()
            print(
                json ? try QueueReport.listJSON(entries, now: now) : QueueReport.listText(entries, now: now),
                terminator: "")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one envelope: header, recipients, its queue entries and audit events.")
        @OptionGroup var home: HomeOptions
        @Argument(help: ArgumentHelp("Envelope id or a unique prefix of it.", valueName: "ID")) var id: String
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() throws {
            let node = try SpoolHome(home.home)
            let envelope = try node.resolve(id)
            guard let stored = try node.spool.storedEnvelope(envelope) else {
                throw CLIError(
                    .queueNotFound, "envelope \(id) is not in the spool (already handed on, or never received)")
            }
            let now = CLITime.nowMilliseconds()
            let view = try QueueReport.show(
                header: stored.header, chunksStored: stored.chunksStored, complete: stored.complete,
                entries: try node.spool.queueEntries(envelope: envelope),
                audit: try node.spool.auditRecords(envelope: envelope), now: now)
            print(
                json
                    ? try QueueReport.json(view)
                    : QueueReport.showText(view, now: now, names: { try? node.topology[NodeID($0)]?.name }),
                terminator: "")
        }
    }

    struct Hold: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop entries from being sent until released (like postsuper -h).")
        @OptionGroup var target: Target
        func run() throws {
            try target.apply(.hold)
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release held or quarantined entries (like postsuper -H).")
        @OptionGroup var target: Target
        func run() throws {
            try target.apply(.release)
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make deferred entries due now instead of after their backoff (like postqueue -i).")
        @OptionGroup var target: Target
        func run() throws {
            try target.apply(.retry)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete entries for good (like postsuper -d); asks first unless --yes.",
            discussion:
                """
                The deletion is recorded in the audit log with who and why. The recipients behind a deleted \
                entry will not get the document from this node.
                """
        )
        @OptionGroup var target: Target
        @Option(help: "Why (recorded in the audit log).") var reason: String = "deleted by operator"
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() throws {
            let node = try SpoolHome(target.home.home)
            let selector = try target.selector(node)
            let count = try node.count(selector)
            guard count > 0 else {
                print("No matching queue entries.")
                return
            }
            if !yes {
                guard isatty(0) != 0 else {
                    throw CLIError(
                        .queueConfirm,
                        "refusing to delete \(count) entr\(count == 1 ? "y" : "ies") without confirmation; add --yes")
                }
                print("Delete \(count) queue entr\(count == 1 ? "y" : "ies")? Type 'yes' to confirm: ", terminator: "")
                guard readLine()?.lowercased() == "yes" else {
                    print("Nothing deleted.")
                    return
                }
            }
            try target.apply(.delete, reason: reason)
        }
    }

    struct Shape: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue age shape per peer (like qshape): counts by age bucket, and the oldest entry.")
        @OptionGroup var home: HomeOptions
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() throws {
            let node = try SpoolHome(home.home)
            let now = CLITime.nowMilliseconds()
            let shape = QueueReport.shape(try node.spool.queueEntries(), now: now)
            print(json ? try QueueReport.json(shape) : QueueReport.shapeText(shape), terminator: "")
        }
    }

    /// IDs or --all, optionally one peer: what hold/release/retry/delete act on.
    struct Target: ParsableArguments {
        @OptionGroup var node: NodeAccess
        var home: HomeOptions { node.home }
        @Argument(help: ArgumentHelp("Envelope ids (or unique prefixes).", valueName: "ID")) var ids: [String] = []
        @Flag(help: "Every entry (of --peer, if given).") var all = false
        @Option(help: ArgumentHelp("Only entries for this peer.", valueName: "ID")) var peer: String?

        func validate() throws {
            guard all != !ids.isEmpty else {
                throw ValidationError("give envelope ids or --all, not both and not neither")
            }
        }

        func selector(_ node: SpoolHome) throws -> QueueSelector {
            let p = try peer.map(NodeID.init)
            return all ? .all(peer: p) : .envelopes(try ids.map(node.resolve), peer: p)
        }

        /// Through the running node (it acts at once), or on the spool with --offline.
        func apply(_ verb: QueueAction.Verb, reason: String? = nil) throws {
            let action = QueueAction(
                verb: verb, ids: ids, all: all, peer: peer, reason: reason, actor: SpoolHome.actor())
            guard case .queueChanged(let n) = try node.perform(.queue(action)) else {
                throw CLIError(.controlUnexpected, "unexpected answer")
            }
            let done =
                ["hold": "held", "release": "released", "retry": "due now", "delete": "deleted"][verb.rawValue]
                ?? verb.rawValue
            print("\(n) queue entr\(n == 1 ? "y" : "ies") \(done).")
        }
    }
}

/// A node home with its spool open, for the queue, audit and import commands.
struct SpoolHome {
    let home: NodeHome
    let config: NodeHome.Config
    let topology: Topology
    let spool: Spool

    init(_ path: String) throws {
        (home, config) = try NodeHome.open(path)
        topology = try home.signedTopology()
        spool = try Spool(path: home.spoolPath)
    }

    /// A full id, or a prefix matching exactly one envelope in the spool.
    func resolve(_ text: String) throws -> EnvelopeID {
        if text.count == 64 { return try EnvelopeID(hex: text) }
        let matches = try spool.envelopeIDs(matchingPrefix: text)
        switch matches.count {
        case 1: return matches[0]
        case 0: throw CLIError(.queueNotFound, "no envelope in the spool starts with \(text)")
        default: throw CLIError(.queueAmbiguous, "\(text) matches \(matches.count) envelopes; give more of the id")
        }
    }

    func count(_ selector: QueueSelector) throws -> Int {
        switch selector {
        case .all(let peer): return try spool.queueEntries(peer: peer).count
        case .envelopes(let ids, let peer):
            return try ids.reduce(0) {
                $0 + (try spool.queueEntries(peer: peer, envelope: $1).count)
                    + (try spool.partialEnvelopes(peer: peer?.rawValue, envelope: $1).count)
            }
        }
    }

    /// Who is acting, for the audit log: `operator:<login>`.
    static func actor() -> String {
        let login =
            ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        return "operator:\(login)"
    }
}
