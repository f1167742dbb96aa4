import Foundation
import Testing

/// The web app's security and pages against a real daemon: sign-in, the throttle, CSRF, roles,
/// cookies; and a 200 MiB upload with the daemon's memory measured.
@Suite(.serialized) struct DeskWebTests {
    let province = "000.00.00.H27"
    let district = "000.01.00.H27"
    let commune = "000.01.01.H27"

    @Test func signInThrottleCSRFAndRoles() throws {
        let net = try TestNetwork()
        try net.start([province, district, commune])
        defer { net.stopAll() }
        let base = try net.deskURL(commune)
        try net.addUser(commune, "vanthu", role: "clerk", password: "dung-mat-khau")
        try net.addUser(commune, "quantri", role: "operator", password: "mat-khau-quan-tri")

        // Pages need a session: the inbox sends an anonymous browser to the sign-in page.
        let anonymous = DeskClient(base: base, dir: net.dir)
        let redirected = try anonymous.call("GET", "/van-ban-den")
        #expect(redirected.status == 303 || redirected.status == 302)
        #expect(redirected.headers.contains("/dang-nhap"))
        let loginPage = try anonymous.call("GET", "/dang-nhap")
        #expect(loginPage.status == 200 && loginPage.text.contains("Đăng nhập") && loginPage.text.contains("Mật khẩu"))

        // A clerk signs in: the cookie is HttpOnly and SameSite=Strict.
        let clerk = DeskClient(base: base, dir: net.dir)
        let (signedIn, csrf) = try clerk.signIn("vanthu", "dung-mat-khau")
        #expect(signedIn.status == 302)
        // Header lines end in CRLF, one Character in Swift.
        let cookie = signedIn.headers.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") } ?? ""
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let token = try #require(csrf)
        let inbox = try clerk.call("GET", "/van-ban-den")
        #expect(inbox.status == 200 && inbox.text.contains("Văn bản đến") && inbox.text.contains("Chưa có văn bản đến"))

        // A document arrives; the clerk accepts it with the form, and the CSRF token is required.
        let id = try net.send(from: province, to: commune, subject: "Công văn về lịch tiếp dân")
        try waitUntil("the document is in the commune's inbox page") {
            try clerk.call("GET", "/van-ban-den").text.contains("Công văn về lịch tiếp dân")
        }
        let forged = try clerk.call("POST", "/van-ban-den/\(id)/trang-thai", urlencoded: [("status", "03")])
        #expect(forged.status == 403 && forged.text.contains("Phiên làm việc không hợp lệ"))
        let wrongToken = try clerk.call(
            "POST", "/van-ban-den/\(id)/trang-thai", urlencoded: [("status", "03"), ("csrf", String(repeating: "a", count: 64))])
        #expect(wrongToken.status == 403)
        // The API with the browser's cookie needs the token in a header.
        let apiForged = try clerk.call("POST", "/api/v1/documents/received/\(id)/status", json: ["status": "03"])
        #expect(apiForged.status == 403 && apiForged.errorCode == "DESK-CSRF")
        let accepted = try clerk.call("POST", "/van-ban-den/\(id)/trang-thai", urlencoded: [("status", "03"), ("csrf", token)])
        #expect(accepted.status == 302)
        let page = try clerk.call("GET", "/van-ban-den/\(id)").text
        #expect(page.contains("03 đã tiếp nhận"))
        try waitUntil("the province sees 03") { try net.track(province, id).entries.first?.status == "03" }
        #expect(try net.cli(commune, "audit", "list", "--limit", "200").contains("desk:vanthu"))

        // A clerk cannot reach the operators' page or actions; an operator can.
        #expect(try clerk.call("GET", "/he-thong").status == 403)
        #expect(try clerk.call("POST", "/he-thong/hang-doi", urlencoded: [("verb", "hold"), ("csrf", token)]).status == 403)
        let op = DeskClient(base: base, dir: net.dir)
        let (_, opToken) = try op.signIn("quantri", "mat-khau-quan-tri")
        let system = try op.call("GET", "/he-thong")
        #expect(system.status == 200 && system.text.contains("Kết nối") && system.text.contains("Thành phố Hòa Bình"))
        let held = try op.call("POST", "/he-thong/hang-doi", urlencoded: [("verb", "hold"), ("csrf", try #require(opToken))])
        #expect(held.status == 302)

        // Ten wrong passwords: the account is throttled, even for the right password, for a while
        // (the address only after twenty: colleagues behind the same router can still sign in).
        let attacker = DeskClient(base: base, dir: net.dir)
        var statuses: [Int] = []
        for _ in 0..<10 { statuses.append(try attacker.signIn("vanthu", "sai-mat-khau").0.status) }
        #expect(statuses.prefix(5).allSatisfy { $0 == 401 } && statuses.suffix(5).allSatisfy { $0 == 429 })
        let blocked = try attacker.signIn("vanthu", "dung-mat-khau").0
        #expect(blocked.status == 429 && blocked.text.contains("Đăng nhập sai quá nhiều lần"))
        // The signed-in clerk is not thrown out by someone else's failures.
        #expect(try clerk.call("GET", "/van-ban-den").status == 200)

        // Signing out ends the session.
        #expect(try clerk.call("POST", "/dang-xuat", urlencoded: [("csrf", token)]).status == 302)
        #expect(try clerk.call("GET", "/api/v1/documents/received").status == 401)

        // `user passwd` changes the password; `user remove` ends the operator's live session.
        let file = net.dir + "/new-password"
        try Data("mat-khau-moi-2".utf8).write(to: URL(fileURLWithPath: file))
        _ = try net.cli(commune, "user", "passwd", "quantri", "--password-file", file)
        #expect(try DeskClient(base: base, dir: net.dir).signIn("quantri", "mat-khau-quan-tri").0.status == 401)
        #expect(try DeskClient(base: base, dir: net.dir).signIn("quantri", "mat-khau-moi-2").0.status == 302)
        #expect(try net.cli(commune, "user", "list").contains("quantri\toperator\tpassword"))
        _ = try net.cli(commune, "user", "remove", "quantri")
        let after = try op.call("GET", "/he-thong")  // back to the sign-in page
        #expect((after.status == 302 || after.status == 303) && after.headers.contains("/dang-nhap"))
        #expect(!(try net.cli(commune, "user", "list").contains("quantri")))
    }

    @Test func aTwoHundredMebibyteUploadKeepsTheDaemonSmall() throws {
        let net = try TestNetwork()
        try net.start([province, district])
        defer { net.stopAll() }
        let api = DeskClient(base: try net.deskURL(province), dir: net.dir, token: try net.addUser(province, "eoffice", role: "api"))
        let big = try net.randomFile("ban-do-quy-hoach.tif", size: 200 << 20)
        let metadata = #"{"to":["\#(district)"],"subject":"Bản đồ quy hoạch"}"#
        let sent = try api.call("POST", "/api/v1/documents", form: [("metadata", metadata), ("file", "@" + big)])
        #expect(sent.status == 201, "\(sent.text)")
        let payload = try sent.json()["payloadBytes"] as? Int ?? 0
        #expect(payload > 200 << 20)
        // Peak resident memory of the daemon over its whole life, upload and sealing included.
        let pid = try #require(net.pid(province))
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let hwm = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? 0
        print("desk upload: 200 MiB, daemon peak RSS \(hwm / 1024) MiB")
        if ProcessInfo.processInfo.environment["LT_SANITIZER"] == nil {
            #expect(hwm > 0 && hwm < 96 * 1024, "peak RSS \(hwm / 1024) MiB")
        }
        // Nothing of the upload is left in the scratch directory.
        let scratch = net.home(province) + "/desk-scratch"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).isEmpty)
    }
}
