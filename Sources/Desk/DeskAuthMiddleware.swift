import Foundation
import HTTPTypes
import Hummingbird
import SodiumKit
import Spool

/// Who is asking: an API token (`Authorization: Bearer …`) or a browser session cookie. Everything
/// but the sign-in page and the style sheet needs one; an API request without it is 401 JSON, a
/// page is redirected to the sign-in page. A browser session's API calls that change something
/// must carry its CSRF token in `X-CSRF-Token` (forms carry it in a field, checked by `DeskApp`).
///
/// Security note: tokens are compared by their BLAKE2b hash (the token is never stored or
/// logged); a removed account's sessions and tokens stop working at its next request.
struct DeskAuthMiddleware: RouterMiddleware {
    typealias Context = DeskRequestContext
    let app: DeskApp

    static let sessionCookie = "lt_session"
    static let publicPaths: Set<String> = ["/dang-nhap", "/static/desk.css"]
    static let loopback: Set<String> = ["127.0.0.1", "::1", "::ffff:127.0.0.1"]

    func handle(
        _ request: Request, context: DeskRequestContext,
        next: (Request, DeskRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let path = request.uri.path
        let isAPI = path.hasPrefix("/api/")
        if Self.publicPaths.contains(path) { return try await next(request, context) }
        // A local Prometheus scrapes without an account; from elsewhere /metrics needs one.
        if path == "/metrics", Self.loopback.contains(context.remoteAddress) {
            do { return try await next(request, context) } catch {
                return app.failure(error, api: true, context: context)
            }
        }
        do {
            if let auth = request.headers[.authorization], auth.lowercased().hasPrefix("bearer ") {
                let token = String(auth.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
                let hash = Blake2b.hash(Array(token.utf8))
                guard
                    let account = try await app.blocking({ [spool = app.runtime.spool] in
                        try spool.account(tokenHash: hash)
                    })
                else {
                    throw DeskError(
                        .unauthenticated,
                        "the API token is not valid; ask the operator for a new one (`lienthong user token`)",
                        vi: "Mã truy cập API không hợp lệ.")
                }
                context.account = account.name
                context.role = account.role
            } else if let id = request.cookies[Self.sessionCookie]?.value,
                let session = app.sessions.session(id, now: app.now())
            {
                guard
                    let account = try await app.blocking({ [spool = app.runtime.spool] in
                        try spool.account(named: session.account)
                    })
                else {
                    app.sessions.closeAll(account: session.account)
                    throw DeskError(
                        .unauthenticated, "the account was removed",
                        vi: "Tài khoản không còn tồn tại.")
                }
                context.account = account.name
                context.role = account.role
                context.session = session
                if isAPI, request.method != .get, request.method != .head,
                    request.headers[HTTPField.Name("X-CSRF-Token")!] != session.csrf
                {
                    throw DeskError(
                        .csrf, "a browser's API request that changes something needs its X-CSRF-Token header",
                        vi: "Thiếu mã xác thực biểu mẫu (CSRF).")
                }
            } else {
                throw DeskError(
                    .unauthenticated, "sign in, or give an API token in the Authorization header",
                    vi: "Vui lòng đăng nhập.")
            }
        } catch let error as DeskError where error.code == .unauthenticated && !isAPI {
            return Response.redirect(to: "/dang-nhap")
        } catch let error as DeskError {
            return app.failure(error, api: isAPI, context: context)
        }
        do {
            return try await next(request, context)
        } catch {
            return app.failure(error, api: isAPI, context: context)
        }
    }
}
