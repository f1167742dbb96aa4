import Foundation
import Hummingbird
import SodiumKit

/// A multipart upload received to disk: small fields in memory, each file part streamed into a
/// private scratch directory of the node home, removed by `discard()` once the send is done.
///
/// Security note: the body is untrusted and may be huge. Field values are limited to
/// `maxFieldBytes` each and `maxFieldsBytes` together, the whole body to `maxUploadBytes`; file
/// names are reduced to a safe last path component and never used as paths as given; a
/// browser's form must carry its CSRF token in a field before its first file, so a forged
/// upload is refused before a byte of it is written.
struct UploadReceiver {
    static let maxFieldBytes = 64 * 1024
    static let maxFieldsBytes = 1 << 20
    static let maxUploadBytes: Int64 = 2 << 30

    struct File {
        let field: String
        let name: String
        let path: String
        var size: Int64
    }

    private(set) var fields = FormFields(values: [:])
    private(set) var files: [File] = []
    let directory: String

    /// Reads the request body; `csrf` is the token a browser session's form must carry.
    static func receive(
        _ request: Request, scratch: String, csrf: String?
    ) async throws -> UploadReceiver {
        guard let type = request.headers[.contentType], let boundary = MultipartReader.boundary(contentType: type)
        else {
            throw DeskError(
                .multipart, "send multipart/form-data (fields and files)",
                vi: "Dữ liệu gửi lên phải ở dạng multipart/form-data.")
        }
        var reader = try MultipartReader(boundary: boundary)
        let directory = scratch + "/" + Hex.encode(Sodium.randomBytes(12))
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var upload = UploadReceiver(directory: directory)
        do {
            try await upload.read(request.body, reader: &reader, csrf: csrf)
        } catch {
            upload.discard()
            throw error
        }
        return upload
    }

    private init(directory: String) { self.directory = directory }

    private mutating func read(_ body: RequestBody, reader: inout MultipartReader, csrf: String?) async throws {
        var total: Int64 = 0
        var fieldsBytes = 0
        var current: (name: String, file: FileHandle?, value: [UInt8])?
        defer { try? current?.file?.close() }
        for try await buffer in body {
            total += Int64(buffer.readableBytes)
            guard total <= Self.maxUploadBytes else {
                throw DeskError(
                    .tooLarge, "an upload is limited to \(Self.maxUploadBytes >> 20) MiB",
                    vi: "Tệp tải lên quá lớn (tối đa \(Self.maxUploadBytes >> 20) MB).")
            }
            for event in try reader.feed(buffer.readableBytesView) {
                switch event {
                case .part(let name, let filename, _):
                    if let filename {
                        if let csrf, fields["csrf"] != csrf {
                            throw DeskError(
                                .csrf, "the form's CSRF token is missing or wrong; reload the page",
                                vi: "Phiên làm việc không hợp lệ; hãy tải lại trang rồi thử lại.")
                        }
                        let safe = Self.safeName(filename, index: files.count)
                        // One directory per file: the name is what the recipient sees.
                        let folder = directory + "/" + String(files.count)
                        let path = folder + "/" + safe
                        guard
                            (try? FileManager.default.createDirectory(
                                atPath: folder, withIntermediateDirectories: false)) != nil,
                            FileManager.default.createFile(atPath: path, contents: nil),
                            let handle = FileHandle(forWritingAtPath: path)
                        else {
                            throw DeskError(.io, "cannot write the upload to \(directory); check the disk")
                        }
                        files.append(File(field: name, name: safe, path: path, size: 0))
                        current = (name, handle, [])
                    } else {
                        current = (name, nil, [])
                    }
                case .body(let bytes):
                    guard current != nil else { continue }
                    if let handle = current?.file {
                        try handle.write(contentsOf: bytes)
                        files[files.count - 1].size += Int64(bytes.count)
                    } else {
                        fieldsBytes += bytes.count
                        guard (current?.value.count ?? 0) + bytes.count <= Self.maxFieldBytes,
                            fieldsBytes <= Self.maxFieldsBytes
                        else {
                            throw DeskError(.tooLarge, "a form field is limited to \(Self.maxFieldBytes) bytes")
                        }
                        current?.value.append(contentsOf: bytes)
                    }
                case .partEnd:
                    if let c = current {
                        if let handle = c.file {
                            try handle.synchronize()
                            try handle.close()
                        } else {
                            fields.append(c.name, String(decoding: c.value, as: UTF8.self))
                        }
                    }
                    current = nil
                case .end:
                    break
                }
            }
        }
        guard reader.isComplete else {
            throw DeskError(
                .multipart, "the upload ended before its closing boundary",
                vi: "Tải lên bị gián đoạn.")
        }
        if let csrf, fields["csrf"] != csrf {
            throw DeskError(
                .csrf, "the form's CSRF token is missing or wrong; reload the page",
                vi: "Phiên làm việc không hợp lệ; hãy tải lại trang rồi thử lại.")
        }
    }

    /// Removes the scratch directory and what was written into it.
    func discard() { try? FileManager.default.removeItem(atPath: directory) }

    /// The last path component, without control characters or separators; a default when empty.
    static func safeName(_ name: String, index: Int) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(200))
        return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? "tep-\(index + 1)" : cleaned
    }
}
