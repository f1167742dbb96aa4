import Foundation

/// An attachment to write: its fields and where its bytes come from, read a piece at a time.
public struct EdXMLAttachmentSource {
    public var attachment: EdXMLAttachment
    /// Returns up to the given number of bytes; empty at the end.
    public var read: (Int) throws -> Data

    public init(attachment: EdXMLAttachment, read: @escaping (Int) throws -> Data) {
        self.attachment = attachment
        self.read = read
    }

    /// Bytes held in memory (small attachments, tests).
    public static func bytes(_ data: Data, attachment: EdXMLAttachment) -> EdXMLAttachmentSource {
        var offset = 0
        return EdXMLAttachmentSource(attachment: attachment) { max in
            let end = min(data.count, offset + max)
            defer { offset = end }
            return data.subdata(in: (data.startIndex + offset)..<(data.startIndex + end))
        }
    }

    /// A file, read as the package is written. The handle is closed at the end of the file.
    public static func file(_ url: URL, attachment: EdXMLAttachment) throws -> EdXMLAttachmentSource {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw EdXMLError(.io, "cannot read \(url.path); check that it exists and is readable")
        }
        return EdXMLAttachmentSource(attachment: attachment) { max in
            let data = try handle.read(upToCount: max) ?? Data()
            if data.isEmpty { try? handle.close() }
            return data
        }
    }
}

/// Writes edXML packages: documents (from a model read earlier, or built from LienThong's own
/// metadata) and status packages, in the standard's element order, with the edXML prefix.
/// Attachments are base64-encoded a piece at a time, so memory stays bounded.
///
/// Security note: every text is escaped; characters XML cannot carry are dropped, never written raw.
public enum EdXMLWriter {
    /// Bytes read per base64 piece: a multiple of 57, so every line but the last is 76 characters.
    static let attachmentPiece = 57 * 1024

    /// Writes a document package to `emit`; `attachments` supply the bytes, in order.
    public static func write(
        document: EdXMLDocument, attachments: [EdXMLAttachmentSource],
        to emit: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var out = EdXMLOutput(emit: emit)
        let extras = document.extras
        func kept(_ parent: String) throws {
            for element in extras[parent] ?? [] {
                try out.element(element, defaultNamespace: EdXMLNamespace.uri)
            }
        }
        try out.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edXML xmlns=\"\(EdXMLNamespace.uri)\">\n")
        try out.raw("<edXML:edXMLEnvelope xmlns:edXML=\"\(EdXMLNamespace.uri)\">\n<edXML:edXMLHeader>\n")
        try header(document.header, extras: extras, out: &out)
        if !document.traces.isEmpty || document.business != nil || extras["TraceHeaderList"] != nil {
            try out.open("TraceHeaderList")
            for trace in document.traces {
                try out.open("TraceHeader")
                try out.leaf("OrganId", trace.organId)
                try out.leaf("Timestamp", trace.timestamp)
                try out.close("TraceHeader")
            }
            if let business = document.business { try self.business(business, extras: extras, out: &out) }
            try kept("TraceHeaderList")
            try out.close("TraceHeaderList")
            try out.raw("\n")
        }
        if let signature = document.signature { try out.element(signature, defaultNamespace: EdXMLNamespace.uri) }
        try kept("edXMLHeader")
        try out.raw("</edXML:edXMLHeader>\n<edXML:edXMLBody>\n<edXML:edXMLManifest version=\"1.0\">\n")
        let references =
            document.manifest.isEmpty
            ? attachments.enumerated().map { index, source in
                EdXMLReference(
                    contentId: source.attachment.contentId ?? "cid:\(index + 1)",
                    contentType: source.attachment.contentType,
                    description: source.attachment.description,
                    attachmentName: source.attachment.name)
            }
            : document.manifest
        for reference in references {
            try out.open("Reference")
            try out.leaf("ContentId", reference.contentId)
            try out.leaf("ContentType", reference.contentType)
            try out.leaf("Description", reference.description)
            try out.leaf("AttachmentName", reference.attachmentName)
            try out.close("Reference")
            try out.raw("\n")
        }
        try kept("edXMLManifest")
        try out.raw("</edXML:edXMLManifest>\n")
        try kept("edXMLBody")
        try out.raw("</edXML:edXMLBody>\n")
        try kept("edXMLEnvelope")
        try out.raw("</edXML:edXMLEnvelope>\n<AttachmentEncoded>\n")
        for (index, source) in attachments.enumerated() {
            let fields = source.attachment
            try out.raw(
                "<Attachment><ContentId>\(EdXMLOutput.escape(fields.contentId ?? "cid:\(index + 1)"))"
                    + "</ContentId><AttachmentName>\(EdXMLOutput.escape(fields.name))</AttachmentName>")
            if let description = fields.description {
                try out.raw("<Description>\(EdXMLOutput.escape(description))</Description>")
            }
            if let type = fields.contentType { try out.raw("<ContentType>\(EdXMLOutput.escape(type))</ContentType>") }
            try out.raw("<ContentTransferEncoded>\n")
            // A source may return any count; only whole groups of three are encoded before the end,
            // so `=` padding appears once, at the end.
            var carry = Data()
            while true {
                let piece = try source.read(attachmentPiece - carry.count)
                if piece.isEmpty { break }
                carry.append(piece)
                let whole = carry.count - carry.count % 3
                guard whole > 0 else { continue }
                try out.raw(carry.prefix(whole).base64EncodedData(options: .lineLength76Characters))
                try out.raw("\n")
                carry = Data(carry.dropFirst(whole))
            }
            if !carry.isEmpty { try out.raw(carry.base64EncodedData()) }
            try out.raw("</ContentTransferEncoded></Attachment>\n")
        }
        try out.raw("</AttachmentEncoded>\n")
        try kept("edXML")
        try out.raw("</edXML>\n")
        try out.flush()
    }

    /// Writes a document package to a file (replaced only once complete).
    public static func write(document: EdXMLDocument, attachments: [EdXMLAttachmentSource], toFile url: URL) throws {
        let part = url.appendingPathExtension("part")
        guard FileManager.default.createFile(atPath: part.path, contents: nil),
            let handle = FileHandle(forWritingAtPath: part.path)
        else {
            throw EdXMLError(.io, "cannot write \(part.path); check the directory and its permissions")
        }
        do {
            try write(document: document, attachments: attachments) { try handle.write(contentsOf: Data($0)) }
            try handle.close()
            _ = try? FileManager.default.removeItem(at: url)
            try FileManager.default.moveItem(at: part, to: url)
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: part)
            if let error = error as? EdXMLError { throw error }
            throw EdXMLError(.io, "cannot write \(url.path); check free space", cause: "\(error)")
        }
    }

    /// A document package in memory (small documents, tests).
    public static func data(document: EdXMLDocument, attachments: [EdXMLAttachmentSource]) throws -> Data {
        var data = Data()
        try write(document: document, attachments: attachments) { data.append(contentsOf: $0) }
        return data
    }
}
