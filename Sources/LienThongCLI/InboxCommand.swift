import ArgumentParser
import Control
import Foundation
import Node

/// `lienthong inbox …`: documents delivered to this node, and the clerk's processing statuses
/// (each status goes back to the sender as a signed receipt).
struct InboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract: "Documents delivered here: list, show, export; record processing statuses (sent back to the sender).",
        discussion: """
            Statuses (Decree 30/2020): 01 đã đến (sent automatically on arrival), 02 từ chối (reject, with \
            --reason), 03 đã tiếp nhận (accept), 04 phân công (assign), 05 đang xử lý (processing), \
            06 hoàn thành (done). A status only moves forward. `inbox status ID --edxml FILE` applies a \
            status package from the agency's e-office software. When the sender recalls a document (13), \
            the clerk answers with `inbox recall accept|reject ID`: 15 destroys its content, 16 keeps it.
            """,
        subcommands: [
            List.self, Show.self, Export.self, Accept.self, Assign.self, Processing.self, Done.self,
            Reject.self, Status.self, Recall.self,
        ])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List delivered documents, newest first.")
        @OptionGroup var node: NodeAccess
        @Option(help: "At most this many (up to 100,000).") var limit: Int = 100
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() throws {
            if json {
                print(try node.performJSON(.inboxList(limit: limit), key: "inbox"), terminator: "")
                return
            }
            guard case .inbox(let items) = try node.perform(.inboxList(limit: limit)) else {
                throw CLIError(.controlUnexpected, "unexpected answer")
            }
            guard !items.isEmpty else {
                print("The inbox is empty.")
                return
            }
            print(
                "\("ID", padded: 18)\("FROM", padded: 16)\("URGENCY", padded: 13)\("STATUS", padded: 8)"
                    + "\("SỐ/KÝ HIỆU", padded: 14)\("NV", padded: 4)\("SIZE", padded: 11)"
                    + "\("RECEIVED", padded: 18)DOCUMENTID")
            for i in items {
                print(
                    "\(String(i.id.prefix(16)), padded: 18)\(i.origin, padded: 16)\(i.urgency, padded: 13)"
                        + "\(i.status + (i.recall.map { "/" + $0 } ?? ""), padded: 8)"
                        + "\(i.reference ?? "—", padded: 14)\(i.businessDocType.map(String.init) ?? "—", padded: 4)"
                        + "\(Output.bytes(i.payloadBytes), padded: 11)\(Output.time(i.receivedAt), padded: 18)"
                        + "\(i.documentId ?? "—")")
            }
            print(
                "\(items.count) document(s)"
                    + (items.count == limit ? "; there may be more: --limit N, up to 100,000." : "."))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one document: metadata and attached files (opened with this node's key).")
        @OptionGroup var node: NodeAccess
        @Argument(help: ArgumentHelp("Envelope id or a unique prefix.", valueName: "ID")) var id: String
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() throws {
            guard case .document(let d) = try node.perform(.inboxShow(id: id)) else {
                throw CLIError(.controlUnexpected, "unexpected answer")
            }
            if json {
                print(try Output.json(d), terminator: "")
                return
            }
            print("Document \(d.item.id)")
            print("  from      \(d.item.origin) (\(d.item.originName))")
            if let r = d.reference { print("  số/ký hiệu \(r)") }
            if let t = d.documentType { print("  loại      \(t)") }
            if let documentId = d.documentId { print("  DocumentId \(documentId)") }
            if let type = d.businessDocType { print("  nghiệp vụ \(type) (\(Self.businessName(type)))") }
            if d.edxmlPackage == true { print("  edXML     gói tin gốc (export with --edxml OUT)") }
            print("  trích yếu \(d.subject)")
            if let organ = d.organName { print("  cơ quan   \(organ)") }
            let issued = [d.promulgationPlace, d.promulgationDate].compactMap { $0 }.joined(separator: ", ")
            if !issued.isEmpty { print("  ban hành  \(issued)") }
            if let signer = d.signerInfo { print("  người ký  \(signer)") }
            if let due = d.dueDate { print("  hạn xử lý \(due)") }
            if let steering = d.steeringType { print("  chỉ đạo   \(steering) (\(Self.steeringName(steering)))") }
            print("  urgency   \(d.item.urgency); status \(d.item.status) since \(Output.time(d.item.statusAt))")
            if let recall = d.item.recall {
                let names = [
                    "13": "13: the sender recalls it; answer with `inbox recall accept|reject`",
                    "15": "15 đồng ý thu hồi", "16": "16 từ chối thu hồi",
                ]
                print("  thu hồi   \(names[recall] ?? recall)")
            }
            print("  received  \(Output.time(d.item.receivedAt))")
            for f in d.files { print("  file      \(f.name) (\(f.mediaType), \(Output.bytes(f.size)))") }
            if let at = d.contentDestroyedAt {
                print(
                    "  thu hồi   content destroyed \(Output.time(at)) after 15 (đồng ý thu hồi); "
                        + "metadata kept")
            }
            if let earlier = d.refersToEnvelope {
                print("  refers to \(earlier.prefix(16))… (the document it concerns)")
            }
            for r in d.related ?? [] {
                print("  related   \(r.id.prefix(16))… \(r.relation), \(Output.time(r.receivedAt))")
            }
        }

        /// SteeringType in Vietnamese (edXML: 0 ordinary, 1 directive, 2 report on a directive).
        static func steeringName(_ type: Int) -> String {
            let names = ["thông thường", "chỉ đạo", "báo cáo thực hiện chỉ đạo"]
            return names.indices.contains(type) ? names[type] : "không rõ"
        }

        /// BussinessDocType in Vietnamese.
        static func businessName(_ type: Int) -> String {
            let names = ["văn bản mới", "thu hồi", "cập nhật", "thay thế"]
            return names.indices.contains(type) ? names[type] : "không rõ"
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write a document's files into a directory (--out), or the document as one edXML package (--edxml).")
        @OptionGroup var node: NodeAccess
        @Argument(help: ArgumentHelp("Envelope id or a unique prefix.", valueName: "ID")) var id: String
        @Option(
            help: ArgumentHelp(
                "Directory to create; an edXML document's attachments are decoded into it.",
                valueName: "DIR")) var out: String?
        @Option(
            help: ArgumentHelp(
                "Write the edXML package here: the original bytes, or one generated for a "
                    + "document sent without one.", valueName: "FILE")) var edxml: String?

        func run() throws {
            let request: ControlRequest
            switch (out, edxml) {
            case (let dir?, nil): request = .inboxExport(id: id, out: NodeAccess.absolute(dir))
            case (nil, let file?): request = .inboxExportEdXML(id: id, out: NodeAccess.absolute(file))
            default: throw ValidationError("give exactly one of --out DIR or --edxml FILE")
            }
            guard case .exported(let r) = try node.perform(request) else {
                throw CLIError(.controlUnexpected, "unexpected answer")
            }
            print("Exported \(r.id.prefix(16))… to \(r.directory): \(r.files.joined(separator: ", "))")
        }
    }

    /// The status verbs share this: id, optional reason, send the status.
    struct StatusOptions: ParsableArguments {
        @OptionGroup var node: NodeAccess
        @Argument(help: ArgumentHelp("Envelope id or a unique prefix.", valueName: "ID")) var id: String

        func set(_ status: String, _ name: String, reason: String? = nil) throws {
            guard
                case .statusChanged(let changed) = try node.perform(
                    .inboxSetStatus(id: id, status: status, reason: reason))
            else {
                throw CLIError(.controlUnexpected, "unexpected answer")
            }
            print(
                changed
                    ? "Status \(status) \(name) recorded; the receipt is on its way to the sender."
                    : "Unchanged: the document is already at or past \(status) (statuses only move forward).")
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "03 đã tiếp nhận: the document is registered.")
        @OptionGroup var options: StatusOptions
        func run() throws { try options.set("03", "đã tiếp nhận") }
    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "04 phân công: the document is assigned for handling.")
        @OptionGroup var options: StatusOptions
        func run() throws { try options.set("04", "phân công") }
    }

    struct Processing: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "05 đang xử lý: the document is being handled.")
        @OptionGroup var options: StatusOptions
        func run() throws { try options.set("05", "đang xử lý") }
    }

    struct Done: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "06 hoàn thành: handling is complete.")
        @OptionGroup var options: StatusOptions
        func run() throws { try options.set("06", "hoàn thành") }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "02 từ chối: refuse the document, with a reason the sender will see.")
        @OptionGroup var options: StatusOptions
        @Option(help: "Why the document is refused.") var reason: String
        func run() throws { try options.set("02", "từ chối", reason: reason) }
    }
}
