import Diagnostics
import Hummingbird

/// The desk's own errors: a stable code, an English message for the operator's log and a
/// Vietnamese one for the clerk, and the HTTP status they map to.
public struct DeskError: LienThongError, Sendable {
    public enum Code: String, Sendable {
        case unauthenticated = "DESK-UNAUTHENTICATED"
        case forbidden = "DESK-FORBIDDEN"
        case csrf = "DESK-CSRF"
        case throttled = "DESK-THROTTLED"
        case badRequest = "DESK-BAD-REQUEST"
        case multipart = "DESK-MULTIPART"
        case tooLarge = "DESK-TOO-LARGE"
        case notFound = "DESK-NOT-FOUND"
        case listen = "DESK-LISTEN"
        case account = "DESK-ACCOUNT"
        case io = "DESK-IO"
    }

    public let code: Code
    public let message: String
    /// What the clerk reads (Vietnamese, with diacritics); the English message when not given.
    public let vietnamese: String?
    public let cause: String?

    public init(_ code: Code, _ message: String, vi: String? = nil, cause: String? = nil) {
        self.code = code
        self.message = message
        self.vietnamese = vi
        self.cause = cause
    }

    public var errorCode: String { code.rawValue }
    public var description: String { report }

    var status: HTTPResponse.Status {
        switch code {
        case .unauthenticated: .unauthorized
        case .forbidden, .csrf: .forbidden
        case .throttled: .tooManyRequests
        case .badRequest, .multipart, .account: .badRequest
        case .tooLarge: .contentTooLarge
        case .notFound: .notFound
        case .listen, .io: .internalServerError
        }
    }
}
