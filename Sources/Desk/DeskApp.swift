import Diagnostics
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import Node

/// What every route of the desk shares: the node's runtime, the browser sessions, the templates.
public struct DeskApp: Sendable {
    public let runtime: NodeRuntime
    public let sessions: DeskSessions
    let library: MustacheLibrary

    public init(runtime: NodeRuntime, sessions: DeskSessions = DeskSessions()) throws {
        self.runtime = runtime
        self.sessions = sessions
        self.library = try DeskTemplates.library()
    }

    func now() -> Int64 { runtime.clock() }

    /// Runs blocking spool work on the control threads.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await runtime.deskBlocking(body)
    }

    /// The node's operations on behalf of the request's account (named in the audit log).
    func operations(_ context: DeskRequestContext) throws -> NodeOperations {
        runtime.operations.acting(as: try context.requireAccount())
    }

    /// The router with every route of the web app and the API.
    public func router() -> Router<DeskRequestContext> {
        let router = Router(context: DeskRequestContext.self)
        router.add(middleware: DeskHeadersMiddleware())
        router.add(middleware: DeskAuthMiddleware(app: self))
        DeskAPI(app: self).register(router.group("api/v1"))
        DeskPages(app: self).register(router)
        return router
    }

    // MARK: - Errors

    /// Any error as the answer: JSON for the API, a page in Vietnamese for the web app.
    func failure(_ error: any Error, api: Bool, context: DeskRequestContext) -> Response {
        let (status, code, message, vi) = Self.describe(error)
        if status.code >= 500 {
            context.logger.error("desk request failed", metadata: ["code": "\(code)", "error": "\(error)"])
        }
        if api {
            let body: [String: [String: String]] = ["error": ["code": code, "message": message, "messageVi": vi]]
            let data = (try? JSONEncoder().encode(body)) ?? Data("{}".utf8)
            return Response(
                status: status, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        let html = render(
            "error",
            [
                "title": "Không thực hiện được", "message": vi, "code": code,
                "account": context.account as Any,
            ],
            context: context)
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// HTTP status, code, English and Vietnamese message of any error.
    static func describe(_ error: any Error) -> (HTTPResponse.Status, String, String, String) {
        if let e = error as? DeskError { return (e.status, e.errorCode, e.message, e.vietnamese ?? e.message) }
        if let e = error as? HTTPError {
            let vi = e.status == .notFound ? "Không tìm thấy trang này." : "Yêu cầu không hợp lệ."
            return (e.status, "DESK-HTTP-\(e.status.code)", e.body ?? e.status.reasonPhrase, vi)
        }
        guard let e = error as? any LienThongError else {
            return (
                .internalServerError, "NODE-ERROR", "\(error)",
                "Lỗi hệ thống; hãy báo cán bộ quản trị."
            )
        }
        let code = e.errorCode
        let status: HTTPResponse.Status
        if code.hasSuffix("NOT-FOUND") {
            status = .notFound
        } else if code == "EDXML-DUPLICATE" || code.hasSuffix("AMBIGUOUS") || code == "RECALL-DONE"
            || code == "INBOX-RECALLED" || code == "INBOX-RECALL-STATE" || code == "INBOX-ARCHIVED"
        {
            status = .conflict
        } else if code == "SPOOL-DISK-FULL" || code == "SEND-DISK-FULL" {
            status = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
        } else if code == "SPOOL-ARGUMENT" {
            status = .badRequest  // an id or prefix from the request that is not one
        } else if code.hasPrefix("SPOOL-") || code.hasPrefix("NODE-") || code.hasPrefix("SODIUM-") {
            status = .internalServerError
        } else {
            status = .badRequest
        }
        return (status, code, e.message, DeskText.vietnamese(code: code, english: e.message))
    }

    // MARK: - Pages

    /// A page from its template, inside the layout, with the account and CSRF token filled in.
    func render(_ template: String, _ values: [String: Any], context: DeskRequestContext) -> String {
        // An absent value is left out: Mustache would print a wrapped nil as "nil" and treat it as true.
        var values = Self.present(values)
        values["account"] = context.account
        values["csrf"] = context.session?.csrf
        values["isOperator"] = context.role == .operator
        values["node"] = runtime.identity.name
        let content = library.render(values, withTemplate: template) ?? ""
        values["content"] = content
        return library.render(values, withTemplate: "layout") ?? content
    }

    /// The values without absent ones, in nested rows too.
    static func present(_ values: [String: Any]) -> [String: Any] {
        values.compactMapValues { v -> Any? in
            if isNil(v) { return nil }
            if let rows = v as? [[String: Any]] { return rows.map(present) }
            if let row = v as? [String: Any] { return present(row) }
            return v
        }
    }

    static func isNil(_ value: Any) -> Bool {
        if case Optional<Any>.none = value as Any? { return true }
        let mirror = Mirror(reflecting: value)
        return mirror.displayStyle == .optional && mirror.children.isEmpty
    }

    func page(_ template: String, _ values: [String: Any], context: DeskRequestContext) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: render(template, values, context: context))))
    }
}

/// Headers on every answer: no caching of documents, no framing, no referrer, a strict CSP.
struct DeskHeadersMiddleware: RouterMiddleware {
    typealias Context = DeskRequestContext

    func handle(
        _ request: Request, context: DeskRequestContext,
        next: (Request, DeskRequestContext) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
        return response
    }
}

extension DeskApp {
    /// Scratch space for uploads and downloads, inside the node home (same disk as the spool, owner-only).
    var scratch: String { runtime.identity.home.path + "/desk-scratch" }
}

extension DeskApp {
    /// The desk serves plain HTTP (TLS is left to a reverse proxy in front of it), so cookies are
    /// Secure only when the operator says a proxy terminates TLS (`httpsProxy` in the settings).
    var servedOverTLS: Bool { runtime.settings.httpsProxy == true }
}
