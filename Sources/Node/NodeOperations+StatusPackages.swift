import Control
import EdXML
import Envelope
import Foundation
import Spool

/// Status packages (gói tin trạng thái, QCVN 102:2016; README §4) both ways: written for the
/// sender's e-office software from the tracking table, and read from the recipient's e-office
/// software and applied as the clerk's status.
///
/// Security note: a status package is untrusted input, bounded by `EdXMLReader`; it is applied
/// only to the document it answers (ResponseFor) and only as a status this node's clerk may set.
extension NodeOperations {
    /// `lienthong track ID --edxml-status DIR`: one package per recipient for its latest status
    /// (recipients without an answer yet are skipped). Returns the files written.
    public func writeStatusPackages(_ text: String, to out: String) throws -> ExportReport {
        let report = try track(text)
        let id = try EnvelopeID(hex: report.id)
        let identity =
            try spool.documentRecords([id])[id]?.identity
            ?? DocumentIdentity(documentId: nil, organId: self.identity.id.rawValue)
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            throw NodeError(
                .trackExport, "cannot create \(out); check the path and its permissions",
                cause: "\(error)")
        }
        var files: [String] = []
        for entry in report.entries {
            // The recipient's processing status, and beside it the recall: its answer (15, 16), or
            // while unanswered the 13 this node sent it — a package from this node, as the
            // sender's e-office software would have written the recall itself.
            var answers: [(ReceiptStatus, String?, EdXMLOrganization)] = []
            let recipient = EdXMLOrganization(organId: entry.recipient, organName: entry.name == "?" ? nil : entry.name)
            if let status = ReceiptStatus(rawValue: entry.status), status != .pending, status != .undeliverable {
                answers.append((status, entry.reason, recipient))
            }
            if let recall = entry.recall.flatMap(ReceiptStatus.init(rawValue:)) {
                let from =
                    recall == .recalled
                    ? EdXMLOrganization(organId: self.identity.id.rawValue, organName: self.identity.name) : recipient
                answers.append((recall, entry.recallReason, from))
            }
            for (status, reason, from) in answers {
                let package = EdXMLStatus(
                    from: from,
                    responseFor: Self.responseFor(identity),
                    statusCode: status.rawValue, description: reason ?? status.displayName,
                    timestamp: Self.edxmlTimestamp(entry.updatedAt))
                let name = "status-\(entry.recipient)-\(status.rawValue).edxml"
                do {
                    try EdXMLWriter.data(status: package)
                        .write(to: URL(fileURLWithPath: out).appendingPathComponent(name))
                } catch {
                    throw NodeError(
                        .trackExport, "cannot write \(name) in \(out); check free space and permissions",
                        cause: "\(error)")
                }
                files.append(name)
            }
        }
        return ExportReport(id: report.id, directory: out, files: files)
    }

    /// `lienthong inbox status ID --edxml FILE`: the status in a package from this agency's
    /// e-office software, applied exactly as `inbox accept|assign|processing|done|reject` (or
    /// `inbox recall accept|reject` for 15 and 16).
    public func applyStatusPackage(_ text: String, file: String) throws -> Bool {
        let (id, entry) = try inboxID(text)
        let status: EdXMLStatus
        do {
            guard case .status(let s) = try EdXMLReader().read(fileAt: file) else {
                throw NodeError(
                    .edxmlNotStatus,
                    "\(file) is a document package, not a status package; send it "
                        + "with `lienthong send --edxml`")
            }
            status = s
        } catch var error as EdXMLError {
            error.message = "\(file): \(error.message)"
            throw error
        }
        guard status.from.organId == identity.id.rawValue else {
            throw NodeError(
                .edxmlNotFromHere,
                "\(file) answers as \(status.from.organId), but this node is "
                    + "\(identity.id); apply it at that agency's node, or correct From/OrganId")
        }
        let record = try spool.documentRecords([id])[id]?.identity
        try Self.checkResponseFor(status.responseFor, matches: record, file: file, id: id)
        switch status.statusCode {
        case "02" where (status.description ?? "").trimmingCharacters(in: .whitespaces).isEmpty:
            throw NodeError(
                .edxmlStatusReason,
                "\(file) refuses the document (02) without a Description; a "
                    + "refusal needs its reason there, for the sender to read")
        case "02", "03", "04", "05", "06":
            return try setStatus(id.hex, status.statusCode, reason: status.description)
        case "15", "16":
            return try answerRecall(id.hex, accept: status.statusCode == "15", reason: status.description)
        case "01":
            return false  // sent by the node itself on arrival
        default:
            throw NodeError(
                .edxmlStatusCode,
                "\(file) has StatusCode \(status.statusCode), which a recipient does "
                    + "not send (13 is the sender's recall); the document stays at \(entry.status.rawValue)")
        }
    }

    /// ResponseFor names this document: by DocumentId when both have one, else by issuer, số/ký hiệu and date.
    static func checkResponseFor(
        _ r: EdXMLResponseFor, matches identity: DocumentIdentity?, file: String,
        id: EnvelopeID
    ) throws {
        let expected = identity.map(responseFor)
        let matches: Bool
        if let theirs = r.documentId, let ours = expected?.documentId {
            matches = theirs == ours
        } else if let expected, r.code != nil {
            matches =
                r.code == expected.code && r.organId == expected.organId
                && r.promulgationDate == expected.promulgationDate
        } else {
            matches = false
        }
        guard matches else {
            guard let expected else {
                throw NodeError(
                    .edxmlResponseMismatch,
                    "\(id.hex.prefix(16))… has no recorded DocumentId or số/ký hiệu (it arrived "
                        + "before this "
                        + "node recorded identities), so no status package can name it; set its status with "
                        + "`lienthong inbox accept|assign|processing|done|reject`")
            }
            let ours = expected.documentId ?? expected.code ?? "(no DocumentId)"
            throw NodeError(
                .edxmlResponseMismatch,
                "\(file) answers \(r.documentId ?? r.code ?? "no document"), "
                    + "but \(id.hex.prefix(16))… is "
                    + "\(ours); apply the package to the document it answers (see `lienthong inbox list`)")
        }
    }

    /// ResponseFor for a recorded document: issuer, `số/ký hiệu`, `yyyy/MM/dd`, DocumentId.
    static func responseFor(_ identity: DocumentIdentity) -> EdXMLResponseFor {
        let code = [identity.codeNumber, identity.codeNotation].compactMap { $0 }.joined(separator: "/")
        return EdXMLResponseFor(
            organId: identity.organId, code: code.isEmpty ? nil : code,
            promulgationDate: identity.promulgationDate?.replacingOccurrences(of: "-", with: "/"),
            documentId: identity.documentId)
    }

    /// `yyyy/MM/dd HH:mm:ss` in Vietnam's time zone.
    static func edxmlTimestamp(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy/MM/dd HH:mm:ss"
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

extension NodeOperations {
    /// A status package from this agency's e-office software, dropped in the hot folder: the
    /// received document it answers is found by ResponseFor (OrganId and DocumentId), then the
    /// status is applied as `applyStatusPackage(_:file:)` does.
    public func applyStatusPackage(file: String) throws -> Bool {
        let status: EdXMLStatus
        do {
            guard case .status(let s) = try EdXMLReader().read(fileAt: file) else {
                throw NodeError(
                    .edxmlNotStatus, "\(file) is a document package, not a status package; drop it in outgoing/")
            }
            status = s
        } catch var error as EdXMLError {
            error.message = "\(file): \(error.message)"
            throw error
        }
        guard let documentId = status.responseFor.documentId, let organ = status.responseFor.organId,
            let origin = try? NodeID(organ), let id = try spool.receivedDocument(documentId: documentId, origin: origin)
        else {
            throw NodeError(
                .inboxNotFound,
                "\(file) answers no document in this node's inbox: its ResponseFor needs the OrganId and "
                    + "DocumentId of a received document")
        }
        return try applyStatusPackage(id.hex, file: file)
    }
}
