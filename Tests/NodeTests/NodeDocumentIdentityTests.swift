import Foundation
import Testing
import Control
import EdXML
import Spool

/// Documents by identity on a real network: status packages both ways, duplicates refused at the
/// origin and suppressed at the recipient, recall 13 → 15 / 16, and updates linked to what they update.
@Suite(.serialized) struct NodeDocumentIdentityTests {
    static let fixtures = TestNetwork.repositoryRoot + "/Tests/Fixtures/edxml/"

    func failure(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    /// The shared sample from commune 1.1 to commune 2.1 (another district), with its type changed.
    func package(_ net: TestNetwork, name: String, businessType: Int = 0, headerId: String? = nil) throws -> String {
        var text = try String(contentsOfFile: Self.fixtures + "sample-21-CT-TU.edxml", encoding: .utf8)
        text = text.replacingOccurrences(of: "000.01.01.H27", with: commune21)
            .replacingOccurrences(of: "000.01.00.H27", with: commune21)
            .replacingOccurrences(of: "000.00.01.H27", with: commune11)
            .replacingOccurrences(of: "<edXML:BussinessDocType>0<", with: "<edXML:BussinessDocType>\(businessType)<")
        if let headerId {
            text = text.replacingOccurrences(
                of: "<edXML:DocumentId>\(commune11),2016/08/15,21/CT-TU</edXML:DocumentId>\n"
                    + "        <edXML:Code>",
                with: "<edXML:DocumentId>\(headerId)</edXML:DocumentId>\n"
                    + "        <edXML:Code>")
        }
        let path = net.dir + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The shared status sample as the recipient's e-office software would write it.
    func statusPackage(_ net: TestNetwork, from: String, answering documentId: String,
                       code: String = "03") throws -> String {
        let text = try String(contentsOfFile: Self.fixtures + "sample-status-03.edxml", encoding: .utf8)
            .replacingOccurrences(of: "000.01.01.H27", with: from)
            .replacingOccurrences(of: "000.00.01.H27,2016/08/15,21/CT-TU", with: documentId)
            .replacingOccurrences(of: "<edXML:StatusCode>03<", with: "<edXML:StatusCode>\(code)<")
        let path = net.dir + "/status-\(from)-\(code).edxml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func readStatus(_ path: String) throws -> EdXMLStatus? {
        guard case .status(let status) = try EdXMLReader().read(fileAt: path) else { return nil }
        return status
    }

    @Test func statusPackagesAndDuplicatesBetweenCommunesOfTwoDistricts() throws {
        let net = try TestNetwork()
        try net.start([commune11, district1, hub, district2, commune21, commune22])
        defer { net.stopAll() }
        let path = try package(net, name: "21-CT-TU.edxml")
        let documentId = "\(commune11),2016/08/15,21/CT-TU"
        let first = try net.json([SentReport].self, commune11, "send", "--edxml", path)[0].id
        try waitUntil("the sender sees 01") { try net.track(commune11, first).counts["01"] == 1 }
        let listed = try net.inbox(commune21)
        #expect(listed.map(\.id) == [first] && listed[0].documentId == documentId)
        #expect(listed[0].reference == "21/CT-TU" && listed[0].businessDocType == 0)
        #expect(try net.cli(commune21, "inbox", "list").contains(documentId))

        // The e-office software's 03 package: From must be this node, ResponseFor this document.
        let wrong = try statusPackage(net, from: commune21, answering: "\(commune11),2016/08/15,99/CT-TU")
        #expect(failure { try net.cli(commune21, "inbox", "status", first, "--edxml", wrong) }
            .contains("EDXML-RESPONSE-MISMATCH"))
        let elsewhere = try statusPackage(net, from: commune22, answering: documentId)
        #expect(failure { try net.cli(commune21, "inbox", "status", first, "--edxml", elsewhere) }
            .contains("EDXML-NOT-FROM-HERE"))
        let accepted = try statusPackage(net, from: commune21, answering: documentId)
        try net.cli(commune21, "inbox", "status", first, "--edxml", accepted)
        try waitUntil("the sender sees 03") { try net.track(commune11, first).counts["03"] == 1 }

        // Exported at the sender as a standard status package that the reader parses.
        let out = net.dir + "/status-out"
        try net.cli(commune11, "track", first, "--edxml-status", out)
        let written = try readStatus(out + "/status-\(commune21)-03.edxml")
        #expect(written?.statusCode == "03" && written?.from.organId == commune21)
        #expect(written?.responseFor.documentId == documentId && written?.responseFor.code == "21/CT-TU")
        #expect(written?.responseFor.promulgationDate == "2016/08/15" && written?.responseFor.organId == commune11)

        // The same DocumentId again: refused at the origin, naming the earlier envelope.
        let refused = failure { try net.cli(commune11, "send", "--edxml", path) }
        #expect(refused.contains("EDXML-DUPLICATE") && refused.contains(String(first.prefix(16))))
        // Sent anyway: the recipient records a duplicate, does not deliver it again, and answers
        // with the earlier entry's status.
        let second = try net.json([SentReport].self, commune11, "send", "--edxml", path, "--resend")[0].id
        try waitUntil("the duplicate is answered with 03") { try net.track(commune11, second).counts["03"] == 1 }
        #expect(try net.inbox(commune21).map(\.id) == [first])
        let view = try net.json(DocumentView.self, commune21, "inbox", "show", first)
        #expect(view.related?.map(\.id) == [second] && view.related?.first?.relation == "duplicate")

        // An update (BussinessDocType 2) of the same DocumentId is not a duplicate: delivered, linked.
        let updatePath = try package(net, name: "21-CT-TU-update.edxml", businessType: 2,
                                     headerId: "\(commune11),2016/08/20,21b/CT-TU")
        let update = try net.json([SentReport].self, commune11, "send", "--edxml", updatePath)[0].id
        try waitUntil("the update is settled (its 01 is back)") { try net.track(commune11, update).counts["01"] == 1 }
        let updateView = try net.json(DocumentView.self, commune21, "inbox", "show", update)
        #expect(updateView.businessDocType == 2 && updateView.refersToEnvelope == first)
        let original = try net.json(DocumentView.self, commune21, "inbox", "show", first)
        #expect(original.related?.contains { $0.id == update && $0.relation == "update" } == true)
        // A replacement (3) likewise.
        let replacementPath = try package(net, name: "21-CT-TU-replacement.edxml", businessType: 3,
                                          headerId: "\(commune11),2016/08/22,21d/CT-TU")
        let replacement = try net.json([SentReport].self, commune11, "send", "--edxml", replacementPath)[0].id
        try waitUntil("the replacement is settled") { try net.track(commune11, replacement).counts["01"] == 1 }
        let replacementView = try net.json(DocumentView.self, commune21, "inbox", "show", replacement)
        #expect(replacementView.businessDocType == 3 && replacementView.refersToEnvelope == first)
        #expect(try net.json(DocumentView.self, commune21, "inbox", "show", first).related?
            .contains { $0.id == replacement && $0.relation == "replacement" } == true)

