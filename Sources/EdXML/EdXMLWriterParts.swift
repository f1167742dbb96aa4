import Foundation

/// The MessageHeader, Bussiness and status parts of `EdXMLWriter`, in the order of README §2–4.
extension EdXMLWriter {
    static func organization(_ tag: String, _ organization: EdXMLOrganization, out: inout EdXMLOutput) throws {
        try out.open(tag)
        try out.leaf("OrganId", organization.organId)
        try out.leaf("OrganizationInCharge", organization.organizationInCharge)
        try out.leaf("OrganName", organization.organName)
        try out.leaf("OrganAdd", organization.organAdd)
        try out.leaf("Email", organization.email)
        try out.leaf("Telephone", organization.telephone)
        try out.leaf("Fax", organization.fax)
        try out.leaf("Website", organization.website)
        for element in organization.extras { try out.element(element, defaultNamespace: EdXMLNamespace.uri) }
        try out.close(tag)
        try out.raw("\n")
    }

    static func responseFor(_ response: EdXMLResponseFor, out: inout EdXMLOutput) throws {
        try out.open("ResponseFor")
        try out.leaf("OrganId", response.organId)
        try out.leaf("Code", response.code)
        try out.leaf("PromulgationDate", response.promulgationDate)
        try out.leaf("DocumentId", response.documentId)
        try out.close("ResponseFor")
    }

    static func staff(_ staff: EdXMLStaffInfo, out: inout EdXMLOutput) throws {
        try out.open("StaffInfo")
        try out.leaf("Department", staff.department)
        try out.leaf("Staff", staff.staff)
        try out.leaf("Mobile", staff.mobile)
        try out.leaf("Email", staff.email)
        try out.close("StaffInfo")
    }

    static func header(
        _ header: EdXMLMessageHeader, extras: [String: [EdXMLElement]],
        out: inout EdXMLOutput
    ) throws {
        try out.open("MessageHeader")
        try out.raw("\n")
        try organization("From", header.from, out: &out)
        for recipient in header.to { try organization("To", recipient, out: &out) }
        try out.leaf("DocumentId", header.documentId)
        if header.codeNumber != nil || header.codeNotation != nil {
            try out.open("Code")
            try out.leaf("CodeNumber", header.codeNumber)
            try out.leaf("CodeNotation", header.codeNotation)
            try out.close("Code")
        }
        if header.place != nil || header.promulgationDate != nil {
            try out.open("PromulgationInfo")
            try out.leaf("Place", header.place)
            try out.leaf("PromulgationDate", header.promulgationDate)
            try out.close("PromulgationInfo")
        }
        if header.documentType != nil || header.documentTypeDetail != nil || header.documentTypeName != nil {
            try out.open("DocumentType")
            try out.leaf("Type", header.documentType)
            try out.leaf("TypeDetail", header.documentTypeDetail)
            try out.leaf("TypeName", header.documentTypeName)
            try out.close("DocumentType")
        }
        try out.leaf("Subject", header.subject)
        try out.leaf("Content", header.content)
        if header.signerCompetence != nil || header.signerPosition != nil || header.signerFullName != nil {
            try out.open("SignerInfo")
            try out.leaf("Competence", header.signerCompetence)
            try out.leaf("Position", header.signerPosition)
            try out.leaf("FullName", header.signerFullName)
            try out.close("SignerInfo")
        }
        try out.leaf("DueDate", header.dueDate)
        try otherInfo(header, extras: extras["OtherInfo"] ?? [], out: &out)
        for response in header.responseFor { try responseFor(response, out: &out) }
        try out.leaf("SteeringType", header.steeringType)
        if !header.toPlaces.isEmpty {
            try out.open("ToPlaces")
            for place in header.toPlaces { try out.leaf("Place", place) }
            try out.close("ToPlaces")
        }
        for element in extras["MessageHeader"] ?? [] {
            try out.element(element, defaultNamespace: EdXMLNamespace.uri)
        }
        try out.raw("\n")
        try out.close("MessageHeader")
        try out.raw("\n")
    }

