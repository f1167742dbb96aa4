import Diagnostics
import Foundation

/// The error type of the Control module.
public struct ControlError: Error, CustomStringConvertible, Sendable, Equatable, LienThongError {
    public enum Code: String, Sendable {
        /// A request or response line over its limit (refused before buffering the rest).
        case tooLarge = "CONTROL-TOO-LARGE"
        /// Not a JSON request this version understands.
        case malformed = "CONTROL-MALFORMED"
        /// No daemon answers on the socket.
        case notRunning = "CONTROL-NOT-RUNNING"
        /// The daemon already serves `ControlLimits.maxConnections` connections: try again shortly.
        case busy = "CONTROL-BUSY"
        case io = "CONTROL-IO"
    }

    /// The stable code (`LienThongError`).
    public var errorCode: String { code.rawValue }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "[\(code.rawValue)] \(message)" }
}

/// The request line: `{"v":2,"request":{…}}`, with `uploads` and `download` when files travel.
struct RequestLine: Codable {
    var v: Int
    var request: ControlRequest
    var uploads: [ControlTransfer]?
    var download: Bool?
}

/// Only the version of a request line, read before the rest.
private struct VersionOnly: Decodable {
    var v: Int
}

/// Encoding and strict decoding of control lines.
public enum ControlCodec {
    public static func encode(_ request: ControlRequest) throws -> [UInt8] {
        try encode(request, uploads: [], download: false)
    }

    /// A request line with the files that follow it and whether the answer should bring files back.
    public static func encode(_ request: ControlRequest, uploads: [ControlTransfer], download: Bool) throws -> [UInt8] {
        let line = RequestLine(
            v: ControlLimits.version, request: request, uploads: uploads.isEmpty ? nil : uploads,
            download: download ? true : nil)
        return Array(try JSONEncoder().encode(line)) + [0x0a]
    }

    /// Parses one request line (without its newline). Untrusted input: size first, then JSON.
    public static func decodeRequest(_ line: [UInt8]) throws -> ControlRequest { try decodeRequestLine(line).request }

    /// Parses one request line with what travels with it; the uploads are checked against the limits.
    public static func decodeRequestLine(_ line: [UInt8]) throws -> ControlRequestLine {
        guard line.count <= ControlLimits.maxRequestBytes else {
            throw ControlError(.tooLarge, "a control request is at most \(ControlLimits.maxRequestBytes) bytes")
        }
        // The version first: an older client's request would not parse as this version's.
        if let version = try? JSONDecoder().decode(VersionOnly.self, from: Data(line)).v,
            version != ControlLimits.version
        {
            throw ControlError(
                .malformed,
                "control request version \(version); this node speaks version "
                    + "\(ControlLimits.version) (are lienthong and lienthongd the same release?)")
        }
        let decoded: RequestLine
        do { decoded = try JSONDecoder().decode(RequestLine.self, from: Data(line)) } catch {
            throw ControlError(
                .malformed,
                "not a control request this node understands "
                    + "(\(String(describing: error).prefix(200)))")
        }
        let uploads = decoded.uploads ?? []
        try ControlTransfer.checkAll(uploads)
        return ControlRequestLine(request: decoded.request, uploads: uploads, download: decoded.download ?? false)
    }

    public static func encode(_ response: ControlResponse) throws -> [UInt8] {
        // The long lists by hand (`JSONText`): the same text, a fraction of the time.
        if response.ok, response.error == nil, response.downloads == nil {
            switch response.result {
            case .inbox(let items)?: return list("inbox", items, bytesEach: 320) { $0.write(to: &$1) }
            case .sentList(let summaries)?: return list("sentList", summaries, bytesEach: 160) { $0.write(to: &$1) }
            default: break
            }
        }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try e.encode(response)) + [0x0a]
    }

    /// `{"ok":true,"result":{"KEY":[…]}}` and a newline, as `JSONEncoder` with sorted keys writes it.
    private static func list<T>(
        _ key: StaticString, _ items: [T], bytesEach: Int, _ write: (T, inout JSONText) -> Void
    ) -> [UInt8] {
        var json = JSONText(capacity: items.count * bytesEach + 64)
        json.beginObject()
        json.field("ok", true)
        json.key("result")
        json.beginObject()
        json.key(key)
        json.beginArray()
        for item in items { write(item, &json) }
        json.endArray()
        json.endObject()
        json.endObject()
        return json.bytes + [0x0a]
    }

    /// The JSON of a successful answer's `result.KEY` as it is in `line`, without decoding it —
    /// for printing a long list as JSON. Nil for any other answer (a refusal, another result).
    public static func rawResult(_ line: [UInt8], key: String) -> ArraySlice<UInt8>? {
        let prefix = Array("{\"ok\":true,\"result\":{\"\(key)\":".utf8)
        guard line.count >= prefix.count + 2, line.starts(with: prefix), line.suffix(2).elementsEqual([0x7d, 0x7d])
        else { return nil }
        return line[prefix.count..<(line.count - 2)]
    }

    public static func decodeResponse(_ line: [UInt8]) throws -> ControlResponse {
        do { return try JSONDecoder().decode(ControlResponse.self, from: Data(line)) } catch {
            throw ControlError(
                .malformed, "the node's answer is not a control response (\(String(describing: error).prefix(200)))")
        }
    }
}

/// Splits a byte stream into lines, refusing a line longer than `maxLine` as soon as it is seen
/// (the bytes of an oversized line are never buffered past the limit).
public struct LineFramer: Sendable {
    public let maxLine: Int
    private var buffer: [UInt8] = []

    public init(maxLine: Int) { self.maxLine = maxLine }

    /// Feeds bytes; returns the complete lines they finish.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for b in bytes {
            if b == 0x0a {
                lines.append(buffer)
                buffer.removeAll(keepingCapacity: true)
            } else {
                guard buffer.count < maxLine else {
                    throw ControlError(.tooLarge, "a control line is longer than \(maxLine) bytes")
                }
                buffer.append(b)
            }
        }
        return lines
    }

    /// Bytes of an unfinished line.
    public var pending: Int { buffer.count }
}
