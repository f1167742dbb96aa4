import Foundation
import Testing
@testable import EdXML

@Suite struct EdXMLReaderTests {
    @Test func theSharedSampleIsReadWhole() throws {
        let sink = MemorySink()
        let path = fixtures.appendingPathComponent("sample-21-CT-TU.edxml").path
        guard case .document(let doc) = try EdXMLReader().read(fileAt: path, sink: sink) else {
            Issue.record("not a document"); return
        }
        let header = doc.header
        #expect(header.from.organId == "000.00.01.H27")
        #expect(header.from.organName == "Tỉnh ủy Hòa Bình (Ban Thường vụ)")
        #expect(header.from.email == nil)
        #expect(header.to.map(\.organId) == ["000.01.00.H27", "000.01.01.H27"])
        #expect(header.documentId == "000.00.01.H27,2016/08/15,21/CT-TU")
        #expect(header.codeNumber == "21" && header.codeNotation == "CT-TU")
        #expect(header.place == "Hòa Bình" && header.promulgationDate == "2016/08/15")
        #expect(header.documentType == 1 && header.documentTypeDetail == 0 && header.documentTypeName == "Chỉ thị")
        #expect(header.subject == "Về việc tăng cường trao đổi văn bản điện tử trên môi trường mạng")
        #expect(header.signerCompetence == "T/M BAN THƯỜNG VỤ" && header.signerPosition == "Bí thư")
        #expect(header.dueDate == "2016/12/31")
        #expect(header.priority == 1 && header.pageAmount == 3 && header.promulgationAmount == 1)
        #expect(header.appendixes == ["Phụ lục: danh sách đơn vị thực hiện"])
        #expect(header.steeringType == 1)
        #expect(header.toPlaces.count == 2)
        #expect(doc.traces == [EdXMLTraceHeader(organId: "000.00.01.H27", timestamp: "2016/08/15 08:30:00")])
        #expect(doc.business?.type == .new && doc.business?.paper == 0)
        #expect(doc.business?.staff?.department == "Văn phòng Tỉnh ủy")
        #expect(doc.manifest.map(\.contentId) == ["cid:1", "cid:2"])
        #expect(doc.attachments.map(\.name) == ["21-CT-TU.zip", "phu-luc.txt"])
        #expect(sink.attachments == doc.attachments)
        #expect(doc.attachments.map(\.size) == sink.bytes.map { UInt64($0.count) })
        #expect(String(decoding: sink.bytes[1], as: UTF8.self) == "Phụ lục: danh sách đơn vị thực hiện (mẫu).\n")
        #expect(sink.bytes[0].starts(with: [0x50, 0x4B, 0x03, 0x04]))
        #expect(doc.extras.isEmpty)
    }

