/// The error type of the Node module: a stable code (`HOME-…`, `SEND-…`, `INBOX-…`, `TRACK-…`,
/// `NODE-…`), a message an operator can act on, and the cause when there is one.
public struct NodeError: Error, CustomStringConvertible, Sendable {
    public let code: String
    public let message: String
    public let cause: String?

    public init(_ code: String, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        "[\(code)] \(message)" + (cause.map { " (cause: \($0))" } ?? "")
    }
}

/// Error codes of the modules below, for reporting over the control socket.
public enum ErrorCode {
    public static func of(_ error: any Error) -> (code: String, message: String) {
        let text = "\(error)"
        if let n = error as? NodeError { return (n.code, n.message + (n.cause.map { " (cause: \($0))" } ?? "")) }
        // Module errors print as "[CODE] message".
        if text.hasPrefix("["), let end = text.firstIndex(of: "]") {
            return (String(text[text.index(after: text.startIndex)..<end]), String(text[text.index(end, offsetBy: 1)...]).trimmingCharacters(in: .whitespaces))
        }
        return ("NODE-ERROR", text)
    }
}
