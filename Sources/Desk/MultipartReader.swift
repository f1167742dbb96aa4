import Diagnostics

/// A streaming `multipart/form-data` reader (RFC 7578) as a plain state machine: bytes in,
/// events out, tested without a server.
///
/// Security note: the input is an untrusted request body. A part's header block is limited to
/// `maxHeaderBytes` and the number of parts to `maxParts` before anything is buffered beyond
/// them; body bytes are handed out as they arrive, never collected, so memory does not grow
/// with the upload. Anything malformed is `DESK-MULTIPART` with what was wrong.
public struct MultipartReader {
    /// What the reader found in the bytes fed so far.
    public enum Event: Equatable {
        /// A part starts: its form field name and, for a file, the file name and media type.
        case part(name: String, filename: String?, contentType: String?)
        /// Bytes of the current part's body (in order; a part may have many).
        case body([UInt8])
        /// The current part is complete.
        case partEnd
        /// The closing delimiter was read; nothing after it is looked at.
        case end
    }

    public static let maxHeaderBytes = 8 * 1024
    public static let maxParts = 64

    private enum State {
        case preamble
        case headers
        case body
        case afterDelimiter
        case done
    }

    private let delimiter: [UInt8]  // CRLF "--" boundary
    private var state = State.preamble
    private var pending: [UInt8] = []
    private var parts = 0

    /// - Parameter boundary: the `boundary` parameter of the request's Content-Type (1…70 characters).
    public init(boundary: String) throws {
        guard (1...70).contains(boundary.utf8.count) else {
            throw DeskError(.multipart, "the multipart boundary must be 1 to 70 characters")
        }
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may come without the CRLF before it.
        pending = Array("\r\n".utf8)
    }

    /// The boundary of a `multipart/form-data` Content-Type header, if it is one.
    public static func boundary(contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for p in parts.dropFirst() where p.lowercased().hasPrefix("boundary=") {
            var b = String(p.dropFirst("boundary=".count))
            if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
            return b
        }
        return nil
    }

    /// Feeds the next bytes of the body; returns the events they complete.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws -> [Event] {
        guard state != .done else { return [] }
        pending.append(contentsOf: bytes)
        var events: [Event] = []
        var start = 0
        loop: while true {
            switch state {
            case .preamble:
                guard let at = find(delimiter, from: start) else {
                    // Keep only what may be the start of a delimiter.
                    start = max(start, pending.count - (delimiter.count - 1))
                    break loop
                }
                start = at + delimiter.count
                state = .afterDelimiter
            case .afterDelimiter:
                guard pending.count - start >= 2 else { break loop }
                if pending[start] == UInt8(ascii: "-") && pending[start + 1] == UInt8(ascii: "-") {
                    state = .done
                    events.append(.end)
                    pending = []
                    return events
                }
                // Transport padding then CRLF.
                guard let crlf = find([13, 10], from: start) else {
                    guard pending.count - start <= 64 else {
                        throw DeskError(.multipart, "a delimiter line is too long")
                    }
                    break loop
                }
                guard pending[start..<crlf].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else {
                    throw DeskError(
                        .multipart, "the body holds the boundary followed by other text; choose another boundary")
                }
                start = crlf + 2
                parts += 1
                guard parts <= Self.maxParts else {
                    throw DeskError(.multipart, "a request may have at most \(Self.maxParts) parts")
                }
                state = .headers
            case .headers:
                guard let end = find([13, 10, 13, 10], from: start) else {
                    guard pending.count - start <= Self.maxHeaderBytes else {
                        throw DeskError(.multipart, "a part's headers are longer than \(Self.maxHeaderBytes) bytes")
                    }
                    break loop
                }
                guard end - start <= Self.maxHeaderBytes else {
                    throw DeskError(.multipart, "a part's headers are longer than \(Self.maxHeaderBytes) bytes")
                }
                events.append(try Self.partHeaders(Array(pending[start..<end])))
                start = end + 4
                state = .body
            case .body:
                if let at = find(delimiter, from: start) {
                    if at > start { events.append(.body(Array(pending[start..<at]))) }
                    events.append(.partEnd)
                    start = at + delimiter.count
                    state = .afterDelimiter
                } else {
                    // All but what may be the start of a delimiter is body.
                    let safe = pending.count - (delimiter.count - 1)
                    if safe > start {
                        events.append(.body(Array(pending[start..<safe])))
                        start = safe
                    }
                    break loop
                }
            case .done:
                break loop
            }
        }
        pending.removeFirst(min(start, pending.count))
        return events
    }

    /// Whether the closing delimiter has been read.
    public var isComplete: Bool { state == .done }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard pending.count - from >= needle.count else { return nil }
        return pending.withUnsafeBufferPointer { hay -> Int? in
            let first = needle[0]
            var i = from
            let last = hay.count - needle.count
            while i <= last {
                if hay[i] == first {
                    var j = 1
                    while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return i }
                }
                i += 1
            }
            return nil
        }
    }

    private static func partHeaders(_ bytes: [UInt8]) throws -> Event {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DeskError(.multipart, "a part's headers are not UTF-8")
        }
        var name: String?
        var filename: String?
        var contentType: String?
        for line in text.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else {
                throw DeskError(.multipart, "a part's header line has no colon: \(line.prefix(80))")
            }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "content-disposition":
                for param in Self.parameters(value) {
                    if param.key == "name" { name = param.value }
                    if param.key == "filename" { filename = param.value }
                }
            case "content-type": contentType = value
            default: break
            }
        }
        guard let name else { throw DeskError(.multipart, "a part has no Content-Disposition name") }
        return .part(name: name, filename: filename, contentType: contentType)
    }

    /// `form-data; name="x"; filename="y"` → [(name, x), (filename, y)], quotes removed.
    static func parameters(_ value: String) -> [(key: String, value: String)] {
        var out: [(String, String)] = []
        var rest = Substring(value)
        while let semi = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semi)...].drop(while: { $0 == " " })
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].lowercased()
            var after = rest[rest.index(after: eq)...]
            var v = ""
            if after.first == "\"" {
                after = after.dropFirst()
                var escaped = false
                var end = after.endIndex
                for i in after.indices {
                    let c = after[i]
                    if escaped {
                        v.append(c)
                        escaped = false
                        continue
                    }
                    if c == "\\" {
                        escaped = true
                        continue
                    }
                    if c == "\"" {
                        end = i
                        break
                    }
                    v.append(c)
                }
                rest = end < after.endIndex ? after[after.index(after: end)...] : ""
            } else {
                let end = after.firstIndex(of: ";") ?? after.endIndex
                v = after[..<end].trimmingCharacters(in: .whitespaces)
                rest = after[end...]
            }
            out.append((key, v))
        }
        return out
    }
}
