import Control
import EdXML
import Envelope
import Foundation
import Spool
import Topology

/// edXML (QCVN 102:2016) at the node: sending a package as it came from the agency's e-office
/// software, and exporting a received document as a package or as its decoded attachments.
///
/// Security note: packages are untrusted input; `EdXMLReader` bounds them. The original travels
/// byte for byte inside the encrypted payload; attachments are written under names made safe.
extension NodeOperations {
    /// Sends the package at `path`: recipients, urgency and metadata from its header.
    func sendEdXML(_ r: SendRequest, package path: String) throws -> SentReport {
        guard r.to.isEmpty, r.files.isEmpty else {
            throw NodeError(
                .sendEdxmlArgs,
                "an edXML package names its own recipients and files; drop --to and --file")
        }
        try checkExpiry(r.expiresInMs)
        let document = try Self.readDocument(path)
        let header = document.header
        guard header.from.organId == identity.id.rawValue else {
            throw NodeError(
                .edxmlNotFromHere,
                "\(path) is from \(header.from.organId), but this node is \(identity.id); "
                    + "send it from that agency's node, or correct From/OrganId in the package")
        }
        var recipients: [SealRecipient] = []
        var unknown: [String] = []
        for organ in try recipientOrgans(document, path: path) {
            guard let id = try? NodeID(organ), id != identity.id, let key = identity.topology[id]?.encryptionKey else {
                unknown.append(organ)
                continue
            }
            if !recipients.contains(where: { $0.id == id }) {
                recipients.append(SealRecipient(id: id, encryptionKey: key))
            }
        }
        if !unknown.isEmpty && r.skipUnknown != true {
            throw NodeError(
                .edxmlUnknownOrgan,
                "\(path): To \(unknown.joined(separator: ", ")) "
                    + "\(unknown.count == 1 ? "is" : "are") not in this network's topology; nothing was "
                        + """
                        sent. Correct the package's To, or send with --skip-unknown to the \(recipients.count) \
                        known recipient(s)
                        """
            )
        }
        guard !recipients.isEmpty else {
            throw NodeError(.edxmlUnknownOrgan, "\(path): none of its To agencies is in this network's topology")
        }
        recipients.sort { $0.id < $1.id }
        let urgency = Urgency(rawValue: UInt8(header.priority ?? 0)) ?? .thuong
        let now = clock()
        let metadata = Self.metadata(of: document, organName: identity.name)
        try refuseDuplicate(metadata, resend: r.resend)
        let params = SealParameters(
            kind: .document, urgency: urgency, origin: identity.id, recipients: recipients,
            createdAt: now, expiresAt: now + r.expiresInMs)
        let file = AttachedFile(
            name: DocumentEdXMLInfo.packageFileName, mediaType: DocumentEdXMLInfo.packageMediaType,
            content: .path(path))
        var report = try sealAndQueue(
            metadata: metadata, files: [file], parameters: params,
            recipients: recipients.count, now: now, resend: r.resend)
        report.documentId = metadata.edxml?.documentId
        report.skipped = unknown.isEmpty ? nil : unknown
        return report
    }

    /// The package's To; for a revocation, update or replacement without To, the recipients of
    /// the document it refers to, which this node sent.
    func recipientOrgans(_ document: EdXMLDocument, path: String) throws -> [String] {
        guard document.header.to.isEmpty else { return document.header.to.map(\.organId) }
        guard let refersTo = document.business?.documentId,
            let earlier = try spool.sentOriginal(
                of: DocumentIdentity(
                    documentId: refersTo,
                    organId: identity.id.rawValue))
        else {
            throw NodeError(
                .edxmlNoRecipient,
                "\(path) names no To, and this node sent no document "
                    + "\(document.business?.documentId ?? "(no Bussiness/DocumentId)") for it to go to; "
                    + "add the recipients as To")
        }
        return try spool.tracking(earlier).map(\.recipient.rawValue)
    }

    /// Reads a document package's metadata (attachments are checked and dropped), as a node error.
    static func readDocument(_ path: String) throws -> EdXMLDocument {
        let package: EdXMLPackage
        do { package = try EdXMLReader().read(fileAt: path) } catch var error as EdXMLError {
            error.message = "\(path): \(error.message)"
            throw error
        }
        guard case .document(let document) = package else {
            throw NodeError(
                .edxmlNotDocument,
                "\(path) is a status package, not a document; apply it to the "
                    + "document it answers with `lienthong inbox status ID --edxml FILE`")
        }
        return document
    }

    /// LienThong's metadata from an edXML header (dates from `yyyy/MM/dd` to `yyyy-MM-dd`).
    static func metadata(of document: EdXMLDocument, organName: String) -> DocumentMetadata {
        let header = document.header
        func iso(_ date: String?) -> String? { date?.replacingOccurrences(of: "/", with: "-") }
        let signer = [header.signerCompetence, header.signerPosition, header.signerFullName].compactMap { $0 }
        let type = document.business?.type ?? .new
        let documentId =
            document.identity
            ?? DocumentEdXMLInfo.documentId(
                organId: header.from.organId, date: header.promulgationDate, codeNumber: header.codeNumber,
                codeNotation: header.codeNotation)
        let info = DocumentEdXMLInfo(
            documentId: documentId, organId: header.from.organId,
            businessDocType: type.rawValue,
            refersTo: type == .new ? nil : document.business?.documentId,
            package: true)
        return DocumentMetadata(
            subject: header.subject ?? "(không có trích yếu)", codeNumber: header.codeNumber,
            codeNotation: header.codeNotation, documentType: header.documentTypeName,
            promulgationDate: iso(header.promulgationDate), promulgationPlace: header.place,
            dueDate: iso(header.dueDate), steeringType: header.steeringType,
            signerInfo: signer.isEmpty ? nil : signer.joined(separator: " "),
            organName: header.from.organName ?? organName, edxml: info)
    }

