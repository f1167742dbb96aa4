import Testing

@testable import Desk

/// The multipart reader fed whole, byte by byte and in awkward pieces, and refusing what it must.
struct MultipartReaderTests {
    static let body = Array(
        ("--XyZ\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"subject\":\"Trích yếu\"}\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"tờ trình.pdf\"\r\n"
            + "Content-Type: application/pdf\r\n\r\nPDF\r\n--Xy\r\n-XyZ bytes\r\n--XyZ--\r\nepilogue").utf8)

    /// Events with the body bytes of each part joined, so the split points do not matter.
    func events(_ pieces: [[UInt8]]) throws -> [String] {
        var reader = try MultipartReader(boundary: "XyZ")
        var out: [String] = []
        var body: [UInt8] = []
        for piece in pieces {
            for e in try reader.feed(piece) {
                switch e {
                case .part(let name, let filename, let type): out.append("part \(name) \(filename ?? "-") \(type ?? "-")")
                case .body(let b): body += b
                case .partEnd:
                    out.append("body \(String(decoding: body, as: UTF8.self))")
                    body = []
                case .end: out.append("end")
                }
            }
        }
        #expect(reader.isComplete)
        return out
    }

    @Test func partsComeOutTheSameHoweverTheBytesArrive() throws {
        let expected = [
            "part metadata - -", "body {\"subject\":\"Trích yếu\"}",
            "part file tờ trình.pdf application/pdf", "body PDF\r\n--Xy\r\n-XyZ bytes", "end",
        ]
        #expect(try events([Self.body]) == expected)
        #expect(try events(Self.body.map { [$0] }) == expected)
        for size in [2, 3, 5, 7, 13] {
            let pieces = stride(from: 0, to: Self.body.count, by: size).map {
                Array(Self.body[$0..<min($0 + size, Self.body.count)])
            }
            #expect(try events(pieces) == expected, "pieces of \(size)")
        }
    }

    @Test func boundaryComesFromTheContentType() {
        #expect(MultipartReader.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartReader.boundary(contentType: "multipart/form-data; boundary=\"a b\"") == "a b")
        #expect(MultipartReader.boundary(contentType: "application/json") == nil)
    }

    @Test func oversizedHeadersAndTooManyPartsAreRefusedBeforeBuffering() throws {
        var reader = try MultipartReader(boundary: "b")
        let head = Array("--b\r\nContent-Disposition: form-data; name=\"x\"; filename=\"".utf8)
        _ = try reader.feed(head)
        let endless = [UInt8](repeating: UInt8(ascii: "a"), count: MultipartReader.maxHeaderBytes)
        #expect(throws: DeskError.self) { _ = try reader.feed(endless) }

        var many = try MultipartReader(boundary: "b")
        var text = ""
        for i in 0...MultipartReader.maxParts { text += "--b\r\nContent-Disposition: form-data; name=\"f\(i)\"\r\n\r\nv\r\n" }
        #expect(throws: DeskError.self) { _ = try many.feed(Array((text + "--b--").utf8)) }

        var nameless = try MultipartReader(boundary: "b")
        #expect(throws: DeskError.self) { _ = try nameless.feed(Array("--b\r\nContent-Type: text/plain\r\n\r\nv".utf8)) }
        #expect(throws: DeskError.self) { _ = try MultipartReader(boundary: "") }
        // The boundary inside a body, followed by anything but padding, is malformed.
        var inside = try MultipartReader(boundary: "b")
        #expect(throws: DeskError.self) {
            _ = try inside.feed(Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--b-x\r\n".utf8))
        }
    }

    @Test func fileNamesAreReducedToASafeLastComponent() {
        #expect(UploadReceiver.safeName("../../etc/passwd", index: 0) == "passwd")
        #expect(UploadReceiver.safeName("C:\\Users\\a\\tờ trình.pdf", index: 0) == "tờ trình.pdf")
        #expect(UploadReceiver.safeName("..", index: 2) == "tep-3")
        #expect(UploadReceiver.safeName("a\u{0}b\nc", index: 0) == "abc")
    }
}