    private static func otherInfo(
        _ header: EdXMLMessageHeader, extras: [EdXMLElement],
        out: inout EdXMLOutput
    ) throws {
        let values: [Any?] = [
            header.priority, header.sphereOfPromulgation, header.typerNotation,
            header.promulgationAmount, header.pageAmount, header.direction,
        ]
        guard values.contains(where: { $0 != nil }) || !header.appendixes.isEmpty || !extras.isEmpty else { return }
        try out.open("OtherInfo")
        try out.leaf("Priority", header.priority)
        try out.leaf("SphereOfPromulgation", header.sphereOfPromulgation)
        try out.leaf("TyperNotation", header.typerNotation)
        try out.leaf("PromulgationAmount", header.promulgationAmount)
        try out.leaf("PageAmount", header.pageAmount)
        try out.leaf("Direction", header.direction)
        if !header.appendixes.isEmpty {
            try out.open("Appendixes")
            for appendix in header.appendixes { try out.leaf("Appendix", appendix) }
            try out.close("Appendixes")
        }
        for element in extras { try out.element(element, defaultNamespace: EdXMLNamespace.uri) }
        try out.close("OtherInfo")
    }

    static func business(
        _ business: EdXMLBusiness, extras: [String: [EdXMLElement]],
        out: inout EdXMLOutput
    ) throws {
        try out.open("Bussiness")
        try out.leaf("DocumentId", business.documentId)
        try out.leaf("BussinessDocType", business.type.rawValue)
        try out.leaf("BussinessDocReason", business.reason)
        try out.leaf("Paper", business.paper)
        if let staff = business.staff { try self.staff(staff, out: &out) }
        if business.documentInfo != nil || business.documentReceiver != nil || !business.receivers.isEmpty {
            try out.open("BussinessDocumentInfo")
            try out.leaf("DocumentInfo", business.documentInfo)
            try out.leaf("DocumentReceiver", business.documentReceiver)
            if !business.receivers.isEmpty {
                try out.open("ReceiverList")
                for receiver in business.receivers {
                    try out.open("Receiver")
                    try out.leaf("OrganId", receiver.organId)
                    try out.leaf("ReceiverType", receiver.receiverType)
                    try out.close("Receiver")
                }
                try out.close("ReceiverList")
            }
            try out.close("BussinessDocumentInfo")
        }
        if !business.replacements.isEmpty {
            try out.open("ReplacementInfoList")
            for replacement in business.replacements {
                try out.open("ReplacementInfo")
                try out.leaf("DocumentId", replacement.documentId)
                try out.open("OrganIdList")
                for organ in replacement.organIds { try out.leaf("OrganId", organ) }
                try out.close("OrganIdList")
                try out.close("ReplacementInfo")
            }
            try out.close("ReplacementInfoList")
        }
        for element in extras["Bussiness"] ?? [] { try out.element(element, defaultNamespace: EdXMLNamespace.uri) }
        try out.close("Bussiness")
    }

    /// A status package (README §4): small, so it is returned whole.
    public static func data(status: EdXMLStatus) throws -> Data {
        var data = Data()
        var out = EdXMLOutput { data.append(contentsOf: $0) }
        try out.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edXML xmlns=\"\(EdXMLNamespace.uri)\">\n")
        try out.raw("<edXML:edXMLEnvelope xmlns:edXML=\"\(EdXMLNamespace.uri)\">\n<edXML:edXMLHeader>\n")
        try out.open("MessageHeader")
        try out.raw("\n")
        try organization("From", status.from, out: &out)
        try responseFor(status.responseFor, out: &out)
        if let staff = status.staff { try self.staff(staff, out: &out) }
        try out.leaf("StatusCode", status.statusCode)
        try out.leaf("Description", status.description)
        try out.leaf("Timestamp", status.timestamp)
        for element in status.extras { try out.element(element, defaultNamespace: EdXMLNamespace.uri) }
        try out.raw("\n")
        try out.close("MessageHeader")
        try out.raw("\n</edXML:edXMLHeader>\n</edXML:edXMLEnvelope>\n</edXML>\n")
        try out.flush()
        return data
    }
}
