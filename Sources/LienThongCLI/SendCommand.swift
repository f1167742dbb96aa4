import ArgumentParser
import Control
import Foundation
import Node
import Topology

/// `lienthong send`: seal a document to recipients and hand it to the node (prints the id).
struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a document: sealed for its recipients, signed by this node, queued towards them.",
        discussion: """
            Example:
              lienthong send --home ./tinh-uy --to-subtree 000.00.00.H27 --urgency khan \\
                --subject "Về tăng cường chuyển đổi số" --code-number 21 \\
                --code-notation CT/TU --document-type "Chỉ thị" --file chi-thi-21.pdf
            Prints the envelope id; follow it with `lienthong track ID`. \
            An edXML package (QCVN 102:2016) from e-office software is sent as it is, byte for byte:
              lienthong send --home ./tinh-uy --edxml 21-CT-TU.edxml
            Its From must be this node; its To, Priority and metadata come from the package.
            """)

    @OptionGroup var node: NodeAccess
    @OptionGroup var document: DocumentOptions
    @Flag(help: "Send each --file as its own document (same recipients and metadata), all accepted at once.")
    var eachFile = false
    @Option(
        name: .customLong("edxml"),
        help: ArgumentHelp(
            "An edXML package to send as it is (repeat for several).",
            valueName: "FILE")) var packages: [String] = []
    @Flag(help: "With --edxml: send to the package's recipients that are in the topology, report the others.")
    var skipUnknown = false
    @Flag(help: "Send even though a document with the same DocumentId was sent before (refused otherwise).")
    var resend = false
    @Flag(help: "Print JSON for scripts.") var json = false

    func run() throws {
        if !packages.isEmpty { return try sendPackages() }
        // The topology only: an operator in the daemon's group cannot (and need not) read the keys.
        let (home, _) = try NodeHome.open(node.home.home)
        let topology = try home.signedTopology()
        let d = document
        guard let subject = d.subject else {
            throw ValidationError("--subject is required (or send an edXML package with --edxml)")
        }
        let recipients = try RecipientSelection.resolve(to: d.to, toSubtree: d.toSubtree, topology: topology)
        let request = SendRequest(
            to: recipients.map(\.rawValue), urgency: (d.urgency ?? .thuong).cliName,
            expiresInMs: try DurationText.parseMilliseconds(d.expires),
            subject: subject, codeNumber: d.codeNumber, codeNotation: d.codeNotation, documentType: d.documentType,
            secrecy: d.secrecy, files: d.files.map(NodeAccess.absolute), eachFile: eachFile ? true : nil)
        var sending = request
        sending.resend = resend ? true : nil
        sending.dueDate = d.dueDate
        guard case .sent(let report) = try node.perform(.send(sending)) else {
            throw CLIError(.controlUnexpected, "unexpected answer to send")
        }
        if json {
            print(try Output.json(report), terminator: "")
        } else {
            for id in report.ids ?? [report.id] { print(id) }
            FileHandle.standardError.write(
                Data(
                    """
                    Queued for \(report.recipients) recipient(s) via \
                    \(report.nextHops.isEmpty ? "this node's inbox" : report.nextHops.joined(separator: ", ")); \
                    \(report.payloadBytes) payload bytes.\n
                    """
                    .utf8))
        }
    }

    /// Each package is its own document; they are sent in order and the first error stops the rest.
    private func sendPackages() throws {
        guard !document.givenForEdXML, !eachFile else {
            throw ValidationError(
                "--edxml takes recipients, urgency, metadata and files from the package; "
                    + "drop --to, --to-subtree, --urgency, --subject, --code-*, --document-type and --file")
        }
        var reports: [SentReport] = []
        for package in packages {
            var request = SendRequest(
                to: [], urgency: "thuong", expiresInMs: try DurationText.parseMilliseconds(document.expires),
                subject: "", files: [])
            request.edxml = NodeAccess.absolute(package)
            request.skipUnknown = skipUnknown ? true : nil
            request.resend = resend ? true : nil
            guard case .sent(let report) = try node.perform(.send(request)) else {
                throw CLIError(.controlUnexpected, "unexpected answer to send")
            }
            reports.append(report)
            if !json {
                print(report.id)
                var line =
                    "\(package): DocumentId \(report.documentId ?? "—"), queued for \(report.recipients) recipient(s)"
                if let skipped = report.skipped {
                    line += "; skipped (not in the topology): \(skipped.joined(separator: ", "))"
                }
                FileHandle.standardError.write(Data((line + ".\n").utf8))
            }
        }
        if json { print(try Output.json(reports), terminator: "") }
    }
}
