import Foundation
import Testing
@testable import EdXML

@Suite struct EdXMLWriterTests {
    /// Reads the sample, writes it again from the model, reads that: the same model, the same bytes.
    @Test func theSampleRoundTrips() throws {
        let first = MemorySink()
        guard case .document(let doc) = try EdXMLReader().read(data: try sample("sample-21-CT-TU.edxml"),
                                                               sink: first) else {
            Issue.record("not a document"); return
        }
        let sources = zip(doc.attachments, first.bytes).map { EdXMLAttachmentSource.bytes($1, attachment: $0) }
        let written = try EdXMLWriter.data(document: doc, attachments: sources)
        let second = MemorySink()
        guard case .document(let again) = try EdXMLReader().read(data: written, sink: second) else {
            Issue.record("not a document"); return
        }
        #expect(again == doc)
        #expect(second.bytes == first.bytes)
    }

    @Test func unknownElementsAreReEmitted() throws {
        let text = minimal(header: "<e:Future a=\"1\">x<e:Inner>y</e:Inner></e:Future>"
                           + "<e:OtherInfo><e:Extra>z</e:Extra></e:OtherInfo>",
                           headerList: "<Signature xmlns=\"\"><SignedInfo>s</SignedInfo></Signature>"
                           + "<Audit xmlns=\"urn:x\"><Who>w</Who></Audit>",
                           root: "<e:Trailer xmlns:e=\"\(ns)\">t</e:Trailer>")
        let doc = try document(text)
        let again = try EdXMLReader().read(data: try EdXMLWriter.data(document: doc, attachments: []))
        #expect(again == .document(doc))
        #expect(doc.extras["edXMLHeader"]?.first?.children.first?.namespace == "urn:x")
        #expect(doc.extras["edXML"]?.first?.name == "Trailer")
    }

    @Test func aDocumentBuiltFromMetadataIsReadBack() throws {
        var header = EdXMLMessageHeader(from: EdXMLOrganization(organId: "000.01.01.H27", organName: "Phường <A> & B"))
        header.to = [EdXMLOrganization(organId: "000.00.01.H27")]
        header.subject = "Báo cáo \"quý\" \u{01}IV"
        header.codeNumber = "12"
        header.codeNotation = "BC-UBND"
        header.priority = 4
        var doc = EdXMLDocument(header: header)
        doc.business = EdXMLBusiness(documentId: "D", type: .update, reason: "sửa")
        let bytes = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let file = EdXMLAttachment(contentId: nil, name: "báo cáo.pdf", description: nil,
                                   contentType: "application/pdf", size: UInt64(bytes.count))
        let written = try EdXMLWriter.data(document: doc, attachments: [.bytes(bytes, attachment: file)])
        let sink = MemorySink()
        guard case .document(let read) = try EdXMLReader().read(data: written, sink: sink) else {
            Issue.record("not a document"); return
        }
        #expect(read.header.from.organName == "Phường <A> & B")
        #expect(read.header.subject == "Báo cáo \"quý\" IV")
        #expect(read.header.priority == 4 && read.business?.type == .update)
        #expect(read.manifest.first?.attachmentName == "báo cáo.pdf" && read.manifest.first?.contentId == "cid:1")
        #expect(sink.bytes == [bytes])
        #expect(read.attachments.first?.size == UInt64(bytes.count))
    }

    /// Sources may return pieces of any size (short reads): padding still appears only at the end.
    @Test func oddSizedPiecesEncodeAsOneStream() throws {
        let bytes = Data((0..<100_001).map { UInt8(truncatingIfNeeded: $0 * 13) })
        var offset = 0
        let file = EdXMLAttachment(contentId: nil, name: "a", description: nil, contentType: nil, size: 0)
        let source = EdXMLAttachmentSource(attachment: file) { max in
            let end = min(bytes.count, offset + min(max, 1000))
            defer { offset = end }
            return bytes.subdata(in: offset..<end)
        }
        let sink = MemorySink()
        _ = try EdXMLReader().read(data: try EdXMLWriter.data(document: try document(minimal()), attachments: [source]),
                                   sink: sink)
        #expect(sink.bytes == [bytes])
    }

    @Test func statusPackagesRoundTrip() throws {
        guard case .status(let status) = try EdXMLReader().read(data: try sample("sample-status-03.edxml")) else {
            Issue.record("not a status"); return
        }
        #expect(try EdXMLReader().read(data: try EdXMLWriter.data(status: status)) == .status(status))
        var refused = status
        refused.statusCode = "02"
        refused.description = "Gửi nhầm đơn vị"
        #expect(try EdXMLReader().read(data: try EdXMLWriter.data(status: refused)) == .status(refused))
    }

    @Test func aFileIsWrittenOnlyWhenComplete() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edxml-w-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let doc = try document(minimal())
        let failing = EdXMLAttachmentSource(attachment: EdXMLAttachment(contentId: nil, name: "a", description: nil,
                                                                        contentType: nil, size: 1)) { _ in
            throw EdXMLError(.io, "disk gone")
        }
        let url = dir.appendingPathComponent("out.edxml")
        #expect(throws: EdXMLError.self) { try EdXMLWriter.write(document: doc, attachments: [failing], toFile: url) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        try EdXMLWriter.write(document: doc, attachments: [], toFile: url)
        #expect(try EdXMLReader().read(fileAt: url.path) == .document(doc))
    }

    @Test func theDirectorySinkWritesSafeUniqueNames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edxml-s-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let body = "<ContentTransferEncoded>QUJD</ContentTransferEncoded>"
        let attachments = ["../../etc/passwd", "a.txt", "a.txt"].map {
            "<Attachment><AttachmentName>\($0)</AttachmentName>\(body)</Attachment>"
        }.joined()
        let sink = try EdXMLDirectorySink(directory: dir)
        _ = try read(minimal(attachments: attachments), sink: sink)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["_.._etc_passwd", "a-2.txt", "a.txt"])
        #expect(try Data(contentsOf: dir.appendingPathComponent("a-2.txt")) == Data("ABC".utf8))
    }
}
