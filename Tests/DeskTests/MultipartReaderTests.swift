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

/// Random bodies in random pieces: the reader either reads them or refuses them with its error,
/// and what it holds back stays below a header block plus a delimiter, whatever it is fed.
struct MultipartReaderRandomTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func randomInputNeverCrashesOrGrowsTheBuffer() throws {
        var rng = SplitMix(state: 2026)
        let alphabet = Array("--b\r\n\"=;:Content-Disposition: form-data; name=filename\r\n\r\nxy".utf8)
        for _ in 0..<2_000 {
            var reader = try MultipartReader(boundary: "b")
            let length = Int.random(in: 0..<3_000, using: &rng)
            let body = (0..<length).map { _ in
                Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            var i = 0
            do {
                while i < body.count {
                    let n = Int.random(in: 1...64, using: &rng)
                    _ = try reader.feed(body[i..<min(i + n, body.count)])
                    i += n
                }
            } catch is DeskError {}
        }
        // Body bytes are handed on, not kept: a 1 MiB part fed in 4 KiB pieces yields ~1 MiB of body.
        var reader = try MultipartReader(boundary: "b")
        _ = try reader.feed(Array("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n".utf8))
        var out = 0
        for _ in 0..<256 {
            for case .body(let b) in try reader.feed([UInt8](repeating: 0x41, count: 4096)) { out += b.count }
        }
        #expect(out >= 256 * 4096 - 8)
    }
}
