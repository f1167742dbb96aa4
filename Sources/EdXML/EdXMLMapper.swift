import Foundation

/// Turns the parsed tree into the model: edXML elements by namespace URI and local name, every
/// element without a field kept in `extras`, integers checked with the line and column they came from.
enum EdXMLMapper {
    static func package(_ root: EdXMLNode, attachments: [UInt64]) throws -> EdXMLPackage {
        guard root.isEdXML, root.name == "edXML" else {
            throw EdXMLError(
                .notEdXML,
                "the root element is \(root.name) in namespace \(root.namespace ?? "none"); "
                    + "an edXML package starts with edXML in \(EdXMLNamespace.uri)",
                line: root.line, column: root.column)
        }
        let envelope = try required(root, "edXMLEnvelope")
        let headerList = try required(envelope, "edXMLHeader")
        let messageHeader = try required(headerList, "MessageHeader")
        if messageHeader.first("StatusCode") != nil { return .status(try status(messageHeader)) }

        var document = EdXMLDocument(header: try header(messageHeader))
        var extras: [String: [EdXMLElement]] = [:]
        /// `Signature` is XML-DSig, in its own namespace or (seen in the field) in none: known by name alone.
        func keep(_ node: EdXMLNode, known: Set<String>, signature: Bool = false) {
            let unknown = node.children.filter {
                !($0.isEdXML && known.contains($0.name)) && !(signature && $0.name == "Signature")
            }
            if !unknown.isEmpty { extras[node.name, default: []] += unknown.map(\.element) }
        }
        keep(messageHeader, known: headerFields)
        if let other = messageHeader.first("OtherInfo") { keep(other, known: otherInfoFields) }
        keep(root, known: ["edXMLEnvelope", "AttachmentEncoded"])
        keep(envelope, known: ["edXMLHeader", "edXMLBody"])
        keep(headerList, known: ["MessageHeader", "TraceHeaderList"], signature: true)
        document.signature = headerList.children.first { $0.name == "Signature" }?.element
        if let traces = headerList.first("TraceHeaderList") {
            keep(traces, known: ["TraceHeader", "Bussiness"])
            document.traces = try traces.all("TraceHeader").map {
                EdXMLTraceHeader(organId: try text($0, "OrganId"), timestamp: $0.string("Timestamp") ?? "")
            }
            if let node = traces.first("Bussiness") {
                document.business = try business(node)
                keep(node, known: businessFields)
            }
        }
        // A revocation, update or replacement may leave its recipients to the document it refers to.
        if document.header.to.isEmpty && (document.business?.type ?? .new) == .new {
            throw EdXMLError(
                .missing, "MessageHeader has no To; a new document names at least one recipient",
                line: messageHeader.line, column: messageHeader.column)
        }
        if let body = envelope.first("edXMLBody") {
            keep(body, known: ["edXMLManifest"])
            if let manifest = body.first("edXMLManifest") {
                keep(manifest, known: ["Reference"])
                document.manifest = manifest.all("Reference").map {
                    EdXMLReference(
                        contentId: $0.string("ContentId"), contentType: $0.string("ContentType"),
                        description: $0.string("Description"), attachmentName: $0.string("AttachmentName"))
                }
            }
        }
        // Every AttachmentEncoded, in order: the tree builder decoded the attachments of each.
        let encoded = root.all("AttachmentEncoded").flatMap { $0.all("Attachment") }
        document.attachments = zip(encoded, attachments).map { attachment($0, size: $1) }
        document.extras = extras
        return .document(document)
    }

    static let headerFields: Set<String> = [
        "From", "To", "DocumentId", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content",
        "SignerInfo", "DueDate", "OtherInfo", "ResponseFor", "SteeringType", "ToPlaces",
    ]
    static let otherInfoFields: Set<String> = [
        "Priority", "SphereOfPromulgation", "TyperNotation", "PromulgationAmount", "PageAmount", "Direction",
        "Appendixes",
    ]
    static let businessFields: Set<String> = [
        "DocumentId", "BussinessDocType", "BussinessDocReason", "Paper", "StaffInfo", "BussinessDocumentInfo",
        "ReplacementInfoList",
    ]

    static func attachment(_ node: EdXMLNode, size: UInt64) -> EdXMLAttachment {
        EdXMLAttachment(
            contentId: node.string("ContentId"), name: node.string("AttachmentName") ?? "attachment",
            description: node.string("Description"), contentType: node.string("ContentType"),
            size: size)
    }

    private static func header(_ node: EdXMLNode) throws -> EdXMLMessageHeader {
        var header = EdXMLMessageHeader(from: try organization(try required(node, "From")))
        header.to = try node.all("To").map(organization)
        header.documentId = node.string("DocumentId")
        header.codeNumber = node.first("Code")?.string("CodeNumber")
        header.codeNotation = node.first("Code")?.string("CodeNotation")
        header.place = node.first("PromulgationInfo")?.string("Place")
        header.promulgationDate = node.first("PromulgationInfo")?.string("PromulgationDate")
        if let type = node.first("DocumentType") {
            header.documentType = try integer(type, "Type")
            header.documentTypeDetail = try integer(type, "TypeDetail")
            header.documentTypeName = type.string("TypeName")
        }
        header.subject = node.string("Subject")
        header.content = node.string("Content")
        header.signerCompetence = node.first("SignerInfo")?.string("Competence")
        header.signerPosition = node.first("SignerInfo")?.string("Position")
        header.signerFullName = node.first("SignerInfo")?.string("FullName")
        header.dueDate = node.string("DueDate")
        if let other = node.first("OtherInfo") {
            header.priority = try integer(other, "Priority", range: 0...4)
            header.sphereOfPromulgation = other.string("SphereOfPromulgation")
            header.typerNotation = other.string("TyperNotation")
            header.promulgationAmount = try integer(other, "PromulgationAmount")
            header.pageAmount = try integer(other, "PageAmount")
            header.direction = other.string("Direction")
            header.appendixes = other.first("Appendixes")?.all("Appendix").compactMap { nonEmpty($0.text) } ?? []
        }
        header.responseFor = node.all("ResponseFor").map(responseFor)
        header.steeringType = try integer(node, "SteeringType", range: 0...2)
        header.toPlaces = node.first("ToPlaces")?.all("Place").compactMap { nonEmpty($0.text) } ?? []
        return header
    }