    @Test func theStatusSampleIsAStatusPackage() throws {
        guard case .status(let status) = try EdXMLReader().read(data: try sample("sample-status-03.edxml")) else {
            Issue.record("not a status"); return
        }
        #expect(status.from.organId == "000.01.01.H27")
        #expect(status.statusCode == "03")
        #expect(status.responseFor == EdXMLResponseFor(organId: "000.00.01.H27", code: "21/CT-TU",
                                                       promulgationDate: "2016/08/15",
                                                       documentId: "000.00.01.H27,2016/08/15,21/CT-TU"))
        #expect(status.staff?.staff == "Văn thư (mẫu)")
        #expect(status.description == "Đã tiếp nhận, vào sổ văn bản đến")
        #expect(status.timestamp == "2016/08/15 14:05:00")
    }

    @Test func optionalElementsMissingOrEmptyAreNil() throws {
        let doc = try document(minimal(header: "<e:Subject>  </e:Subject><e:OtherInfo><e:Priority/></e:OtherInfo>"))
        #expect(doc.header.subject == nil && doc.header.priority == nil && doc.header.documentId == nil)
        #expect(doc.header.documentType == nil && doc.business == nil && doc.attachments.isEmpty)
    }

    @Test func reorderedFieldsAndResponseForAfterOtherInfo() throws {
        let doc = try document(minimal(header: """
            <e:SteeringType>\t2\t</e:SteeringType><e:OtherInfo><e:Priority>3</e:Priority></e:OtherInfo>
            <e:ResponseFor><e:OrganId>000.00.01.H27</e:OrganId><e:Code>21/CT-TU</e:Code></e:ResponseFor>
            <e:Subject>Báo cáo</e:Subject><e:Code><e:CodeNotation>BC-UBND</e:CodeNotation>
            <e:CodeNumber>7</e:CodeNumber></e:Code>
            """))
        #expect(doc.header.steeringType == 2 && doc.header.priority == 3 && doc.header.subject == "Báo cáo")
        #expect(doc.header.responseFor.first?.code == "21/CT-TU")
        #expect(doc.header.codeNumber == "7" && doc.header.codeNotation == "BC-UBND")
    }

    @Test func elementsAreMatchedByNamespaceNotPrefix() throws {
        // A different prefix bound to the edXML namespace is read.
        let other = minimal().replacingOccurrences(of: "e:", with: "vb:")
            .replacingOccurrences(of: "xmlns:e", with: "xmlns:vb")
        #expect(try document(other).header.from.organId == "000.00.01.H27")
        // The right prefix bound to another namespace is not edXML: From is not found.
        let wrong = minimal().replacingOccurrences(of: "xmlns:e=\"\(ns)\"", with: "xmlns:e=\"urn:other\"")
        #expect(readError(wrong)?.code == .missing)
    }

    @Test func aSignatureInNoNamespaceIsKept() throws {
        let doc = try document(minimal(headerList: "<Signature xmlns=\"\"><SignedInfo>x</SignedInfo></Signature>"))
        #expect(doc.signature?.name == "Signature" && doc.signature?.namespace == nil)
        #expect(doc.signature?.children.first?.text == "x")
    }

    @Test func unknownElementsAreKept() throws {
        let doc = try document(minimal(header: "<e:Future a=\"1\">x<e:Inner>y</e:Inner></e:Future>"
                                       + "<e:OtherInfo><e:Extra>z</e:Extra></e:OtherInfo>",
                                       root: "<Trailer xmlns=\"urn:x\">t</Trailer>"))
        #expect(doc.extras["MessageHeader"]?.first?.name == "Future")
        #expect(doc.extras["MessageHeader"]?.first?.attributes == [.init(name: "a", value: "1")])
        #expect(doc.extras["MessageHeader"]?.first?.children.first?.text == "y")
        #expect(doc.extras["OtherInfo"]?.first?.text == "z")
        #expect(doc.extras["edXML"]?.first?.namespace == "urn:x")
    }

    @Test func twoThousandRecipients() throws {
        let to = (0..<2000).map { "<e:To><e:OrganId>000.\($0 / 100).\($0 % 100).H27</e:OrganId></e:To>" }.joined()
        let doc = try document(minimal(to: to))
        #expect(doc.header.to.count == 2000)
        #expect(doc.header.to.last?.organId == "000.19.99.H27")
    }

    @Test func businessUpdateAndReplacement() throws {
        let doc = try document(minimal(headerList: """
            <e:TraceHeaderList><e:Bussiness><e:DocumentId>D2</e:DocumentId><e:BussinessDocType>3</e:BussinessDocType>
            <e:BussinessDocumentInfo><e:DocumentInfo>1</e:DocumentInfo><e:DocumentReceiver>0</e:DocumentReceiver>
            <e:ReceiverList><e:Receiver><e:OrganId>000.01.01.H27</e:OrganId><e:ReceiverType>1</e:ReceiverType>
            </e:Receiver></e:ReceiverList></e:BussinessDocumentInfo>
            <e:ReplacementInfoList><e:ReplacementInfo><e:DocumentId>D1</e:DocumentId><e:OrganIdList>
            <e:OrganId>000.01.01.H27</e:OrganId></e:OrganIdList></e:ReplacementInfo></e:ReplacementInfoList>
            </e:Bussiness></e:TraceHeaderList>
            """))
        #expect(doc.business?.type == .replacement && doc.identity == "D2")
        #expect(doc.business?.documentInfo == 1 && doc.business?.receivers.first?.receiverType == 1)
        #expect(doc.business?.replacements == [EdXMLReplacement(documentId: "D1", organIds: ["000.01.01.H27"])])
    }
}
