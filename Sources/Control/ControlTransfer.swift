import Foundation

/// A file that travels over the control socket with a request (an upload: a document's files, an
/// edXML package) or with its answer (a download: an export), as raw bytes right after the JSON
/// line, in order. The daemon then never opens a path of the caller's: it runs with
/// `ProtectHome=yes` as its own user, and the operator's files are the operator's.
///
/// ```
/// → {"v":2,"request":{"send":{… "files":["upload:0"]}},"uploads":[{"name":"cv.pdf","size":52311}]}\n
///   <52311 bytes>
/// ← {"ok":true,"result":{…},"downloads":[…]}\n <bytes of each download>
/// ```
///
/// Security note: names are base names only (no `/`, not `.` or `..`, at most 255 bytes) and the
/// number and total size of uploads are bounded before any byte is read (`ControlLimits`).
public struct ControlTransfer: Codable, Sendable, Equatable {
    public var name: String
    public var size: UInt64

    public init(name: String, size: UInt64) {
        self.name = name
        self.size = size
    }

    /// Throws unless `name` is a plain file name.
    public static func checkName(_ name: String) throws {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= 255, !name.contains("/"), name != ".", name != "..",
            !bytes.contains(0)
        else {
            throw ControlError(
                .malformed, "a transferred file's name must be a plain file name, not '\(name.prefix(80))'")
        }
    }

    /// Throws unless `transfers` are within the limits.
    public static func checkAll(_ transfers: [ControlTransfer]) throws {
        guard transfers.count <= ControlLimits.maxTransfers else {
            throw ControlError(.tooLarge, "at most \(ControlLimits.maxTransfers) files travel with one request")
        }
        var total: UInt64 = 0
        for t in transfers {
            try checkName(t.name)
            let (sum, overflow) = total.addingReportingOverflow(t.size)
            guard !overflow, sum <= ControlLimits.maxTransferBytes else {
                throw ControlError(
                    .tooLarge, "the files of one request are at most \(ControlLimits.maxTransferBytes >> 30) GiB")
            }
            total = sum
        }
    }

    /// The placeholder a request carries for its `index`th upload.
    public static func placeholder(_ index: Int) -> String { "upload:\(index)" }

    /// The upload index a placeholder names, if it is one.
    public static func index(of placeholder: String) -> Int? {
        guard placeholder.hasPrefix("upload:") else { return nil }
        return Int(placeholder.dropFirst("upload:".count))
    }
}

extension ControlRequest {
    /// The files this request reads from the caller's disk: a document's files, an edXML package,
    /// a status package.
    public var inputPaths: [String] {
        switch self {
        case .send(let r): r.files + (r.edxml.map { [$0] } ?? [])
        case .inboxStatusEdXML(_, let file): [file]
        case .topologyPublish(let file): [file]
        case .envelopeImport(let file, _): [file]
        default: []
        }
    }

    /// The request with its input paths replaced, in the order of `inputPaths`.
    public func replacingInputs(_ paths: [String]) -> ControlRequest {
        switch self {
        case .send(var r):
            let count = r.files.count
            r.files = Array(paths.prefix(count))
            if r.edxml != nil, paths.count > count { r.edxml = paths[count] }
            return .send(r)
        case .inboxStatusEdXML(let id, _) where !paths.isEmpty: return .inboxStatusEdXML(id: id, file: paths[0])
        case .topologyPublish where !paths.isEmpty: return .topologyPublish(file: paths[0])
        case .envelopeImport(_, let from) where !paths.isEmpty: return .envelopeImport(file: paths[0], from: from)
        default: return self
        }
    }

    /// Where this request writes on the caller's disk: a directory or one file.
    public var output: (path: String, isDirectory: Bool)? {
        switch self {
        case .inboxExport(_, let out): (out, true)
        case .inboxExportEdXML(_, let out): (out, false)
        case .trackEdXMLStatus(_, let out): (out, true)
        default: nil
        }
    }

    /// The request writing to `path` instead.
    public func replacingOutput(_ path: String) -> ControlRequest {
        switch self {
        case .inboxExport(let id, _): .inboxExport(id: id, out: path)
        case .inboxExportEdXML(let id, _): .inboxExportEdXML(id: id, out: path)
        case .trackEdXMLStatus(let id, _): .trackEdXMLStatus(id: id, out: path)
        default: self
        }
    }
}

/// A request line as the daemon reads it: the request and what travels with it.
public struct ControlRequestLine: Sendable, Equatable {
    public var request: ControlRequest
    /// Files whose bytes follow the line, in order.
    public var uploads: [ControlTransfer]
    /// The caller wants what the request writes sent back after the answer, not written to a path.
    public var download: Bool
}
