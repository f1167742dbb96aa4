/// The one error protocol of LienThong. Every module's error conforms: a stable code that
/// scripts, the control socket and docs/OPERATIONS.md match on (`SPOOL-DISK-FULL`), a message an
/// operator can act on, and the cause when there is one (errno text, SQLite's message, an inner
/// error). Nothing is recovered by parsing an error's description.
///
/// Security: errors reach logs, the control socket and the desk; a conforming type must never put
/// key material or a document's content in its message or cause.
public protocol LienThongError: Error, CustomStringConvertible {
    /// The stable code: upper case, module prefix first, words joined by hyphens.
    var errorCode: String { get }
    /// What went wrong and what to do next, for the operator.
    var message: String { get }
    /// The underlying cause, if any.
    var cause: String? { get }
}

extension LienThongError {
    public var cause: String? { nil }

    /// `[CODE] message (cause: …)`: how every module's error prints.
    public var report: String {
        "[\(errorCode)] \(message)" + (cause.map { " (cause: \($0))" } ?? "")
    }
}

/// A code word from a Swift case name: `unknownOrigin` → `UNKNOWN-ORIGIN`.
public func errorCodeWord(_ caseName: String) -> String {
    var word = ""
    for c in caseName {
        if c.isUppercase, !word.isEmpty { word.append("-") }
        word.append(contentsOf: c.uppercased())
    }
    return word
}
