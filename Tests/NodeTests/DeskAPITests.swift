import Foundation
import Testing

/// The desk's `/api/v1` against real daemons on 127.0.0.1: an e-office system at the province
/// sends, a commune's system lists, fetches, answers; the sender tracks and recalls.
@Suite(.serialized) struct DeskAPITests {
    let province = "000.00.00.H27"
    let district = "000.01.00.H27"
    let commune = "000.01.01.H27"

    func network() throws -> TestNetwork {
        let net = try TestNetwork()
        try net.start([province, district, commune])
        return net
    }

    @Test func aDocumentGoesFromOneEOfficeSystemToAnotherThroughTheAPI() throws {
        let net = try network()
        defer { net.stopAll() }
        let sender = DeskClient(base: try net.deskURL(province), dir: net.dir, token: try net.addUser(province, "eoffice", role: "api"))
        let receiver = DeskClient(base: try net.deskURL(commune), dir: net.dir, token: try net.addUser(commune, "eoffice-xa", role: "api"))

        // Nobody gets in without an account.
        let anonymous = DeskClient(base: sender.base, dir: net.dir)
        let refused = try anonymous.call("GET", "/api/v1/documents/received")
        #expect(refused.status == 401 && refused.errorCode == "DESK-UNAUTHENTICATED")
        let wrongToken = try DeskClient(base: sender.base, dir: net.dir, token: "lt_" + String(repeating: "0", count: 64))
            .call("GET", "/api/v1/node")
        #expect(wrongToken.status == 401)

        // The tree, for choosing recipients by name.
        let agencies = try sender.call("GET", "/api/v1/agencies").json()["agencies"] as? [[String: Any]] ?? []
        #expect(agencies.contains { $0["id"] as? String == commune && $0["name"] as? String == "Phường Thái Bình" })

        let attachment = try net.randomFile("chi-thi.pdf", size: 300_000)
        let metadata = #"{"to":["\#(commune)"],"subject":"Chỉ thị về phòng chống lụt bão","urgency":"hoa-toc","codeNumber":"12","codeNotation":"CT-UBND","documentType":"Chỉ thị","dueDate":"2026-12-31"}"#
        let sent = try sender.call("POST", "/api/v1/documents", form: [("metadata", metadata), ("file", "@" + attachment)])
        #expect(sent.status == 201, "\(sent.text)")
        let id = try #require(try sent.json()["id"] as? String)

        // The commune's system lists it (filtered by urgency), gets it, its file and its package.
        var listed: [[String: Any]] = []
        try waitUntil("the document is in the commune's received list") {
            listed = try receiver.call("GET", "/api/v1/documents/received?urgency=hoa-toc").json()["items"] as? [[String: Any]] ?? []
            return listed.contains { $0["id"] as? String == id }
        }
        #expect(try receiver.call("GET", "/api/v1/documents/received?urgency=khan").json()["total"] as? Int == 0)
        #expect(try receiver.call("GET", "/api/v1/documents/received?status=zz").status == 400)
        let view = try receiver.call("GET", "/api/v1/documents/received/\(id)").json()
        #expect(view["subject"] as? String == "Chỉ thị về phòng chống lụt bão")
        #expect(view["dueDate"] as? String == "2026-12-31")
        let file = try receiver.call("GET", "/api/v1/documents/received/\(id)/files/0")
        let original = try Data(contentsOf: URL(fileURLWithPath: attachment))
        #expect(file.status == 200 && file.body == original)
        #expect(file.headers.lowercased().contains("content-disposition: attachment"))
        #expect(try receiver.call("GET", "/api/v1/documents/received/\(id)/files/7").status == 404)
        let package = try receiver.call("GET", "/api/v1/documents/received/\(id)/edxml")
        #expect(package.status == 200 && package.text.contains("Chỉ thị về phòng chống lụt bão"))
        #expect(try receiver.call("GET", "/api/v1/documents/received/ffff").status == 404)

        // A business status; the sender's tracking shows it.
        let accepted = try receiver.call("POST", "/api/v1/documents/received/\(id)/status", json: ["status": "03"])
        let changed = try accepted.json()["changed"] as? Bool
        #expect(accepted.status == 200 && changed == true)
        let noReason = try receiver.call("POST", "/api/v1/documents/received/\(id)/status", json: ["status": "02"])
        #expect(noReason.status == 400 && noReason.errorCode == "INBOX-REASON")
        #expect(((try noReason.json()["error"] as? [String: Any])?["messageVi"] as? String)?.contains("lý do") == true)
        try waitUntil("the province sees 03 from the commune") {
            let entries = try sender.call("GET", "/api/v1/documents/sent/\(id)").json()["entries"] as? [[String: Any]] ?? []
            return entries.first?["status"] as? String == "03"
        }
        #expect((try sender.call("GET", "/api/v1/documents/sent").json()["items"] as? [[String: Any]])?.count == 1)

        // Recall: the commune is asked (13) and agrees (15); the content is gone there.
        let recalled = try sender.call("POST", "/api/v1/documents/sent/\(id)/recall", json: ["reason": "Ban hành nhầm"])
        let recalledCount = try recalled.json()["recipients"] as? Int
        #expect(recalled.status == 200 && recalledCount == 1)
        try waitUntil("the recall reaches the commune") {
            try receiver.call("GET", "/api/v1/documents/received/\(id)").json()["item"]
                .flatMap { ($0 as? [String: Any])?["recall"] as? String } == "13"
        }
        #expect(try receiver.call("POST", "/api/v1/documents/received/\(id)/status", json: ["status": "15"]).status == 200)
        #expect(try receiver.call("GET", "/api/v1/documents/received/\(id)/files/0").status == 409)
        try waitUntil("the province sees 15") {
            let entries = try sender.call("GET", "/api/v1/documents/sent/\(id)").json()["entries"] as? [[String: Any]] ?? []
            return entries.first?["recall"] as? String == "15"
        }

        // An API account has a clerk's rights, not an operator's.
        let hold = try receiver.call("POST", "/api/v1/queue/hold", json: ["all": true])
        #expect(hold.status == 403 && hold.errorCode == "DESK-FORBIDDEN")
        let status = try sender.call("GET", "/api/v1/node").json()
        #expect((status["status"] as? [String: Any])?["node"] as? String == province)
        #expect((status["peers"] as? [[String: Any]])?.first?["peer"] as? String == district)

        // The audit log names the account, not the daemon's Unix user.
        let audit = try net.cli(commune, "audit", "list", "--limit", "200")
        #expect(audit.contains("desk:eoffice-xa"))
    }

