import ArgumentParser
import Control
import Foundation
import Node

/// `lienthong peers`: each parent and child link as the running node sees it.
struct PeersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "Link state per neighbour: connected since, last contact, backlog, bytes, backoff and next dial.")

    @OptionGroup var node: NodeAccess
    @Flag(help: "Print JSON for scripts.") var json = false

    func run() throws {
        guard case .peers(let peers) = try node.perform(.peers) else {
            throw CLIError(.controlUnexpected, "unexpected answer to peers")
        }
        if json {
            print(try Output.json(peers), terminator: "")
            return
        }
        let now = CLITime.nowMilliseconds()
        print(
            """
            \("PEER", padded: 16)\("ROLE", padded: 8)\("LINK", padded: 14)\("LAST SEEN", padded: 11)\
            \("BACKLOG", padded: 18)\("IN", padded: 11)\("OUT", padded: 11)NEXT \
            DIAL
            """
        )
        for p in peers {
            let link = p.connected ? "up " + Output.age(Output.span(now, p.connectedSince ?? now) / 1000) : "down"
            let seen = p.lastContact.map { Output.age(Output.span(now, $0) / 1000) + " ago" } ?? "never"
            let backlog = "\(p.backlogEntries) (\(Output.bytes(p.backlogBytes)))"
            let dial =
                p.nextDialAt.map {
                    "in " + Output.age(Output.span($0, now) / 1000)
                        + " (backoff \(Output.age((p.backoffMs ?? 0) / 1000)))"
                } ?? "-"
            let role = p.role == "failover-parent" ? "parent*" : p.role == "failover-child" ? "child*" : p.role
            let bytesIn = Output.bytes(p.bytesIn)
            let bytesOut = Output.bytes(p.bytesOut)
            print(
                """
                \(p.peer, padded: 16)\(role, padded: 8)\(link, padded: 14)\(seen, padded: 11)\(backlog, padded: 18)\
                \(bytesIn, padded: 11)\(bytesOut, padded: 11)\(dial)
                """
            )
        }
        // The neighbours above are those of this topology version.
        if case .status(let s) = try node.perform(.status), let version = s.topologyVersion {
            print("topology version \(version)")
        }
    }
}

/// `lienthong status`: the node at a glance.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Node id, uptime, queue totals by state, oldest entry, inbox and spool size.")

    @OptionGroup var node: NodeAccess
    @Flag(help: "Print JSON for scripts.") var json = false

    func run() throws {
        guard case .status(let s) = try node.perform(.status) else {
            throw CLIError(.controlUnexpected, "unexpected answer to status")
        }
        if json {
            print(try Output.json(s), terminator: "")
            return
        }
        print("Node \(s.node) (\(s.name))")
        print("  uptime    \(s.uptimeSeconds.map(Output.age) ?? "not running (read offline)")")
        let states = ["ready", "inflight", "deferred", "held", "quarantined"].map { "\($0) \(s.queueByState[$0] ?? 0)" }
            .joined(separator: ", ")
        print("  queue     \(s.queueTotal) entries: \(states)")
        print("  oldest    \(s.oldestEntryAgeSeconds.map(Output.age) ?? "-")")
        print("  inbox     \(s.inboxDocuments) document(s); sent and tracked: \(s.sentDocuments)")
        print("  spool     \(Output.bytes(s.spoolBytes))")
        print("  desk      \(s.desk ?? (s.uptimeSeconds == nil ? "-" : "not listening (see the daemon's log)"))")
        if let metrics = s.metrics { print("  metrics   \(metrics)") }
        if let version = s.topologyVersion { print("  topology  version \(version)") }
    }
}
