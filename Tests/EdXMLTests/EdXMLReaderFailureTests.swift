import Foundation
import Testing
@testable import EdXML

/// Every malformed input gives its named error, with a line where one exists, and never a crash.
@Suite struct EdXMLReaderFailureTests {
    @Test func strayBytesBeforeTheDeclaration() throws {
        let error = readError("garbage\r\n" + minimal())
        #expect(error?.code == .strayBytes && error?.line == 1 && error?.column == 1)
        #expect(readError("\n  " + minimal())?.code == .strayBytes)
        // A byte-order mark is not stray.
        #expect(readError("\u{FEFF}" + minimal()) == nil)
    }

    @Test func aDoctypeIsRefused() {
        let text = minimal().replacingOccurrences(of: "<edXML xmlns",
                                                  with: "<!DOCTYPE edXML [<!ENTITY x \"y\">]>\n<edXML xmlns")
        let error = readError(text)
        #expect(error?.code == .dtd && error?.line == 2)
    }

    @Test func malformedXMLNamesItsLine() {
        let text = minimal().replacingOccurrences(of: "</e:From>", with: "</e:Frm>")
        let error = readError(text)
        #expect(error?.code == .malformed)
        #expect(error?.line == 3)
        #expect(readError("")?.code == .malformed)
        #expect(readError(String(minimal().prefix(200)))?.code == .malformed)
    }

    @Test func notAnEdXMLPackage() {
        #expect(readError("<?xml version=\"1.0\"?><html><body/></html>")?.code == .notEdXML)
    }

    @Test func missingRequiredParts() {
        #expect(readError(minimal(to: ""))?.code == .missing)
        let noFrom = minimal().replacingOccurrences(of: "<e:OrganId>000.00.01.H27</e:OrganId>", with: "")
        let error = readError(noFrom)
        #expect(error?.code == .missing && error?.line == 3)
    }

