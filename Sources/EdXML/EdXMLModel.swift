/// EdXML: the national document-exchange format (QCVN 102:2016/BTTTT) as LienThong reads and
/// writes it. A pure module (Foundation only): no network, no spool.
///
/// The model keeps what the format defines as typed fields and every element it does not know as
/// an `EdXMLElement` tree (`extras`), so a package read and written again loses nothing.
///
/// Security note: packages come from e-office software and, through the exchange, from other
/// agencies: untrusted XML of any size. The reader streams (`EdXMLReader`), checks every limit
/// in `EdXMLLimits` before it buffers, decodes attachments straight into a sink and never holds
/// one whole; it never resolves external entities or fetches anything.

/// The edXML namespace. Elements are matched by this URI, never by their prefix.
public enum EdXMLNamespace {
    public static let uri = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
}

/// An element the model has no field for, kept whole (bounded by `EdXMLLimits.maxTreeBytes`).
public struct EdXMLElement: Sendable, Equatable, Codable {
    /// Namespace URI; nil or empty for an element in no namespace (e.g. `Signature`).
    public var namespace: String?
    /// Local name.
    public var name: String
    public var attributes: [Attribute]
    /// Text directly inside, before the first child (mixed content is kept as text + children).
    public var text: String
    public var children: [EdXMLElement]

    public struct Attribute: Sendable, Equatable, Codable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(
        namespace: String?, name: String, attributes: [Attribute] = [], text: String = "",
        children: [EdXMLElement] = []
    ) {
        self.namespace = namespace
        self.name = name
        self.attributes = attributes
        self.text = text
        self.children = children
    }
}

/// An agency (`From`, `To`): OrganId is its mã định danh, e.g. `000.00.01.H27`.
public struct EdXMLOrganization: Sendable, Equatable, Codable {
    public var organId: String
    public var organizationInCharge: String?
    public var organName: String?
    public var organAdd: String?
    public var email: String?
    public var telephone: String?
    public var fax: String?
    public var website: String?
    public var extras: [EdXMLElement] = []

    public init(
        organId: String, organizationInCharge: String? = nil, organName: String? = nil,
        organAdd: String? = nil, email: String? = nil, telephone: String? = nil, fax: String? = nil,
        website: String? = nil
    ) {
        self.organId = organId
        self.organizationInCharge = organizationInCharge
        self.organName = organName
        self.organAdd = organAdd
        self.email = email
        self.telephone = telephone
        self.fax = fax
        self.website = website
    }
}

/// `ResponseFor`: the document a package answers (or a status package is about).
public struct EdXMLResponseFor: Sendable, Equatable, Codable {
    public var organId: String?
    /// `số/ký hiệu`, e.g. `21/CT-TU`.
    public var code: String?
    /// `yyyy/MM/dd`.
    public var promulgationDate: String?
    public var documentId: String?

    public init(
        organId: String? = nil, code: String? = nil, promulgationDate: String? = nil,
        documentId: String? = nil
    ) {
        self.organId = organId
        self.code = code
        self.promulgationDate = promulgationDate
        self.documentId = documentId
    }
}

/// `StaffInfo`: the clerk who sent the package or the status.
public struct EdXMLStaffInfo: Sendable, Equatable, Codable {
    public var department: String?
    public var staff: String?
    public var mobile: String?
    public var email: String?

    public init(department: String? = nil, staff: String? = nil, mobile: String? = nil, email: String? = nil) {
        self.department = department
        self.staff = staff
        self.mobile = mobile
        self.email = email
    }
}

/// The document's metadata (`MessageHeader` of a document package), README §2.
public struct EdXMLMessageHeader: Sendable, Equatable, Codable {
    public var from: EdXMLOrganization
    public var to: [EdXMLOrganization] = []
    public var documentId: String?
    /// Số, e.g. `21`.
    public var codeNumber: String?
    /// Ký hiệu, e.g. `CT-TU`.
    public var codeNotation: String?
    public var place: String?
    /// `yyyy/MM/dd`.
    public var promulgationDate: String?
    public var documentType: Int?
    public var documentTypeDetail: Int?
    public var documentTypeName: String?
    public var subject: String?
    public var content: String?
    public var signerCompetence: String?
    public var signerPosition: String?
    public var signerFullName: String?
    /// `yyyy/MM/dd`.
    public var dueDate: String?
    /// 0 Thường, 1 Khẩn, 2 Thượng khẩn, 3 Hỏa tốc, 4 Hỏa tốc hẹn giờ.
    public var priority: Int?
    public var sphereOfPromulgation: String?
    public var typerNotation: String?
    public var promulgationAmount: Int?
    public var pageAmount: Int?
    public var direction: String?
    public var appendixes: [String] = []
    public var responseFor: [EdXMLResponseFor] = []
    /// 0 ordinary, 1 directive, 2 report on a directive.
    public var steeringType: Int?
    public var toPlaces: [String] = []

    public init(from: EdXMLOrganization) { self.from = from }
}

/// `TraceHeader`: one system the package passed through.
public struct EdXMLTraceHeader: Sendable, Equatable, Codable {
    public var organId: String
    /// `yyyy/MM/dd HH:mm:ss`.
    public var timestamp: String
    public init(organId: String, timestamp: String) {
        self.organId = organId
        self.timestamp = timestamp
    }
}

/// `BussinessDocType` (spelled as in the standard).
public enum EdXMLBusinessType: Int, Sendable, Equatable, Codable, CaseIterable {
    case new = 0
    case revocation = 1
    case update = 2
    case replacement = 3
}

