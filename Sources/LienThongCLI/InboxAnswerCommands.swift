import ArgumentParser
import Control
import Foundation

/// `lienthong inbox status ID --edxml FILE` and `lienthong inbox recall accept|reject ID`: the
/// answers that come from an e-office system's status package or from a recall.
extension InboxCommand {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a status package (gói tin trạng thái) from this agency's e-office software.",
            discussion: "Its ResponseFor must name the document; 02–06 are applied as the clerk's status, 15/16 as "
                + "the answer to a recall. Example: lienthong inbox status 3fa2c1 --edxml trang-thai-03.edxml")
        @OptionGroup var node: NodeAccess
        @Argument(help: ArgumentHelp("Envelope id or a unique prefix.", valueName: "ID")) var id: String
        @Option(help: ArgumentHelp("The status package.", valueName: "FILE")) var edxml: String

        func run() throws {
            guard
                case .statusChanged(let changed) = try node.perform(
                    .inboxStatusEdXML(id: id, file: NodeAccess.absolute(edxml)))
            else {
                throw CLIError(.controlUnexpected, "unexpected answer")
            }
            print(
                changed
                    ? "Status recorded; the receipt is on its way to the sender."
                    : "Unchanged: the document is already at or past that status (statuses only move forward).")
        }
    }

    struct Recall: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer the sender's recall (13): accept (15, the content is destroyed) or reject (16).",
            subcommands: [Agree.self, Refuse.self])

        struct Agree: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "accept", abstract: "15: agree to the recall; the document's content is destroyed here.")
            @OptionGroup var node: NodeAccess
            @Argument(help: ArgumentHelp("Envelope id or a unique prefix.", valueName: "ID")) var id: String
            @Option(help: "A note for the sender.") var reason: String?
            func run() throws { try answer(node, id, accept: true, reason: reason) }
        }

        struct Refuse: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "reject", abstract: "16: refuse the recall; the document stays as it is.")
            @OptionGroup var node: NodeAccess
            @Argument(help: ArgumentHelp("Envelope id or a unique prefix.", valueName: "ID")) var id: String
            @Option(help: "Why the recall is refused; the sender sees it.") var reason: String
            func run() throws { try answer(node, id, accept: false, reason: reason) }
        }

        static func answer(_ node: NodeAccess, _ id: String, accept: Bool, reason: String?) throws {
            guard case .statusChanged = try node.perform(.inboxRecall(id: id, accept: accept, reason: reason)) else {
                throw CLIError(.controlUnexpected, "unexpected answer")
            }
            print(
                accept
                    ? "15 đồng ý thu hồi recorded: the content is destroyed, "
                        + "the metadata kept; the sender is told."
                    : "16 từ chối thu hồi recorded; the sender is told.")
        }
    }
}
