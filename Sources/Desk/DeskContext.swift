import Foundation
import Hummingbird
import NIOCore
import Spool

/// Per-request state of the desk: who is asking (set by `DeskAuthMiddleware`) and from where.
public struct DeskRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The signed-in account, its role, and its browser session (nil for an API token).
    public var account: String?
    public var role: Account.Role?
    public var session: DeskSession?
    /// The client's address, for the sign-in throttle and the audit log.
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Bodies read whole (forms, JSON) are small; uploads are streamed and bounded separately.
    public var maxUploadSize: Int { 1 << 20 }

    /// The account, or `DESK-UNAUTHENTICATED` (the middleware guarantees it on protected routes).
    func requireAccount() throws -> String {
        guard let account else {
            throw DeskError(.unauthenticated, "sign in first", vi: "Vui lòng đăng nhập trước.")
        }
        return account
    }

    /// Refuses anyone but an operator.
    func requireOperator() throws {
        guard role == .operator else {
            throw DeskError(
                .forbidden, "this needs an operator account; ask the node's operator",
                vi: """
                    Chức năng này chỉ dành cho tài khoản quản trị (operator). \
                    Hãy liên hệ cán bộ quản trị.
                    """)
        }
    }
}

/// Fields of an `application/x-www-form-urlencoded` body or query.
struct FormFields: Sendable {
    private(set) var values: [String: [String]] = [:]

    init(_ text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(kv[0])
            let value = kv.count > 1 ? Self.decode(kv[1]) : ""
            values[key, default: []].append(value)
        }
    }

    init(values: [String: [String]]) { self.values = values }

    subscript(_ key: String) -> String? { values[key]?.first }
    func all(_ key: String) -> [String] { values[key] ?? [] }

    mutating func append(_ key: String, _ value: String) { values[key, default: []].append(value) }

    private static func decode(_ s: Substring) -> String {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
    }
}

extension Request {
    /// The body as form fields, at most `context.maxUploadSize` bytes.
    func formFields(_ context: DeskRequestContext) async throws -> FormFields {
        let buffer: ByteBuffer
        do { buffer = try await body.collect(upTo: context.maxUploadSize) } catch {
            throw DeskError(
                .tooLarge, "a form is limited to \(context.maxUploadSize) bytes",
                vi: "Biểu mẫu quá lớn.")
        }
        return FormFields(String(buffer: buffer))
    }

    /// A small JSON body decoded as `T`, with a clear error when it is not.
    func json<T: Decodable>(_ type: T.Type, _ context: DeskRequestContext) async throws -> T {
        let buffer: ByteBuffer
        do { buffer = try await body.collect(upTo: context.maxUploadSize) } catch {
            throw DeskError(.tooLarge, "a JSON body is limited to \(context.maxUploadSize) bytes")
        }
        do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch {
            throw DeskError(
                .badRequest, "the body is not the JSON this request takes (see docs/openapi.yaml)",
                vi: "Dữ liệu gửi lên không đúng định dạng.", cause: "\(error)")
        }
    }
}