    private static func status(_ node: EdXMLNode) throws -> EdXMLStatus {
        let from = try organization(try required(node, "From"))
        let response = responseFor(try required(node, "ResponseFor"))
        let code = try text(node, "StatusCode")
        guard ["01", "02", "03", "04", "05", "06", "13", "15", "16"].contains(code) else {
            let at = node.first("StatusCode")
            throw EdXMLError(
                .invalid, "StatusCode \(code) is not one of 01–06, 13, 15, 16",
                line: at?.line, column: at?.column)
        }
        var status = EdXMLStatus(
            from: from, responseFor: response, staff: node.first("StaffInfo").map(staff),
            statusCode: code, description: node.string("Description"),
            timestamp: node.string("Timestamp"))
        let known: Set<String> = ["From", "ResponseFor", "StaffInfo", "StatusCode", "Description", "Timestamp"]
        status.extras = node.children.filter { !($0.isEdXML && known.contains($0.name)) }.map(\.element)
        return status
    }

    private static func business(_ node: EdXMLNode) throws -> EdXMLBusiness {
        let raw = try integer(node, "BussinessDocType", range: 0...3) ?? 0
        let type = EdXMLBusinessType(rawValue: raw) ?? .new
        var business = EdXMLBusiness(
            documentId: node.string("DocumentId"), type: type,
            reason: node.string("BussinessDocReason"))
        business.paper = try integer(node, "Paper", range: 0...1)
        business.staff = node.first("StaffInfo").map(staff)
        if let info = node.first("BussinessDocumentInfo") {
            business.documentInfo = try integer(info, "DocumentInfo", range: 0...1)
            business.documentReceiver = try integer(info, "DocumentReceiver", range: 0...1)
            business.receivers = try (info.first("ReceiverList")?.all("Receiver") ?? []).map {
                EdXMLReceiver(organId: try text($0, "OrganId"), receiverType: try integer($0, "ReceiverType"))
            }
        }
        business.replacements = try (node.first("ReplacementInfoList")?.all("ReplacementInfo") ?? []).map {
            EdXMLReplacement(
                documentId: try text($0, "DocumentId"),
                organIds: $0.first("OrganIdList")?.all("OrganId").compactMap { nonEmpty($0.text) } ?? [])
        }
        return business
    }

    private static func organization(_ node: EdXMLNode) throws -> EdXMLOrganization {
        var organization = EdXMLOrganization(
            organId: try text(node, "OrganId"), organizationInCharge: node.string("OrganizationInCharge"),
            organName: node.string("OrganName"), organAdd: node.string("OrganAdd"), email: node.string("Email"),
            telephone: node.string("Telephone"), fax: node.string("Fax"), website: node.string("Website"))
        let known: Set<String> = [
            "OrganId", "OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone",
            "Fax", "Website",
        ]
        organization.extras = node.children.filter { !($0.isEdXML && known.contains($0.name)) }.map(\.element)
        return organization
    }

    private static func responseFor(_ node: EdXMLNode) -> EdXMLResponseFor {
        EdXMLResponseFor(
            organId: node.string("OrganId"), code: node.string("Code"),
            promulgationDate: node.string("PromulgationDate"), documentId: node.string("DocumentId"))
    }

    private static func staff(_ node: EdXMLNode) -> EdXMLStaffInfo {
        EdXMLStaffInfo(
            department: node.string("Department"), staff: node.string("Staff"),
            mobile: node.string("Mobile"), email: node.string("Email"))
    }

    private static func nonEmpty(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    private static func required(_ node: EdXMLNode, _ name: String) throws -> EdXMLNode {
        guard let child = node.first(name) else {
            throw EdXMLError(
                .missing, "\(node.name) has no \(name) in the edXML namespace",
                line: node.line, column: node.column)
        }
        return child
    }

    private static func text(_ node: EdXMLNode, _ name: String) throws -> String {
        guard let value = node.string(name) else {
            let at = node.first(name) ?? node
            throw EdXMLError(.missing, "\(node.name)/\(name) is missing or empty", line: at.line, column: at.column)
        }
        return value
    }

    /// An optional integer child: absent or empty is nil; anything else must be an integer in range.
    private static func integer(_ node: EdXMLNode, _ name: String, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let value = node.string(name) else { return nil }
        guard let number = Int(value), range?.contains(number) ?? (number >= 0) else {
            let at = node.first(name) ?? node
            let expected = range.map { "an integer from \($0.lowerBound) to \($0.upperBound)" } ?? "a whole number"
            throw EdXMLError(
                .invalid, "\(node.name)/\(name) is \"\(value.prefix(40))\"; expected \(expected)",
                line: at.line, column: at.column)
        }
        return number
    }
}
