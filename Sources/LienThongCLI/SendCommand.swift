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
    @Option(help: ArgumentHelp("Recipient node ids, comma-separated.", valueName: "ID[,ID…]")) var to: String?
    @Option(help: ArgumentHelp("Send to every node below this one in the tree.", valueName: "ID")) var toSubtree: String?
    @Option(help: "Urgency: thuong, khan, thuong-khan, hoa-toc, hoa-toc-hen-gio.") var urgency: String = "thuong"
    @Option(help: ArgumentHelp("How long until the document expires undelivered: e.g. 30m, 12h, 7d.", valueName: "DURATION")) var expires: String = "7d"
    @Option(help: "Trích yếu: what the document is about.") var subject: String
    @Option(help: "Số, e.g. 21.") var codeNumber: String?
    @Option(help: "Ký hiệu, e.g. CT/TU.") var codeNotation: String?
    @Option(help: "Loại văn bản, e.g. \"Chỉ thị\".") var documentType: String?
    @Option(help: "Độ mật: Thường (default). Mật, Tối mật and Tuyệt mật are refused by policy.") var secrecy: String = "Thường"
    @Option(name: .customLong("file"), help: ArgumentHelp("A file to attach (repeat for several).", valueName: "PATH")) var files: [String] = []
    @Flag(help: "Send each --file as its own document (same recipients and metadata), all accepted at once.") var eachFile = false
    @Flag(help: "Print JSON for scripts.") var json = false

    func run() throws {
        let identity = try NodeIdentity(home: node.home.home)
        let recipients = try RecipientSelection.resolve(to: to, toSubtree: toSubtree, topology: identity.topology)
        let request = SendRequest(to: recipients.map(\.rawValue), urgency: urgency, expiresInMs: try DurationText.parseMilliseconds(expires),
                                  subject: subject, codeNumber: codeNumber, codeNotation: codeNotation, documentType: documentType,
                                  secrecy: secrecy, files: files.map(NodeAccess.absolute), eachFile: eachFile ? true : nil)
        guard case .sent(let report) = try node.perform(.send(request)) else { throw CLIError("CONTROL-UNEXPECTED", "unexpected answer to send") }
        if json {
            print(try Output.json(report), terminator: "")
        } else {
            for id in report.ids ?? [report.id] { print(id) }
            FileHandle.standardError.write(Data("Queued for \(report.recipients) recipient(s) via \(report.nextHops.isEmpty ? "this node's inbox" : report.nextHops.joined(separator: ", ")); \(report.payloadBytes) payload bytes.\n".utf8))
        }
    }
}
