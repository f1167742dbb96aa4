/// The document's metadata, carried encrypted in the payload. Field names follow edXML's
/// MessageHeader (QCVN 102:2016/BTTTT) so they map one to one onto the national format.
public struct DocumentMetadata: Codable, Sendable, Equatable {
    /// Trích yếu: what the document is about.
    public var subject: String
    /// Số: the document number, e.g. `21`.
    public var codeNumber: String?
    /// Ký hiệu: the notation, e.g. `CT/TU`.
    public var codeNotation: String?
    /// Loại văn bản, e.g. `Chỉ thị`, `Báo cáo`, `Công văn`.
    public var documentType: String?
    /// Ngày ban hành, ISO 8601 date (`2026-11-25`).
    public var promulgationDate: String?
    /// Nơi ban hành, e.g. `Hòa Bình`.
    public var promulgationPlace: String?
    /// Hạn xử lý, ISO 8601 date.
    public var dueDate: String?
    /// Chỉ đạo (edXML SteeringType): 0 thông thường, 1 chỉ đạo, 2 báo cáo thực hiện chỉ đạo.
    public var steeringType: Int?
    /// Độ mật. Anything but `.none` is refused at sealing time.
    public var secrecyLevel: SecrecyLevel
    /// Người ký (signer's name and title), free text.
    public var signerInfo: String?
    /// The issuing organisation's name, as printed on the document.
    public var organName: String?
    /// The document in edXML terms (payload v2); nil in documents sealed by older nodes.
    public var edxml: DocumentEdXMLInfo?

    enum CodingKeys: String, CodingKey {
        case subject = "Subject"
        case codeNumber = "CodeNumber"
        case codeNotation = "CodeNotation"
        case documentType = "DocumentType"
        case promulgationDate = "PromulgationDate"
        case promulgationPlace = "PromulgationPlace"
        case dueDate = "DueDate"
        case steeringType = "SteeringType"
        case secrecyLevel = "SecrecyLevel"
        case signerInfo = "SignerInfo"
        case organName = "OrganName"
        case edxml = "EdXML"
    }

    public init(
        subject: String, codeNumber: String? = nil, codeNotation: String? = nil, documentType: String? = nil,
        promulgationDate: String? = nil, promulgationPlace: String? = nil, dueDate: String? = nil,
        steeringType: Int? = nil, secrecyLevel: SecrecyLevel = .none, signerInfo: String? = nil,
        organName: String? = nil, edxml: DocumentEdXMLInfo? = nil
    ) {
        self.edxml = edxml
        self.subject = subject
        self.codeNumber = codeNumber
        self.codeNotation = codeNotation
        self.documentType = documentType
        self.promulgationDate = promulgationDate
        self.promulgationPlace = promulgationPlace
        self.dueDate = dueDate
        self.steeringType = steeringType
        self.secrecyLevel = secrecyLevel
        self.signerInfo = signerInfo
        self.organName = organName
    }

    /// `21/CT-TU` style (số/ký hiệu, as written on the document): both together, when present.
    public var reference: String? {
        switch (codeNumber, codeNotation) {
        case (let n?, let x?): "\(n)/\(x)"
        case (let n?, nil): n
        case (nil, let x?): x
        case (nil, nil): nil
        }
    }

    /// The secrecy policy: state-secret documents do not travel on the ordinary exchange.
    public func checkSecrecyPolicy() throws {
        guard secrecyLevel == .none else {
            throw EnvelopeError(
                .secrecyRefused,
                """
                document '\(subject.prefix(60))' is marked \(secrecyLevel.rawValue): state-secret documents \
                (Mật / Tối mật / Tuyệt mật) may not be sent on the ordinary exchange; use the channel for \
                classified documents
                """
            )
        }
    }
}
