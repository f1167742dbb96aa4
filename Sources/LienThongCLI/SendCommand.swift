import ArgumentParser
import Foundation
import Control
import Node
import Topology

/// `lienthong send`: seal a document to recipients and hand it to the node (prints the id).
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a document: sealed for its recipients, signed by this node, queued towards them.",
        discussion: """
            Example: lienthong send --home ./tinh-uy --to-subtree 000.00.00.H27 --urgency khan \\
              --subject "Về tăng cường chuyển đổi số" --code-number 21 --code-notation CT/TU \\
              --document-type "Chỉ thị" --file chi-thi-21.pdf
            Prints the envelope id; follow it with `lienthong track ID`.
            """)

    @OptionGroup var node: NodeAccess
    @OptionGroup var document: DocumentOptions
    @Flag(help: "Send each --file as its own document (same recipients and metadata), all accepted at once.") var eachFile = false
    @Flag(help: "Print JSON for scripts.") var json = false

    func run() throws {
        let identity = try NodeIdentity(home: node.home.home)
        let d = document
        let recipients = try RecipientSelection.resolve(to: d.to, toSubtree: d.toSubtree, topology: identity.topology)
        let request = SendRequest(to: recipients.map(\.rawValue), urgency: d.urgency, expiresInMs: try DurationText.parseMilliseconds(d.expires),
                                  subject: d.subject, codeNumber: d.codeNumber, codeNotation: d.codeNotation, documentType: d.documentType,
                                  secrecy: d.secrecy, files: d.files.map(NodeAccess.absolute), eachFile: eachFile ? true : nil)
        guard case .sent(let report) = try node.perform(.send(request)) else { throw CLIError("CONTROL-UNEXPECTED", "unexpected answer to send") }
        if json {
            print(try Output.json(report), terminator: "")
        } else {
            for id in report.ids ?? [report.id] { print(id) }
            FileHandle.standardError.write(Data("Queued for \(report.recipients) recipient(s) via \(report.nextHops.isEmpty ? "this node's inbox" : report.nextHops.joined(separator: ", ")); \(report.payloadBytes) payload bytes.\n".utf8))
        }
    }
}
