import ArgumentParser
import Foundation
import Spool

/// `lienthong audit …`: the spool's hash-chained event log.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read and verify the audit log (every accept, hand-over, hold, release, delete…).",
        subcommands: [List.self, Verify.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the newest audit events, oldest first.")
        @OptionGroup var home: HomeOptions
        @Option(help: "How many events.") var limit: Int = 50
        @Option(help: ArgumentHelp("Only events of this envelope (id or prefix).", valueName: "ID")) var envelope:
            String?
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() throws {
            let node = try SpoolHome(home.home)
            let records = try node.spool.auditRecords(envelope: try envelope.map(node.resolve), limit: limit)
            if json {
                print(try QueueReport.json(records), terminator: "")
                return
            }
            for a in records {
                print(
                    """
                    #\(a.seq) \(QueueReport.timestamp(a.at)) \
                    \(a.event.rawValue)\(a.envelopeID.map { " " + $0.hex.prefix(16) } ?? "")\
                    \(a.peer.map { " peer=\($0)" } ?? "") \
                    by \(a.actor)\(a.detail.map { ": \($0)" } ?? "")
                    """
                )
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's hash chain end to end.",
            discussion: "Exits non-zero and names the first bad row if any row was edited, inserted or removed.")
        @OptionGroup var home: HomeOptions

        func run() throws {
            let node = try SpoolHome(home.home)
            let v = try node.spool.verifyAudit()
            guard v.ok else {
                throw CLIError(
                    .auditBroken,
                    """
                    audit log broken at row \(v.brokenAt ?? 0): \(v.problem ?? "unknown"); \(v.records) rows \
                    before it verify
                    """
                )
            }
            print("Audit log intact: \(v.records) events, hash chain verified end to end.")
        }
    }
}
