import Foundation

/// A client of a node's desk for the tests: real HTTP over loopback through `curl` (which streams
/// uploads from disk, as an e-office system would), with a cookie jar for browser sessions.
struct DeskClient {
    let base: String
    let jar: String
    var token: String?

    struct Answer {
        let status: Int
        let body: Data
        let headers: String
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw TestFailure("not a JSON object: \(text.prefix(300))")
            }
            return object
        }
        var errorCode: String? { ((try? json())?["error"] as? [String: Any])?["code"] as? String }
    }

    init(base: String, dir: String, token: String? = nil) {
        self.base = base
        self.jar = dir + "/cookies-\(UUID().uuidString.prefix(6)).txt"
        self.token = token
    }

    /// One request; `form` fields go as multipart (`-F`), `urlencoded` as a form body, `json` as JSON.
    func call(
        _ method: String, _ path: String, headers: [String: String] = [:], json: Any? = nil,
        urlencoded: [(String, String)]? = nil, form: [(String, String)]? = nil, output: String? = nil
    ) throws -> Answer {
        let tmp = NSTemporaryDirectory() + "desk-\(UUID().uuidString.prefix(8))"
        let out = output ?? tmp + ".body"
        var args = ["-s", "-S", "-X", method, "-o", out, "-D", tmp + ".headers", "-w", "%{http_code}",
                    "-b", jar, "-c", jar, "--max-time", "600"]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
        if let json {
            args += ["-H", "Content-Type: application/json",
                     "--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)]
        }
        if let urlencoded {
            for (k, v) in urlencoded { args += ["--data-urlencode", "\(k)=\(v)"] }
        }
        if let form { for (k, v) in form { args += ["-F", "\(k)=\(v)"] } }
        args.append(base + path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let code = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        defer {
            if output == nil { try? FileManager.default.removeItem(atPath: out) }
            try? FileManager.default.removeItem(atPath: tmp + ".headers")
        }
        guard p.terminationStatus == 0, let status = Int(String(decoding: code, as: UTF8.self)) else {
            throw TestFailure("curl \(method) \(path) failed with \(p.terminationStatus)")
        }
        let body = output == nil ? ((try? Data(contentsOf: URL(fileURLWithPath: out))) ?? Data()) : Data()
        let headers = (try? String(contentsOfFile: tmp + ".headers", encoding: .utf8)) ?? ""
        return Answer(status: status, body: body, headers: headers)
    }

    /// Signs in through the web form; returns the answer (302 on success) and the CSRF token of the inbox page.
    func signIn(_ name: String, _ password: String) throws -> (Answer, String?) {
        let answer = try call("POST", "/dang-nhap", urlencoded: [("name", name), ("password", password)])
        guard answer.status == 302 else { return (answer, nil) }
        let page = try call("GET", "/van-ban-den").text
        guard let r = page.range(of: "name=\"csrf\" value=\"") else { return (answer, nil) }
        return (answer, String(page[r.upperBound...].prefix(64)))
    }
}

extension TestNetwork {
    /// The node's desk address, from `status --json`.
    func deskURL(_ node: String) throws -> String {
        var url: String?
        try waitUntil("\(node)'s desk listens", timeout: 20) {
            url = try json(NodeStatusReportDesk.self, node, "status").desk
            return url != nil
        }
        return url!
    }

    /// Adds an account with a password (clerk, operator) or returns a new API token (api).
    @discardableResult
    func addUser(_ node: String, _ name: String, role: String, password: String = "mat-khau-thu-1") throws -> String {
        let file = dir + "/pw-\(name)"
        try Data(password.utf8).write(to: URL(fileURLWithPath: file))
        _ = try cli(node, "user", "add", name, "--role", role, "--password-file", file)
        if role == "api" { return try cli(node, "user", "token", name).trimmingCharacters(in: .whitespacesAndNewlines) }
        return password
    }
}

private struct NodeStatusReportDesk: Decodable { let desk: String? }
