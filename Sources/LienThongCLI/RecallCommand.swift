import ArgumentParser
import Control
import Foundation

/// `lienthong recall ID --reason TEXT`: the sender recalls a document (status 13, Decree 30/2020
/// Phụ lục VI); each recipient's clerk answers 15 (agree: the content is destroyed) or 16.
struct RecallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall",
        abstract: "Recall (13 thu hồi) a document this node sent, from every recipient.",
        discussion: """
            Each recipient's clerk answers with `lienthong inbox recall accept|reject ID`: 15 (agreed; the \
            content is destroyed there, its metadata kept) or 16 (refused). `lienthong track ID` shows the answers.
            Example:
              lienthong recall 3fa2c1 --home ./tinh-uy \\
                --reason "Ban hành nhầm, sẽ gửi văn bản thay thế"
            """)

    @OptionGroup var node: NodeAccess
    @Argument(help: ArgumentHelp("Envelope id or a unique prefix of a document this node sent.", valueName: "ID"))
    var id: String
    @Option(help: "Why the document is recalled; the recipients' clerks read it.") var reason: String

    func run() throws {
        guard case .recalled(let n) = try node.perform(.recall(id: id, reason: reason)) else {
            throw CLIError(.controlUnexpected, "unexpected answer to recall")
        }
        print("Recall (13) on its way to \(n) recipient(s); follow the answers with `lienthong track \(id)`.")
    }
}
