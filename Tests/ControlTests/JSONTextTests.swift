import Foundation
import Testing

@testable import Control

/// The hand-written JSON of long lists (`JSONText`) says exactly what `JSONEncoder` says: the
/// same values after a decode, hostile strings included, and `rawResult` passes the list through.
@Suite struct JSONTextTests {
    static func item(_ i: Int, text: String) -> InboxItem {
        var item = InboxItem(
            id: String(repeating: "ab", count: 32), origin: "000.01.01.H27", originName: "Xã Yên Mông \(text)",
            urgency: i % 2 == 0 ? "hoa-toc" : "thuong", receivedAt: 1_765_000_000_000 + Int64(i), status: "01",
            statusAt: Int64(i), payloadBytes: UInt64(i) * 4096)
        if i % 3 != 0 {
            item.recall = "13"
            item.documentId = "000.00.01.H27,2026/\(i)"
            item.reference = "\(i)/CT-TU"
            item.businessDocType = i % 4
            item.subject = "Trích yếu \(text)"
        }
        return item
    }

    /// Quotes, backslashes, every control character, slashes, Vietnamese, emoji, U+2028.
    static let hostile = [
        "", "\"", "\\", "\"}],\"ok\":false,\"x\":[{\"", "a/b</script>", "Chỉ thị số 21 — Hòa Bình",
        String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }), "🇻🇳 \u{2028}\u{2029} \u{7f}",
    ]

    @Test func anInboxAnswerDecodesToWhatWasEncoded() throws {
        let items = (0..<200).map { Self.item($0, text: Self.hostile[$0 % Self.hostile.count]) }
        let line = try ControlCodec.encode(ControlResponse.success(.inbox(items)))
        #expect(line.last == 0x0a && !line.dropLast().contains(0x0a))
        let decoded = try ControlCodec.decodeResponse(Array(line.dropLast()))
        #expect(decoded == ControlResponse.success(.inbox(items)))
        // The same text as Foundation's encoder with sorted keys.
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let encoded = try e.encode(ControlResponse.success(.inbox(items)))
        let foundation = try JSONDecoder().decode(ControlResponse.self, from: encoded)
        #expect(foundation == decoded)
        // The list itself, passed through as it is, is a JSON array of those items.
        let raw = try #require(ControlCodec.rawResult(Array(line.dropLast()), key: "inbox"))
        #expect(try JSONDecoder().decode([InboxItem].self, from: Data(raw)) == items)
        #expect(ControlCodec.rawResult(Array(line.dropLast()), key: "queue") == nil)
        let empty = try ControlCodec.encode(ControlResponse.success(.inbox([])))
        #expect(String(decoding: empty, as: UTF8.self) == "{\"ok\":true,\"result\":{\"inbox\":[]}}\n")
    }

    @Test func aRefusalIsNeverTakenForAList() throws {
        let refusal = try ControlCodec.encode(ControlResponse.failure("INBOX-NOT-FOUND", "không có"))
        #expect(ControlCodec.rawResult(Array(refusal.dropLast()), key: "inbox") == nil)
        #expect(ControlCodec.rawResult(Array("{\"ok\":true,\"result\":{\"inbox\":".utf8), key: "inbox") == nil)
    }

    @Test func aSentListAnswerIsWhatJSONEncoderWrites() throws {
        let list = (0..<50).map { i -> TrackSummary in
            var s = TrackSummary(
                id: String(repeating: "cd", count: 32), sentAt: 1_765_000_000_000 + Int64(i), recipients: i,
                arrived: i / 2)
            if i % 2 == 0 {
                s.subject = "Trích yếu \(Self.hostile[i % Self.hostile.count])"
                s.reference = "\(i)/CT-TU"
            }
            return s
        }
        let line = try ControlCodec.encode(ControlResponse.success(.sentList(list)))
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(try ControlCodec.decodeResponse(Array(line.dropLast())) == ControlResponse.success(.sentList(list)))
        // Byte for byte where no string needs an escape Foundation writes differently.
        let plain = list.map { s in
            var s = s
            s.subject = s.subject.map { _ in "Trích yếu" }
            return s
        }
        #expect(
            try ControlCodec.encode(ControlResponse.success(.sentList(plain)))
                == Array(try e.encode(ControlResponse.success(.sentList(plain)))) + [0x0a])
        let raw = try #require(ControlCodec.rawResult(Array(line.dropLast()), key: "sentList"))
        #expect(try JSONDecoder().decode([TrackSummary].self, from: Data(raw)) == list)
    }
}