/// `ReplacementInfo`: a document this one replaces, and for whom.
public struct EdXMLReplacement: Sendable, Equatable, Codable {
    public var documentId: String
    public var organIds: [String]
    public init(documentId: String, organIds: [String]) {
        self.documentId = documentId
        self.organIds = organIds
    }
}

/// `Receiver` of an update's `BussinessDocumentInfo`.
public struct EdXMLReceiver: Sendable, Equatable, Codable {
    public var organId: String
    public var receiverType: Int?
    public init(organId: String, receiverType: Int? = nil) {
        self.organId = organId
        self.receiverType = receiverType
    }
}

/// `Bussiness` in `TraceHeaderList` (README §3).
public struct EdXMLBusiness: Sendable, Equatable, Codable {
    public var documentId: String?
    public var type: EdXMLBusinessType
    public var reason: String?
    public var paper: Int?
    public var staff: EdXMLStaffInfo?
    /// Update: `BussinessDocumentInfo/DocumentInfo` and `DocumentReceiver` (0/1).
    public var documentInfo: Int?
    public var documentReceiver: Int?
    public var receivers: [EdXMLReceiver] = []
    /// Replacement: `ReplacementInfoList/ReplacementInfo`.
    public var replacements: [EdXMLReplacement] = []

    public init(documentId: String?, type: EdXMLBusinessType, reason: String? = nil) {
        self.documentId = documentId
        self.type = type
        self.reason = reason
    }
}

/// One `edXMLManifest/Reference`.
public struct EdXMLReference: Sendable, Equatable, Codable {
    public var contentId: String?
    public var contentType: String?
    public var description: String?
    public var attachmentName: String?
    public init(contentId: String?, contentType: String?, description: String?, attachmentName: String?) {
        self.contentId = contentId
        self.contentType = contentType
        self.description = description
        self.attachmentName = attachmentName
    }
}

/// One `AttachmentEncoded/Attachment` as read: its fields and the size of its decoded bytes
/// (which went to the sink, never into the model).
public struct EdXMLAttachment: Sendable, Equatable, Codable {
    public var contentId: String?
    public var name: String
    public var description: String?
    public var contentType: String?
    public var size: UInt64
    public init(contentId: String?, name: String, description: String?, contentType: String?, size: UInt64) {
        self.contentId = contentId
        self.name = name
        self.description = description
        self.contentType = contentType
        self.size = size
    }
}

/// A document package (gói tin văn bản).
public struct EdXMLDocument: Sendable, Equatable, Codable {
    public var header: EdXMLMessageHeader
    public var traces: [EdXMLTraceHeader] = []
    public var business: EdXMLBusiness?
    /// The `Signature` element (XML-DSig, often absent or empty), kept as it came.
    public var signature: EdXMLElement?
    public var manifest: [EdXMLReference] = []
    public var attachments: [EdXMLAttachment] = []
    /// Elements the model has no field for, keyed by the local name of their parent (`MessageHeader`,
    /// `OtherInfo`, `Bussiness`, `TraceHeaderList`, `edXMLHeader`, `edXMLBody`, `edXMLEnvelope`, `edXML`),
    /// re-emitted at the end of that parent.
    public var extras: [String: [EdXMLElement]] = [:]

    public init(header: EdXMLMessageHeader) { self.header = header }

    /// The business identity this document claims: `DocumentId`, else the one in `Bussiness`.
    public var identity: String? { header.documentId ?? business?.documentId }
}

/// A status package (gói tin trạng thái), README §4.
public struct EdXMLStatus: Sendable, Equatable, Codable {
    public var from: EdXMLOrganization
    public var responseFor: EdXMLResponseFor
    public var staff: EdXMLStaffInfo?
    /// `01` … `06`, `13`, `15`, `16`.
    public var statusCode: String
    public var description: String?
    /// `yyyy/MM/dd HH:mm:ss`.
    public var timestamp: String?
    public var extras: [EdXMLElement] = []

    public init(
        from: EdXMLOrganization, responseFor: EdXMLResponseFor, staff: EdXMLStaffInfo? = nil,
        statusCode: String, description: String? = nil, timestamp: String? = nil
    ) {
        self.from = from
        self.responseFor = responseFor
        self.staff = staff
        self.statusCode = statusCode
        self.description = description
        self.timestamp = timestamp
    }
}

/// What a package turned out to be.
public enum EdXMLPackage: Sendable, Equatable {
    case document(EdXMLDocument)
    case status(EdXMLStatus)
}

/// The reader's limits, each checked before the bytes it counts are buffered.
public struct EdXMLLimits: Sendable, Equatable {
    /// Longest text of one element (attachments' base64 excepted: it is streamed).
    public var maxTextBytes: Int = 64 * 1024
    /// Most `To` elements.
    public var maxRecipients: Int = 5_000
    /// Most attachments (and manifest references).
    public var maxAttachments: Int = 1_000
    /// Largest package in bytes, as read from the input.
    public var maxPackageBytes: UInt64 = 4 << 30
    /// Most bytes of the parsed tree (all text and names, attachments' base64 excepted).
    public var maxTreeBytes: Int = 16 << 20
    /// Deepest nesting of elements.
    public var maxDepth: Int = 32
    /// Most repeated small elements of one kind (trace headers, places, appendixes, receivers…).
    public var maxRepeats: Int = 10_000

    public init() {}
    public static let `default` = EdXMLLimits()
}
