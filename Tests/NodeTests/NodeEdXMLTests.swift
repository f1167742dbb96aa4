import Foundation
import Testing
import Control
import EdXML

/// edXML end to end on a real network: a package sent at one end arrives byte-identical at the other.
@Suite(.serialized) struct NodeEdXMLTests {
    static let sample = URL(fileURLWithPath: TestNetwork.repositoryRoot + "/Tests/Fixtures/edxml/sample-21-CT-TU.edxml")

    /// The shared sample as commune 1.1 would send it: From 1.1, To an agency outside this network
    /// and commune 2.1 (in the other district).
    func communePackage(_ net: TestNetwork) throws -> String {
        var text = try String(contentsOf: Self.sample, encoding: .utf8)
        text = text.replacingOccurrences(of: "000.01.01.H27", with: commune21)
            .replacingOccurrences(of: "000.01.00.H27", with: "999.99.99.H27")
            .replacingOccurrences(of: "000.00.01.H27", with: commune11)
        let path = net.dir + "/21-CT-TU.edxml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func failure(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test func aPackageFromACommuneArrivesByteIdenticalInAnotherDistrict() throws {
        let net = try TestNetwork()
        try net.startAll()
        defer { net.stopAll() }
        let package = try communePackage(net)
        // Unknown recipients: nothing is sent unless --skip-unknown.
        let unknown = failure { try net.cli(commune11, "send", "--edxml", package) }
        #expect(unknown.contains("EDXML-UNKNOWN-ORGAN") && unknown.contains("999.99.99.H27"))
        #expect(try net.json([TrackSummary].self, commune11, "track").isEmpty)
        // From must be this node.
        let elsewhere = failure { try net.cli(commune22, "send", "--edxml", package, "--skip-unknown") }
        #expect(elsewhere.contains("EDXML-NOT-FROM-HERE"))

        let reports = try net.json([SentReport].self, commune11, "send", "--edxml", package, "--skip-unknown")
        #expect(reports.count == 1 && reports[0].skipped == ["999.99.99.H27"] && reports[0].recipients == 1)
        #expect(reports[0].documentId == "\(commune11),2016/08/15,21/CT-TU")
        let id = reports[0].id
        try waitUntil("the package is in commune 2.1's inbox") { try net.inbox(commune21).map(\.id) == [id] }
        let view = try net.json(DocumentView.self, commune21, "inbox", "show", id)
        #expect(view.subject == "Về việc tăng cường trao đổi văn bản điện tử trên môi trường mạng")
        #expect(view.reference == "21/CT-TU" && view.documentType == "Chỉ thị")
        #expect(view.documentId == "\(commune11),2016/08/15,21/CT-TU" && view.businessDocType == 0)
        #expect(view.edxmlPackage == true && view.item.urgency == "khan")  // Priority 1 = Khẩn
        // The rest of the header, as `inbox show` prints it.
        #expect(view.promulgationDate == "2016-08-15" && view.promulgationPlace == "Hòa Bình")
        #expect(view.dueDate == "2016-12-31" && view.steeringType == 1)
        #expect(view.signerInfo?.contains("Bí thư") == true && view.signerInfo?.contains("T/M BAN THƯỜNG VỤ") == true)
        let shown = try net.cli(commune21, "inbox", "show", id)
        #expect(shown.contains("ban hành  Hòa Bình, 2016-08-15") && shown.contains("hạn xử lý 2016-12-31"))
        #expect(shown.contains("chỉ đạo   1 (chỉ đạo)") && shown.contains("người ký"))

        // The original, byte for byte.
        let out = net.dir + "/received.edxml"
        try net.cli(commune21, "inbox", "export", id, "--edxml", out)
        #expect(FileManager.default.contents(atPath: out) == FileManager.default.contents(atPath: package))
        // The attachments, decoded: the same bytes the reader gets from the sender's package.
        try net.cli(commune21, "inbox", "export", id, "--out", net.dir + "/files")
        let expected = try EdXMLDirectorySink(directory: URL(fileURLWithPath: net.dir + "/expected"))
        _ = try EdXMLReader().read(fileAt: package, sink: expected)
        #expect(expected.files.count == 2)
        for file in expected.files {
            let name = file.url.lastPathComponent
            #expect(FileManager.default.contents(atPath: net.dir + "/files/" + name)
                    == FileManager.default.contents(atPath: file.url.path), "\(name)")
        }
        try waitUntil("the sender sees 01") { try net.track(commune11, id).counts["01"] == 1 }
    }

    @Test func aDocumentSentWithFilesIsExportedAsAGeneratedPackage() throws {
        let net = try TestNetwork()
        try net.start([hub, district1, commune12])
        defer { net.stopAll() }
        let file = try net.randomFile("chi-thi.pdf", size: 120_000)
        let id = try net.send(from: hub, to: commune12, subject: "Chỉ thị về chuyển đổi số", files: [file],
                              extra: ["--code-number", "21", "--code-notation", "CT-UBND"])
        try waitUntil("it is in the commune's inbox") { try net.inbox(commune12).map(\.id) == [id] }
        let out = net.dir + "/generated.edxml"
        try net.cli(commune12, "inbox", "export", id, "--edxml", out)
        let sink = try EdXMLDirectorySink(directory: URL(fileURLWithPath: net.dir + "/decoded"))
        guard case .document(let document) = try EdXMLReader().read(fileAt: out, sink: sink) else {
            Issue.record("not a document package"); return
        }
        #expect(document.header.from.organId == hub && document.header.to.map(\.organId) == [commune12])
        #expect(document.header.subject == "Chỉ thị về chuyển đổi số")
        #expect(document.header.codeNumber == "21" && document.header.codeNotation == "CT-UBND")
        #expect(document.header.documentId?.hasPrefix("\(hub),") == true)
        #expect(document.header.documentId?.hasSuffix(",21/CT-UBND") == true)
        #expect(sink.files.map(\.url.lastPathComponent) == ["chi-thi.pdf"])
        #expect(FileManager.default.contents(atPath: sink.files[0].url.path) == FileManager.default.contents(atPath: file))
    }
}
