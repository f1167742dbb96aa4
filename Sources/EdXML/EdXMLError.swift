import Diagnostics

/// Errors of the edXML reader and writer: a stable code, a message an operator can act on, where in
/// the package it happened (line and column, 1-based, when known) and the cause.
public struct EdXMLError: Error, Sendable, Equatable, CustomStringConvertible, LienThongError {
    /// Stable codes; scripts and the desk match on these.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        case strayBytes = "EDXML-STRAY-BYTES"
        case malformed = "EDXML-MALFORMED"
        case dtd = "EDXML-DTD"
        case notEdXML = "EDXML-NOT-EDXML"
        case missing = "EDXML-MISSING"
        case invalid = "EDXML-INVALID"
        case tooLarge = "EDXML-TOO-LARGE"
        case tooMany = "EDXML-TOO-MANY"
        case tooDeep = "EDXML-TOO-DEEP"
        case base64 = "EDXML-BASE64"
        case io = "EDXML-IO"
        case encoding = "EDXML-ENCODING"
    }

    /// The stable code (`LienThongError`).
    public var errorCode: String { code.rawValue }

    public var code: Code
    public var message: String
    public var line: Int?
    public var column: Int?
    public var cause: String?

    public init(_ code: Code, _ message: String, line: Int? = nil, column: Int? = nil, cause: String? = nil) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.cause = cause
    }

    public var description: String {
        var text = "[\(code.rawValue)] \(message)"
        if let line { text += " (line \(line)" + (column.map { ", column \($0)" } ?? "") + ")" }
        if let cause { text += " (cause: \(cause))" }
        return text
    }
}
