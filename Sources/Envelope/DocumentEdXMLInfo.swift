/// What a document's metadata says of it in edXML terms (QCVN 102:2016): its business identity and
/// type, and whether the payload's one file is the original package. Present in payload v2.
public struct DocumentEdXMLInfo: Codable, Sendable, Equatable {
    /// `DocumentId`: `{OrganId},{yyyy/MM/dd},{số}/{ký hiệu}`.
    public var documentId: String?
    /// The issuing agency's OrganId (mã định danh).
    public var organId: String
    /// `BussinessDocType`: 0 new, 1 revocation, 2 update, 3 replacement.
    public var businessDocType: Int
    /// For types 1–3: the DocumentId of the earlier document this one revokes, updates or replaces.
    public var refersTo: String?
    /// True when the payload's one file is the original edXML package, byte for byte.
    public var package: Bool
    /// The name of that file in the payload.
    public static let packageFileName = "package.edxml"
    /// Its media type.
    public static let packageMediaType = "application/edxml+xml"

    enum CodingKeys: String, CodingKey {
        case documentId = "DocumentId"
        case organId = "OrganId"
        case businessDocType = "BussinessDocType"
        case refersTo = "RefersTo"
        case package = "Package"
    }

    public init(
        documentId: String?, organId: String, businessDocType: Int = 0, refersTo: String? = nil,
        package: Bool
    ) {
        self.documentId = documentId
        self.organId = organId
        self.businessDocType = businessDocType
        self.refersTo = refersTo
        self.package = package
    }

    /// The standard DocumentId for a document with số and ký hiệu, or nil without them.
    /// `date` is `yyyy-MM-dd` (LienThong's form) or `yyyy/MM/dd` (edXML's).
    public static func documentId(
        organId: String, date: String?, codeNumber: String?, codeNotation: String?
    )
        -> String?
    {
        guard let date, let number = codeNumber, let notation = codeNotation, !number.isEmpty, !notation.isEmpty
        else { return nil }
        return "\(organId),\(date.replacingOccurrences(of: "-", with: "/")),\(number)/\(notation)"
    }
}