    /// Only a revocation, update or replacement may leave its recipients to the earlier document.
    @Test func onlyABusinessPackageMayOmitTo() throws {
        let business = "<e:TraceHeaderList><e:Bussiness><e:DocumentId>000.00.01.H27,2026/12/01,1/QĐ</e:DocumentId>"
            + "<e:BussinessDocType>TYPE</e:BussinessDocType></e:Bussiness></e:TraceHeaderList>"
        #expect(readError(minimal(to: "", headerList: business.replacingOccurrences(of: "TYPE", with: "0")))?.code
                == .missing)
        let revocation = try EdXMLReader().read(data: Data(minimal(
            to: "", headerList: business.replacingOccurrences(of: "TYPE", with: "1")).utf8))
        guard case .document(let document) = revocation else { Issue.record("not a document"); return }
        #expect(document.header.to.isEmpty && document.business?.type == .revocation)
    }

    @Test func badNumbersAreInvalidWithTheirLine() {
        let error = readError(minimal(header: "\n<e:OtherInfo><e:Priority>9</e:Priority></e:OtherInfo>"))
        #expect(error?.code == .invalid && error?.line == 4)
        #expect(readError(minimal(header: "<e:SteeringType>một</e:SteeringType>"))?.code == .invalid)
        let status = (try? sampleText("sample-status-03.edxml"))?
            .replacingOccurrences(of: ">03<", with: ">07<") ?? ""
        #expect(readError(status)?.code == .invalid)
    }

    @Test func limitsAreNamed() {
        var limits = EdXMLLimits()
        limits.maxRecipients = 3
        let four = String(repeating: "<e:To><e:OrganId>x</e:OrganId></e:To>", count: 4)
        #expect(readError(minimal(to: four), limits: limits)?.code == .tooMany)
        limits = EdXMLLimits()
        limits.maxTextBytes = 100
        let error = readError(minimal(header: "<e:Subject>\(String(repeating: "á", count: 60))</e:Subject>"),
                              limits: limits)
        #expect(error?.code == .tooLarge && error?.line != nil)
        limits = EdXMLLimits()
        limits.maxAttachments = 1
        let two = String(repeating: "<Attachment><AttachmentName>a</AttachmentName></Attachment>", count: 2)
        #expect(readError(minimal(attachments: two), limits: limits)?.code == .tooMany)
        limits = EdXMLLimits()
        limits.maxPackageBytes = 100
        #expect(readError(minimal(), limits: limits)?.code == .tooLarge)
        limits = EdXMLLimits()
        limits.maxDepth = 8
        let deep = String(repeating: "<e:X>", count: 10) + String(repeating: "</e:X>", count: 10)
        #expect(readError(minimal(header: deep), limits: limits)?.code == .tooDeep)
        limits = EdXMLLimits()
        limits.maxTreeBytes = 4096
        let wide = String(repeating: "<e:Y>0123456789</e:Y>", count: 400)
        #expect(readError(minimal(header: wide), limits: limits)?.code == .tooLarge)
    }

    @Test func badBase64IsNamed() {
        let bad = "<Attachment><ContentTransferEncoded>QUJD*</ContentTransferEncoded></Attachment>"
        #expect(readError(minimal(attachments: bad))?.code == .base64)
        let short = "<Attachment><ContentTransferEncoded>QUJ</ContentTransferEncoded></Attachment>"
        #expect(readError(minimal(attachments: short))?.code == .base64)
        let padded = "<Attachment><ContentTransferEncoded>QQ==QUJD</ContentTransferEncoded></Attachment>"
        #expect(readError(minimal(attachments: padded))?.code == .base64)
    }

    @Test func base64WithLineBreaksAndPadding() throws {
        let sink = MemorySink()
        let body = "<Attachment><AttachmentName>a.txt</AttachmentName><ContentTransferEncoded>\n"
            + "QUJD\r\n REVG\tRw==\n</ContentTransferEncoded></Attachment>"
        _ = try read(minimal(attachments: body), sink: sink)
        #expect(sink.bytes == [Data("ABCDEFG".utf8)])
        #expect(sink.attachments.first?.size == 7)
    }

    /// Found by the edxml fuzz target: an attachment body anywhere but `edXML/AttachmentEncoded/
    /// Attachment` reached the sink without an attachment begun (and crashed the reader).
    @Test func attachmentElementsElsewhereAreOrdinaryElements() throws {
        let stray = "<e:AttachmentEncoded><e:Attachment><e:ContentTransferEncoded>QUJD</e:ContentTransferEncoded>"
            + "</e:Attachment></e:AttachmentEncoded>"
        let sink = MemorySink()
        guard case .document(let document) = try read(minimal(header: stray), sink: sink) else {
            Issue.record("not a document"); return
        }
        #expect(sink.bytes.isEmpty && document.attachments.isEmpty)
        #expect(document.extras["MessageHeader"]?.first?.name == "AttachmentEncoded")
        // Two AttachmentEncoded at the root: both attachments, in order, each with its own bytes.
        let body = "<Attachment><AttachmentName>a.txt</AttachmentName><ContentTransferEncoded>QUJD"
            + "</ContentTransferEncoded><ContentTransferEncoded>REVG</ContentTransferEncoded></Attachment>"
        let second = "<AttachmentEncoded xmlns=\"\(ns)\"><Attachment><AttachmentName>b.txt</AttachmentName>"
            + "<ContentTransferEncoded>Rw==</ContentTransferEncoded></Attachment></AttachmentEncoded>"
        let two = minimal(attachments: body).replacingOccurrences(of: "</edXML>", with: second + "</edXML>")
        let sink2 = MemorySink()
        guard case .document(let both) = try read(two, sink: sink2) else { Issue.record("not a document"); return }
        #expect(sink2.bytes == [Data("ABCDEF".utf8), Data("G".utf8)])
        #expect(both.attachments.map(\.name) == ["a.txt", "b.txt"] && both.attachments.map(\.size) == [6, 1])
    }

    /// Found by the edxml fuzz target: a byte 0xFF in a tag name crashed Foundation's XMLParser
    /// (a force-unwrapped UTF-8 name). Input that is not UTF-8 is refused before the parser sees it,
    /// from memory and from a file alike.
    @Test func bytesThatAreNotUTF8AreRefusedNotParsed() throws {
        let good = Data(minimal().utf8)
        let name = Array("<e:From>".utf8)
        let at = try #require(good.firstRange(of: Data(name))).lowerBound + 3
        // Each with the position of its first byte that cannot be UTF-8: a lone 0xFF, an overlong, a
        // surrogate, above U+10FFFF, a character cut short by the next '<'.
        let cases: [([UInt8], Int)] = [([0xFF], 0), ([0xC0, 0xAF], 0), ([0xED, 0xA0, 0x80], 1),
                                       ([0xF4, 0x90, 0x80, 0x80], 1), ([0xE1, 0x80], 2)]
        for (bad, first) in cases {
            let at = at + first
            var data = good
            data.insert(contentsOf: bad, at: at - first)
            let error = readError(data: data)
            #expect(error?.code == .encoding && error?.message.contains("byte \(at)") == true, "\(bad)")
            let path = NSTemporaryDirectory() + "edxml-utf8-\(UUID().uuidString).edxml"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try data.write(to: URL(fileURLWithPath: path))
            do {
                _ = try EdXMLReader().read(fileAt: path)
                Issue.record("read a file that is not UTF-8")
            } catch let e as EdXMLError {
                #expect(e.code == .encoding && e.message.contains("byte \(at)"))
            }
        }
        var cut = good
        cut.append(contentsOf: [0xE1, 0xBB])  // a character cut off at the end
        #expect(readError(data: cut)?.code == .encoding)
        #expect(readError(data: Data(minimal(header: "<e:Subject>Thị xã Ứng Hòa</e:Subject>").utf8)) == nil)
    }

    /// Found by the edxml fuzz target: `<?xm?>` (a processing instruction without data) crashed
    /// Foundation's XMLParser. Processing instructions after the declaration are refused.
    @Test func processingInstructionsAreRefused() throws {
        let inBody = minimal(header: "<?x?>")
        #expect(readError(inBody)?.code == .malformed && readError(inBody)?.message.contains("processing") == true)
        let inProlog = minimal().replacingOccurrences(of: "?>\n", with: "?>\n<?xml-stylesheet href=\"a.xsl\"?>\n")
        #expect(readError(inProlog)?.message.contains("processing") == true)
        let path = NSTemporaryDirectory() + "edxml-pi-\(UUID().uuidString).edxml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("<?xm?>\n  <eHdXML:St>\n".utf8).write(to: URL(fileURLWithPath: path))
        do { _ = try EdXMLReader().read(fileAt: path); Issue.record("read a processing instruction") } catch {
            #expect((error as? EdXMLError)?.code == .malformed)
        }
        // Found by the fuzzer too: `<?` at byte 3 is a declaration only after a byte-order mark.
        #expect(readError(data: Data("<Ex<?TF?>\n<xll/edXor>\n".utf8))?.message.contains("processing") == true)
        // Found by the fuzzer: a declared UTF-7 crashed libxml2 once the parse was stopped at its
        // first error. Only UTF-8 is read.
        let utf7 = minimal().replacingOccurrences(of: "encoding=\"UTF-8\"", with: "encoding=\"UTF-7\"")
        #expect(utf7.contains("UTF-7") && readError(utf7)?.code == .encoding)
        #expect(readError(minimal().replacingOccurrences(of: "encoding=\"UTF-8\"", with: "encoding='utf-8'")) == nil)
        // The declaration itself, after a byte-order mark too, is fine.
        #expect(readError(data: Data([0xEF, 0xBB, 0xBF]) + Data(minimal().utf8)) == nil)
    }

    @Test func truncatedAtEveryPointNeverCrashes() throws {
        let whole = try sample("sample-21-CT-TU.edxml")
        for cut in stride(from: 0, to: whole.count, by: 37) {
            do { _ = try EdXMLReader().read(data: whole.prefix(cut)) } catch is EdXMLError {} catch {
                Issue.record("cut at \(cut): \(error)")
            }
        }
    }
}
