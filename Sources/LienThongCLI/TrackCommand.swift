import ArgumentParser
import Control
import Foundation
import Node

/// `lienthong track [ID]`: who has received a document this node sent, and how far each got.
struct TrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Per-recipient status of a document this node sent (or, without ID, the documents sent).",
        discussion:
            "Example: lienthong track 3fa2c1 --home ./tinh-uy   (counts per status, then the recipients still missing)")

    @OptionGroup var node: NodeAccess
    @Argument(help: ArgumentHelp("Envelope id or a unique prefix.", valueName: "ID")) var id: String?
    @Flag(help: "Print JSON for scripts.") var json = false
    @Flag(help: "List every recipient, not only those still missing.") var all = false
    @Option(help: "Without ID: list the newest this many documents sent (at most 100,000).") var limit: Int = 200
    @Option(
        help: ArgumentHelp(
            "Write one standard edXML status package per recipient (its latest status) into "
                + "this directory, for the e-office software.", valueName: "DIR"))
    var edxmlStatus: String?

    func run() throws {
        if let dir = edxmlStatus {
            guard let id else { throw ValidationError("--edxml-status needs the document's ID") }
            guard
                case .exported(let r) = try node.perform(
                    .trackEdXMLStatus(id: id, out: NodeAccess.absolute(dir)))
            else {
                throw CLIError(.controlUnexpected, "unexpected answer to track")
            }
            print(
                r.files.isEmpty
                    ? "No recipient has answered yet: no status package written."
                    : "Wrote \(r.files.count) status package(s) to \(r.directory): "
                        + "\(r.files.joined(separator: ", "))")
            return
        }
        if id == nil, json {
            // The daemon's JSON passed through: 100,000 summaries are not decoded to be encoded again.
            print(try node.performJSON(.track(id: nil, limit: limit), key: "sentList"), terminator: "")
            return
        }
        switch try node.perform(.track(id: id, limit: id == nil ? limit : nil)) {
        case .tracking(let t):
            if json {
                print(try Output.json(t), terminator: "")
                return
            }
            print(TrackText.render(t, all: all), terminator: "")
        case .sentList(let list):
            if json {
                print(try Output.json(list), terminator: "")
                return
            }
            guard !list.isEmpty else {
                print("This node has sent no tracked document.")
                return
            }
            for s in list {
                print("\(s.id.prefix(16))  sent \(Output.time(s.sentAt))  arrived \(s.arrived)/\(s.recipients)")
            }
            if list.count == limit { print("(the newest \(limit); there may be more: --limit N, up to 100,000)") }
        default:
            throw CLIError(.controlUnexpected, "unexpected answer to track")
        }
    }
}

enum TrackText {
    static let order = ["15", "16", "13", "06", "02", "05", "04", "03", "01", "undeliverable", "00"]
    static let names = [
        "00": "chưa có phản hồi", "01": "đã đến",
        "02": "từ chối", "03": "đã tiếp nhận", "04": "phân công",
        "05": "đang xử lý", "06": "hoàn thành", "13": "thu hồi", "15": "đồng ý thu hồi",
        "16": "từ chối thu hồi", "undeliverable": "không chuyển được",
    ]

    static func render(_ t: TrackReport, all: Bool) -> String {
        var out = "Document \(t.id)\n"
        let arrived = t.entries.filter { $0.status != "00" && $0.status != "undeliverable" }.count
        out += "  \(arrived)/\(t.recipients) recipients have it\n"
        for code in order where (t.counts[code] ?? 0) > 0 {
            out +=
                "  \(code == "undeliverable" ? "--" : code) \(names[code] ?? code, padded: 20)\(t.counts[code] ?? 0)\n"
        }
        let shown = all ? t.entries : t.entries.filter { $0.status == "00" || $0.status == "undeliverable" }
        if !shown.isEmpty {
            out += all ? "  Recipients:\n" : "  Still missing:\n"
            for e in shown {
                let recall = e.recallName.map { "  [\($0)\(e.recallReason.map { ": " + $0 } ?? "")]" } ?? ""
                out +=
                    "    \(e.recipient, padded: 16)\(e.name, padded: 28)\(e.statusName, padded: 20)"
                    + "\(Output.time(e.updatedAt))\(e.reason.map { "  (\($0))" } ?? "")\(recall)\n"
            }
        }
        return out
    }
}
