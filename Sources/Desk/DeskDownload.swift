import Foundation
import Hummingbird
import NIOCore
import Node
import SodiumKit

/// Streams a received document's attachment or its edXML package: the node decrypts it into a
/// scratch directory of the home, the answer streams the file in 128 KiB reads, and the scratch
/// copy is removed when the answer ends (or fails).
///
/// Security note: the file is chosen by index from the node's own export, never by a name from
/// the request; the download name is sent as an RFC 5987 encoded parameter.
struct DeskDownload {
    let app: DeskApp

    func attachment(_ id: String, index: Int, _ context: DeskRequestContext) async throws -> Response {
        let ops = try app.operations(context)
        let dir = try makeScratch()
        do {
            let report = try await app.blocking { try ops.export(id, to: dir + "/files") }
            guard report.files.indices.contains(index) else {
                throw DeskError(
                    .notFound, "the document has \(report.files.count) attachment(s); index \(index) is not one",
                    vi: "Không có tệp đính kèm này.")
            }
            let name = report.files[index]
            return try stream(dir + "/files/" + name, name: name, scratch: dir)
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }

    func package(_ id: String, _ context: DeskRequestContext) async throws -> Response {
        let ops = try app.operations(context)
        let dir = try makeScratch()
        do {
            let path = dir + "/package.edxml"
            _ = try await app.blocking { try ops.exportEdXML(id, to: path) }
            return try stream(path, name: String(id.prefix(16)) + ".edxml", scratch: dir, type: "application/xml")
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }

    private func makeScratch() throws -> String {
        let dir = app.scratch + "/" + Hex.encode(Sodium.randomBytes(12))
        do {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DeskError(.io, "cannot create \(dir); check the node home's disk", cause: "\(error)")
        }
        return dir
    }

    private func stream(
        _ path: String, name: String, scratch: String, type: String = "application/octet-stream"
    ) throws -> Response {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DeskError(.io, "the exported file \(path) cannot be read")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        let body = ResponseBody(contentLength: size) { writer in
            defer {
                try? handle.close()
                try? FileManager.default.removeItem(atPath: scratch)
            }
            while let data = try handle.read(upToCount: 128 * 1024), !data.isEmpty {
                try await writer.write(ByteBuffer(bytes: data))
            }
            try await writer.finish(nil)
        }
        let ascii = String(
            name.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0.value >= 0x20 ? Character($0) : "_" })
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ascii
        return Response(
            status: .ok,
            headers: [
                .contentType: type,
                .contentDisposition: "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)",
            ], body: body)
    }
}