        // Another agency cannot revoke commune 1.1's document, nor pass its own off as it.
        for (type, name) in [(1, "forged-revocation.edxml"), (0, "forged-identity.edxml")] {
            let forged = try package(net, name: name, businessType: type)
            let text = try String(contentsOfFile: forged, encoding: .utf8)
            let from = "<edXML:OrganId>\(commune11)</edXML:OrganId>"
            let range = try #require(text.range(of: from))
            try Data(text.replacingCharacters(in: range, with: "<edXML:OrganId>\(commune22)</edXML:OrganId>").utf8)
                .write(to: URL(fileURLWithPath: forged))
            let sent = try net.json([SentReport].self, commune22, "send", "--edxml", forged)[0].id
            try waitUntil("\(name) is settled") { try net.track(commune22, sent).counts["01"] == 1 }
            #expect(try net.json(DocumentView.self, commune21, "inbox", "show", sent).refersToEnvelope == nil)
        }
        #expect(try net.inbox(commune21).first { $0.id == first }?.recall == nil)
        #expect(try net.inbox(commune21).count == 5)  // first, the update, the replacement, commune 2.2's two

        // A revocation naming no To goes to the revoked document's recipients and puts it at 13.
        let revocationPath = try package(net, name: "21-CT-TU-revocation.edxml", businessType: 1,
                                         headerId: "\(commune11),2016/08/21,21c/CT-TU")
        let text = try String(contentsOfFile: revocationPath, encoding: .utf8)
        let noTo = text.replacingOccurrences(of: "<edXML:To>[\\s\\S]*?</edXML:To>\\s*", with: "",
                                             options: .regularExpression)
        #expect(!noTo.contains("<edXML:To>"))
        try Data(noTo.utf8).write(to: URL(fileURLWithPath: revocationPath))
        let revocation = try net.json([SentReport].self, commune11, "send", "--edxml", revocationPath)[0]
        #expect(revocation.recipients == 1)
        try waitUntil("the revoked document is at 13") {
            try net.inbox(commune21).first { $0.id == first }?.recall == "13"
        }
        #expect(try net.json(DocumentView.self, commune21, "inbox", "show", revocation.id).refersToEnvelope == first)
    }

    @Test func provinceToTwoCommunesStatusesDuplicatesAndRecall() throws {
        let net = try TestNetwork()
        try net.start([hub, district1, commune11, district2, commune21])
        defer { net.stopAll() }
        let file = try net.randomFile("quyet-dinh.pdf", size: 90_000)
        let code = ["--code-number", "12", "--code-notation", "QĐ-UBND"]
        let id = try net.send(from: hub, to: "\(commune11),\(commune21)",
                              subject: "Quyết định về chuyển đổi số",
                              files: [file], extra: code)
        try waitUntil("both communes have it") { try net.track(hub, id).counts["01"] == 2 }
        try net.cli(commune11, "inbox", "accept", id)
        try waitUntil("the hub sees 03 from commune 1.1") { try net.track(hub, id).counts["03"] == 1 }

        // One status package per recipient, each naming the document it answers.
        let out = net.dir + "/status"
        try net.cli(hub, "track", id, "--edxml-status", out)
        let documentId = try net.inbox(commune11).first?.documentId
        #expect(documentId?.hasPrefix("\(hub),") == true && documentId?.hasSuffix(",12/QĐ-UBND") == true)
        for (commune, status) in [(commune11, "03"), (commune21, "01")] {
            let parsed = try readStatus(out + "/status-\(commune)-\(status).edxml")
            #expect(parsed?.statusCode == status && parsed?.responseFor.documentId == documentId, "\(commune)")
            #expect(parsed?.responseFor.code == "12/QĐ-UBND", "\(commune)")
        }

        // The same số/ký hiệu again: refused at the hub; resent, suppressed at both communes.
        let again = failure { _ = try net.send(from: hub, to: "\(commune11),\(commune21)", subject: "Quyết định",
                                               files: [file], extra: code) }
        #expect(again.contains("EDXML-DUPLICATE") && again.contains(String(id.prefix(16))))
        let resent = try net.send(from: hub, to: "\(commune11),\(commune21)", subject: "Quyết định (gửi lại)",
                                  files: [file], extra: code + ["--resend"])
        try waitUntil("both answer the duplicate") {
            let counts = try net.track(hub, resent).counts
            return counts["03"] == 1 && counts["01"] == 1
        }
        #expect(try net.inbox(commune11).map(\.id) == [id] && net.inbox(commune21).map(\.id) == [id])

        // 15/16 only after 13.
        #expect(failure { try net.cli(commune11, "inbox", "recall", "accept", id) }.contains("INBOX-RECALL-STATE"))
        try net.cli(hub, "recall", id, "--reason", "Ban hành nhầm")
        #expect(try net.track(hub, id).counts["13"] == 2)
        try waitUntil("both communes see the recall") {
            try net.inbox(commune11).first?.recall == "13" && net.inbox(commune21).first?.recall == "13"
        }
        #expect(try net.inbox(commune11).first?.status == "03")  // the processing status is kept apart
        // Unanswered, the recall is written as the 13 the hub sent: From is the hub.
        let pending = net.dir + "/pending"
        try net.cli(hub, "track", id, "--edxml-status", pending)
        let thirteen = try readStatus(pending + "/status-\(commune11)-13.edxml")
        #expect(thirteen?.statusCode == "13" && thirteen?.from.organId == hub)
        #expect(thirteen?.description == "Ban hành nhầm")
        #expect(FileManager.default.fileExists(atPath: pending + "/status-\(commune21)-13.edxml"))
        try net.cli(commune11, "inbox", "recall", "accept", id)
        try net.cli(commune21, "inbox", "recall", "reject", id, "--reason", "Đã thi hành")
        try waitUntil("the hub sees 15 and 16") {
            let counts = try net.track(hub, id).counts
            return counts["15"] == 1 && counts["16"] == 1
        }

        // At commune 1.1 the content is gone, the metadata and the record stay.
        let recalled = failure { try net.cli(commune11, "inbox", "export", id, "--out", net.dir + "/x") }
        #expect(recalled.contains("INBOX-RECALLED"))
        #expect(failure { try net.cli(commune11, "inbox", "export", id, "--edxml", net.dir + "/x.edxml") }
            .contains("INBOX-RECALLED"))
        #expect(failure { try net.cli(commune11, "inbox", "done", id) }.contains("SPOOL-INVALID-STATE"))
        #expect(failure { try net.cli(commune11, "inbox", "recall", "reject", id, "--reason", "x") }
            .contains("INBOX-RECALL-STATE"))
        let view = try net.json(DocumentView.self, commune11, "inbox", "show", id)
        #expect(view.subject == "Quyết định về chuyển đổi số" && view.files.isEmpty
                && view.contentDestroyedAt != nil)
        #expect(view.item.recall == "15" && view.item.status == "03")
        let audit = try net.cli(["audit", "list", "--home", net.home(commune11), "--envelope", id, "--json"])
        #expect(audit.contains("\"destroyed\"") && audit.contains("\"recall\""))
        // The answers as status packages beside the processing statuses; the 13 is the hub's own.
        let answers = net.dir + "/answers"
        try net.cli(hub, "track", id, "--edxml-status", answers)
        let written = try FileManager.default.contentsOfDirectory(atPath: answers).sorted()
        #expect(written == ["status-\(commune11)-03.edxml", "status-\(commune11)-15.edxml",
                            "status-\(commune21)-01.edxml", "status-\(commune21)-16.edxml"])
        #expect(try readStatus(answers + "/status-\(commune21)-16.edxml")?.description == "Đã thi hành")
        // At commune 2.1 (16) the document is whole.
        try net.cli(commune21, "inbox", "export", id, "--out", net.dir + "/kept")
        #expect(FileManager.default.contents(atPath: net.dir + "/kept/quyet-dinh.pdf")
                == FileManager.default.contents(atPath: file))
    }
}
