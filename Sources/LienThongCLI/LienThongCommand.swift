import ArgumentParser
/// LienThongCLI: the `lienthong` operator command.
///
/// One file per command group (after swift-argument-parser's `Examples/math`): `init`, `keys`,
/// `topology`. Each `run()` is thin; the work is in the modules below.
///
/// Security note: the CLI reads operator-supplied paths and topology files (validated by the
/// Topology module) and creates key files; it prints public keys and fingerprints only, never a
/// secret key, and creates node homes owner-only (0700, keys 0600).
import Diagnostics
import Foundation
import Node

@available(macOS 10.15, *)
public struct LienThongCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lienthong",
        abstract: "LienThong: liên thông văn bản, store-and-forward exchange of official documents.",
        discussion: """
            Each agency runs one LienThong node (`lienthongd --home DIR`). This command sets a \
            node up, sends documents, reads the inbox, tracks receipts and steers the queues of \
            the running node through its control socket (or, with --offline, on its spool). \
            Start with `lienthong init`, or provision a test network with `lienthong topology provision`.
            """,
        version: LienThongVersion.string,
        subcommands: [
            InitCommand.self, KeysCommand.self, AuthorityCommand.self, TopologyCommand.self, RunCommand.self,
            SendCommand.self,
            InboxCommand.self,
            TrackCommand.self, RecallCommand.self, PeersCommand.self, StatusCommand.self, QueueCommand.self,
            AuditCommand.self, EnvelopeCommand.self, UserCommand.self, ConfigCommand.self, BackupCommand.self,
            RestoreCommand.self,
        ]
    )

    public init() {}
}

/// The node home every node-level command works on.
struct HomeOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The node's home directory (config, keys, topology); $LIENTHONG_HOME, else /var/lib/lienthong.",
            valueName: "DIR"))
    var home: String = ProcessInfo.processInfo.environment["LIENTHONG_HOME"] ?? "/var/lib/lienthong"
}

/// An error the CLI reports itself: a code, what went wrong and what to do.
struct CLIError: Error, CustomStringConvertible, LienThongError {
    enum Code: String, CaseIterable {
        case auditBroken = "AUDIT-BROKEN"
        case authorityExists = "AUTHORITY-EXISTS"
        case authorityMissing = "AUTHORITY-MISSING"
        case controlUnexpected = "CONTROL-UNEXPECTED"
        case initUnknownNode = "INIT-UNKNOWN-NODE"
        case keysAdopt = "KEYS-ADOPT"
        case inspectUnknownOrigin = "INSPECT-UNKNOWN-ORIGIN"
        case openUnknownOrigin = "OPEN-UNKNOWN-ORIGIN"
        case provisionNotEmpty = "PROVISION-NOT-EMPTY"
        case provisionPorts = "PROVISION-PORTS"
        case queueAmbiguous = "QUEUE-AMBIGUOUS"
        case queueConfirm = "QUEUE-CONFIRM"
        case queueNotFound = "QUEUE-NOT-FOUND"
        case recipientEmpty = "RECIPIENT-EMPTY"
        case recipientUnknown = "RECIPIENT-UNKNOWN"
        case sealNoKey = "SEAL-NO-KEY"
        case configMode = "CONFIG-MODE"
        case userName = "USER-NAME"
        case userPassword = "USER-PASSWORD"
        case userNotFound = "USER-NOT-FOUND"
    }

    let code: Code
    let message: String
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    var errorCode: String { code.rawValue }
    var description: String { report }
}
