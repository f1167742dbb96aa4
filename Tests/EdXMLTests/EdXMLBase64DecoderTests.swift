import Foundation
import Testing
@testable import EdXML

@Suite struct EdXMLBase64DecoderTests {
    /// Every length, every split point, a tiny buffer (so flushes happen mid-piece): Foundation's bytes.
    @Test func anySplitDecodesToFoundationsBytes() throws {
        for length in 0..<40 {
            let data = Data((0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + length) })
            let text = data.base64EncodedString(options: [.lineLength64Characters]) + " \n"
            for split in 0...text.utf8.count {
                var decoder = EdXMLBase64Decoder(bufferSize: 4)
                var out = Data()
                let bytes = Array(text.utf8)
                try decoder.feed(String(decoding: bytes[..<split], as: UTF8.self)) { out.append(contentsOf: $0) }
                try decoder.feed(String(decoding: bytes[split...], as: UTF8.self)) { out.append(contentsOf: $0) }
                try decoder.finish { out.append(contentsOf: $0) }
                #expect(out == data, "length \(length) split \(split)")
                #expect(decoder.total == UInt64(length))
            }
        }
    }

    @Test func badInputIsRefused() {
        for bad in ["QUJD!", "Q===", "QQ==QQ==", "QUJDRA", "=QUJ", "QQ=A"] {
            var decoder = EdXMLBase64Decoder()
            #expect(throws: EdXMLBase64Error.self, "\(bad)") {
                try decoder.feed(bad) { _ in }
                try decoder.finish { _ in }
            }
        }
    }
}
