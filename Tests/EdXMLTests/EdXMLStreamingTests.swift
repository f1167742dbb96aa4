import Foundation
import Testing
@testable import EdXML

/// A large attachment is decoded as it arrives: the sink sees it in bounded pieces, never whole.
@Suite struct EdXMLStreamingTests {
    @Test func aFiftyMiBAttachmentIsStreamed() throws {
        let size = 50 << 20
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("edxml-50-\(UUID()).edxml")
        defer { try? FileManager.default.removeItem(at: url) }
        try writePackage(to: url, attachmentBytes: size)
        let sink = PatternSink()
        guard case .document(let doc) = try EdXMLReader().read(fileAt: url.path, sink: sink) else {
            Issue.record("not a document"); return
        }
        #expect(sink.total == UInt64(size))
        #expect(!sink.mismatch)
        #expect(sink.largestWrite <= 128 * 1024 + 3)
        #expect(doc.attachments.first?.size == UInt64(size))
        #expect(doc.attachments.first?.name == "large.bin")
    }

    /// Writes a package whose one attachment is `attachmentBytes` of the pattern `i % 251`, in 76-char
    /// base64 lines, a piece at a time.
    func writePackage(to url: URL, attachmentBytes: Int) throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        let head = minimal(attachments: "<Attachment><AttachmentName>large.bin</AttachmentName>"
                           + "<ContentTransferEncoded>@@</ContentTransferEncoded></Attachment>")
        let parts = head.components(separatedBy: "@@")
        try handle.write(contentsOf: Data(parts[0].utf8))
        let piece = 57 * 1024
        var offset = 0
        while offset < attachmentBytes {
            let count = min(piece, attachmentBytes - offset)
            let bytes = Data((offset..<offset + count).map { UInt8(truncatingIfNeeded: $0 % 251) })
            try handle.write(contentsOf: Data(bytes.base64EncodedString(options: .lineLength76Characters).utf8))
            try handle.write(contentsOf: Data("\n".utf8))
            offset += count
        }
        try handle.write(contentsOf: Data(parts[1].utf8))
    }
}