    /// `inbox export ID --edxml OUT`: the original package for a document that came as edXML, a
    /// package generated from its metadata and files for one that did not. OUT appears only when whole.
    public func exportEdXML(_ text: String, to out: String) throws -> ExportReport {
        let (id, entry) = try inboxID(text)
        try refuseIfDestroyed(id)
        return try withOpened(id) { writer, metadata in
            let target = URL(fileURLWithPath: out)
            if metadata.edxml?.package == true {
                let original = URL(fileURLWithPath: writer.directory)
                    .appendingPathComponent(DocumentEdXMLInfo.packageFileName)
                try? FileManager.default.removeItem(at: target)
                do { try FileManager.default.moveItem(at: original, to: target) } catch {
                    throw NodeError(
                        .inboxExport, "cannot write \(out); check the directory and its permissions",
                        cause: "\(error)")
                }
            } else {
                let document = generated(metadata, origin: entry.origin.rawValue)
                let sources = try writer.fileNames.map { name in
                    let url = URL(fileURLWithPath: writer.directory).appendingPathComponent(name)
                    let size =
                        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)??
                        .uint64Value ?? 0
                    return try EdXMLAttachmentSource.file(
                        url,
                        attachment: EdXMLAttachment(
                            contentId: nil, name: name, description: nil, contentType: MediaType.guess(name), size: size
                        ))
                }
                do { try EdXMLWriter.write(document: document, attachments: sources, toFile: target) } catch {
                    throw NodeError(
                        .inboxExport, "cannot write \(out); check the directory and free space",
                        cause: "\(error)")
                }
            }
            return ExportReport(
                id: id.hex, directory: (out as NSString).deletingLastPathComponent,
                files: [(out as NSString).lastPathComponent])
        }
    }

    /// `inbox export ID --out DIR` for a document that came as edXML: its attachments decoded.
    /// Nil for other documents (exported as their payload files).
    func exportEdXMLAttachments(_ id: EnvelopeID, to out: String) throws -> ExportReport? {
        try withOpened(id) { writer, metadata in
            guard metadata.edxml?.package == true else { return nil }
            let package = URL(fileURLWithPath: writer.directory)
                .appendingPathComponent(DocumentEdXMLInfo.packageFileName)
            let sink = try EdXMLDirectorySink(directory: URL(fileURLWithPath: out))
            do { _ = try EdXMLReader().read(fileAt: package.path, sink: sink) } catch var error as EdXMLError {
                error.message =
                    "the received package cannot be decoded: \(error.message); "
                    + "export it whole with --edxml OUT"
                throw error
            }
            return ExportReport(id: id.hex, directory: out, files: sink.files.map(\.url.lastPathComponent))
        }
    }

    /// Opens a delivered document into a scratch directory in the node's home, removed afterwards.
    private func withOpened<T>(
        _ id: EnvelopeID, _ body: (DirectoryPayloadWriter, DocumentMetadata) throws -> T
    )
        throws -> T
    {
        let scratch = identity.home.path + "/tmp/export-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let writer = try DirectoryPayloadWriter(directory: scratch)
        try DeliveredEnvelope.open(id, spool: spool, identity: identity, into: writer, checkExpiry: false)
        let metadata = try JSONDecoder().decode(DocumentMetadata.self, from: Data(writer.metadataBytes))
        return try body(writer, metadata)
    }

    /// An edXML document for a document sent without one (`--file`).
    private func generated(_ metadata: DocumentMetadata, origin: String) -> EdXMLDocument {
        func edxmlDate(_ date: String?) -> String? { date?.replacingOccurrences(of: "-", with: "/") }
        var header = EdXMLMessageHeader(from: EdXMLOrganization(organId: origin, organName: metadata.organName))
        header.to = [EdXMLOrganization(organId: identity.id.rawValue, organName: identity.name)]
        header.documentId =
            metadata.edxml?.documentId
            ?? DocumentEdXMLInfo.documentId(
                organId: origin, date: metadata.promulgationDate, codeNumber: metadata.codeNumber,
                codeNotation: metadata.codeNotation)
        header.codeNumber = metadata.codeNumber
        header.codeNotation = metadata.codeNotation
        header.place = metadata.promulgationPlace
        header.promulgationDate = edxmlDate(metadata.promulgationDate)
        header.documentTypeName = metadata.documentType
        header.subject = metadata.subject
        header.signerFullName = metadata.signerInfo
        header.dueDate = edxmlDate(metadata.dueDate)
        header.steeringType = metadata.steeringType
        var document = EdXMLDocument(header: header)
        document.business = EdXMLBusiness(documentId: header.documentId, type: .new)
        return document
    }
}
