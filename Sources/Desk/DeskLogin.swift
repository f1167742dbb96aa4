import Foundation
import Hummingbird
import SodiumKit
import Spool

/// Sign-in and sign-out of the web app.
///
/// Security note: the password is checked with Argon2id off the event loops; failures are
/// counted per account and per client address (`LoginThrottle`) and audited, and an unknown
/// account costs the same hash as a known one, so timing does not tell which names exist.
struct DeskLogin {
    let app: DeskApp
    /// Hash checked when the account does not exist, so that answer takes as long as a real one.
    static let decoy: String = (try? PasswordHash.hash("lienthong-decoy-password")) ?? ""

    func form(_ context: DeskRequestContext, message: String? = nil, name: String = "") -> Response {
        app.page("login", ["title": "Đăng nhập", "message": message as Any, "name": name], context: context)
    }

    func signIn(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        let fields = try await request.formFields(context)
        let name = String((fields["name"] ?? "").prefix(100))
        let password = fields["password"] ?? ""
        let keys = ["account:" + name, "address:" + context.remoteAddress]
        let now = app.now()
        if let wait = app.sessions.retryAfter(keys, now: now) {
            var response = form(
                context, message: "Đăng nhập sai quá nhiều lần. Hãy thử lại sau \(wait / 60 + 1) phút.",
                name: name)
            response.status = .tooManyRequests
            response.headers[.retryAfter] = "\(wait)"
            return response
        }
        let spool = app.runtime.spool
        let account = try await app.blocking { () -> Account? in
            let account = try spool.account(named: name)
            let ok = PasswordHash.verify(password, against: account?.passwordHash ?? Self.decoy)
            return ok && account?.passwordHash != nil ? account : nil
        }
        guard let account, account.role != .api else {
            app.sessions.failed(keys, now: now)
            try await app.blocking {
                try spool.recordAccountEvent(
                    .account, actor: "desk:\(name.isEmpty ? "?" : name)",
                    detail: "sign-in refused from \(context.remoteAddress)", now: now)
            }
            var response = form(context, message: "Tên đăng nhập hoặc mật khẩu không đúng.", name: name)
            response.status = .unauthorized
            return response
        }
        app.sessions.succeeded(account: keys[0])
        let session = app.sessions.open(account: account.name, role: account.role, now: now)
        try await app.blocking {
            try spool.recordAccountEvent(
                .account, actor: "desk:\(account.name)", detail: "signed in from \(context.remoteAddress)", now: now)
        }
        var response = Response.redirect(to: "/van-ban-den", type: .found)
        response.setCookie(
            Cookie(
                name: DeskAuthMiddleware.sessionCookie, value: session.id,
                maxAge: Int(DeskSessions.lifetimeMs / 1000), path: "/",
                secure: app.servedOverTLS, httpOnly: true, sameSite: .strict))
        return response
    }

    func signOut(_ request: Request, _ context: DeskRequestContext) async throws -> Response {
        let form = try await request.formFields(context)
        try DeskPages.checkCSRF(form["csrf"], context)
        if let session = context.session { app.sessions.close(session.id) }
        var response = Response.redirect(to: "/dang-nhap", type: .found)
        response.setCookie(
            Cookie(
                name: DeskAuthMiddleware.sessionCookie, value: "", maxAge: 0, path: "/",
                secure: app.servedOverTLS, httpOnly: true, sameSite: .strict))
        return response
    }
}