    @Test func anEdXMLPackageIsSentThroughTheAPIAndComesBackByteForByte() throws {
        let net = try network()
        defer { net.stopAll() }
        let sender = DeskClient(base: try net.deskURL(commune), dir: net.dir, token: try net.addUser(commune, "eoffice", role: "api"))
        let receiver = DeskClient(base: try net.deskURL(province), dir: net.dir, token: try net.addUser(province, "eoffice", role: "api"))
        var text = try String(contentsOf: NodeEdXMLTests.sample, encoding: .utf8)
        text = text.replacingOccurrences(of: "000.01.01.H27", with: province)
            .replacingOccurrences(of: "000.00.01.H27", with: commune)
        let path = net.dir + "/goi.edxml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let sent = try sender.call("POST", "/api/v1/documents", form: [("edxml", "@" + path)])
        #expect(sent.status == 201, "\(sent.text)")
        let id = try #require(try sent.json()["id"] as? String)
        // The same package again is a duplicate, refused with its code.
        let again = try sender.call("POST", "/api/v1/documents", form: [("edxml", "@" + path)])
        #expect(again.status == 409 && again.errorCode == "EDXML-DUPLICATE")
        try waitUntil("the package reaches the province") {
            try receiver.call("GET", "/api/v1/documents/received/\(id)").status == 200
        }
        let package = try receiver.call("GET", "/api/v1/documents/received/\(id)/edxml")
        #expect(package.body == Data(text.utf8))
        // Malformed input is a clear 400, not a failure of the node.
        let broken = try sender.call("POST", "/api/v1/documents", form: [("metadata", "{not json")])
        #expect(broken.status == 400 && broken.errorCode == "DESK-BAD-REQUEST")
        let notMultipart = try sender.call("POST", "/api/v1/documents", json: ["to": [province]])
        #expect(notMultipart.status == 400 && notMultipart.errorCode == "DESK-MULTIPART")
    }
}
