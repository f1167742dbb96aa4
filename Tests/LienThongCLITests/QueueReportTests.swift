import Foundation
import Testing
import Envelope
import Spool
import SodiumKit
@testable import LienThongCLI

/// Output snapshots: the exact text and JSON operators and scripts see, for fixed entries and a
/// fixed clock. A change here is a change to a documented interface (docs/OPERATIONS.md).
@Suite struct QueueReportTests {
    static let now: Int64 = 1_764_000_000_000
    static func id(_ byte: UInt8) -> EnvelopeID { try! EnvelopeID(bytes: [UInt8](repeating: byte, count: 32)) }
    static func n(_ s: String) -> NodeID { try! NodeID(s) }

    let entries = [
        QueueEntry(envelopeID: id(0xab), peer: n("000.01.00.H27"), state: .deferred, urgency: .hoaToc, origin: n("000.00.01.H27"),
                   recipients: [n("000.01.01.H27"), n("000.01.02.H27")], bodySize: 4_113, enqueuedAt: now - 192_000, attempts: 2,
                   nextAttemptAt: now + 28_000, lastError: "connection reset", expiresAt: now + 86_400_000),
        QueueEntry(envelopeID: id(0x01), peer: n("000.02.00.H27"), state: .ready, urgency: .thuong, origin: n("000.00.01.H27"),
                   recipients: [n("000.02.01.H27")], bodySize: 20_971_840, enqueuedAt: now - 7_500_000, attempts: 0,
                   nextAttemptAt: now - 7_500_000, lastError: nil, expiresAt: now + 86_400_000),
        QueueEntry(envelopeID: id(0x02), peer: n("000.01.00.H27"), state: .held, urgency: .khan, origin: n("000.00.03.H27"),
                   recipients: [n("000.01.01.H27")], bodySize: 900, enqueuedAt: now - 40_000_000, attempts: 1,
                   nextAttemptAt: now, lastError: nil, expiresAt: now + 1),
    ]

    @Test func listText() {
        #expect(QueueReport.listText(entries, now: Self.now) == """
            ID                PEER           STATE     URGENCY  SIZE      AGE     TRIES  NEXT    LAST ERROR
            abababababababab  000.01.00.H27  deferred  Hỏa tốc  4.0 KiB   3m12s   2      in 28s  connection reset
            0101010101010101  000.02.00.H27  ready     Thường   20.0 MiB  2h05m   0      now
            0202020202020202  000.01.00.H27  held      Khẩn     900 B     11h06m  1      -
            -- 3 entries, 20.0 MiB

            """)
        #expect(QueueReport.listText([], now: Self.now) == "Queue is empty.\n")
    }

    @Test func listJSON() throws {
        let text = try QueueReport.listJSON(Array(entries.prefix(1)), now: Self.now)
        #expect(text == #"{"count":1,"entries":[{"ageSeconds":192,"attempts":2,"enqueuedAt":1763999808000,"#
            + #""expiresAt":1764086400000,"id":"abababababababababababababababababababababababababababababababab","#
            + #""lastError":"connection reset","nextAttemptAt":1764000028000,"origin":"000.00.01.H27","#
            + #""peer":"000.01.00.H27","recipients":["000.01.01.H27","000.01.02.H27"],"size":4113,"#
            + #""state":"deferred","urgency":"hoa-toc"}],"now":1764000000000,"totalBytes":4113}"# + "\n")
        // Written by hand, it is what JSONEncoder writes (sorted keys), for every entry.
        let all = try QueueReport.listJSON(entries, now: Self.now)
        let decoded = try JSONDecoder().decode(QueueReport.ListJSON.self, from: Data(all.utf8))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(all == String(decoding: try encoder.encode(decoded), as: UTF8.self) + "\n")
        #expect(decoded.entries.count == entries.count)
    }

    @Test func shapeTextAndJSON() throws {
        let shape = QueueReport.shape(entries, now: Self.now)
        #expect(QueueReport.shapeText(shape) == """
            PEER           T  0-5m  5-10m  10-20m  20-40m  40-80m  80-160m  160-320m  320-640m  640m+  OLDEST
            TOTAL          3     1      0       0       0       0        1         0         0      1  11h06m
            000.01.00.H27  2     1      0       0       0       0        0         0         0      1  11h06m
            000.02.00.H27  1     0      0       0       0       0        1         0         0      0   2h05m

            """)
        let json = try QueueReport.json(shape)
        let decoded = try JSONDecoder().decode(QueueReport.ShapeJSON.self, from: Data(json.utf8))
        #expect(decoded.total.counts == [1, 0, 0, 0, 0, 1, 0, 0, 1])
        #expect(decoded.buckets.first == "0-5m" && decoded.buckets.last == "640m+")
        #expect(decoded.peers.map(\.oldestAgeSeconds) == [40_000, 7_500])
    }

    /// A stored envelope with absurd times (accepted before the gate checked them, or written by
    /// hand) is printed, not trapped on.
    @Test func extremeTimesArePrinted() throws {
        let entry = QueueEntry(envelopeID: Self.id(9), peer: Self.n("000.01.00.H27"), state: .ready, urgency: .thuong,
                               origin: Self.n("000.00.01.H27"), recipients: [Self.n("000.01.01.H27")], bodySize: 1,
                               enqueuedAt: .min, attempts: 0, nextAttemptAt: .max, lastError: nil, expiresAt: .max)
        #expect(QueueReport.listText([entry], now: Self.now).contains("000.01.00.H27"))
        #expect(try QueueReport.listJSON([entry], now: Self.now).contains("\"ageSeconds\""))
        #expect(QueueReport.shape([entry], now: .min).peers.count == 1)
        #expect(Output.span(.max, .min) == .max && Output.span(.min, .max) == 0 && Output.span(5, 3) == 2)
        let box = BoxKeyPair()
        let params = SealParameters(kind: .document, urgency: .thuong, origin: Self.n("000.00.01.H27"),
                                    recipients: [SealRecipient(id: Self.n("000.01.01.H27"), encryptionKey: box.publicKey)],
                                    createdAt: .min, expiresAt: .max)
        let sealed = try EnvelopeSealer.seal(params, signer: SigningKeyPair(), payloadSize: 10,
                                             source: MemorySource([UInt8](repeating: 1, count: 10)), body: DiscardSink())
        let view = try QueueReport.show(header: sealed.header, chunksStored: 1, complete: true, entries: [entry],
                                        audit: [], now: Self.now)
        #expect(QueueReport.showText(view, now: Self.now, names: { _ in nil }).contains("created"))
    }

    @Test func ages() {
        #expect([0, 59_999, 60_000, 3_599_000, 3_600_000, 86_399_000, 86_400_000, 200_000_000].map(QueueReport.age)
                == ["0s", "59s", "1m00s", "59m59s", "1h00m", "23h59m", "1d00h", "2d07h"])
    }
}

@Suite struct QueueShowReportTests {
    @Test func showTextAndJSON() throws {
        let now = QueueReportTests.now
        let origin = SigningKeyPair(), box = BoxKeyPair()
        let params = SealParameters(kind: .document, urgency: .thuongKhan, origin: QueueReportTests.n("000.00.01.H27"),
                                    recipients: [SealRecipient(id: QueueReportTests.n("000.01.01.H27"), encryptionKey: box.publicKey),
                                                 SealRecipient(id: QueueReportTests.n("000.01.02.H27"), encryptionKey: box.publicKey)],
                                    createdAt: now - 600_000, expiresAt: now + 86_400_000)
        let sealed = try EnvelopeSealer.seal(params, signer: origin, payloadSize: 100_000, source: MemorySource([UInt8](repeating: 1, count: 100_000)), body: DiscardSink())
        let entry = QueueEntry(envelopeID: sealed.id, peer: QueueReportTests.n("000.01.00.H27"), state: .inflight, urgency: .thuongKhan,
                               origin: params.origin, recipients: params.recipients.map(\.id), bodySize: sealed.header.layout.bodySize,
                               enqueuedAt: now - 300_000, attempts: 1, nextAttemptAt: now - 300_000, lastError: nil, expiresAt: params.expiresAt)
        let audit = [AuditRecord(seq: 7, at: now - 300_000, event: .accepted, envelopeID: sealed.id, peer: "000.00.00.H27", actor: "000.00.00.H27",
                                 detail: "kind=document urgency=thuong-khan size=100034 next=000.01.00.H27")]
        let view = try QueueReport.show(header: sealed.header, chunksStored: 2, complete: true, entries: [entry], audit: audit, now: now)
        let text = QueueReport.showText(view, now: now, names: { $0 == "000.00.01.H27" ? "Tỉnh ủy Hòa Bình" : nil })
            .replacingOccurrences(of: sealed.id.hex, with: "<ID>")
        #expect(text == """
            Envelope <ID>
              kind        document
              urgency     Thượng khẩn
              origin      000.00.01.H27 (Tỉnh ủy Hòa Bình)
              created     2025-11-24 15:50:00Z (10m00s ago)
              expires     2025-11-25 16:00:00Z (in 1d00h)
              size        97.7 KiB in 2 chunk(s), 2 stored, complete
              recipients  2: 000.01.01.H27, 000.01.02.H27
            Queue entries (one per next hop):
              → 000.01.00.H27  inflight  tries 1  for 2 recipient(s)
            Audit:
              #7 2025-11-24 15:55:00Z accepted peer=000.00.00.H27 by 000.00.00.H27: kind=document urgency=thuong-khan size=100034 next=000.01.00.H27

            """)
        let json = try QueueReport.json(view).replacingOccurrences(of: sealed.id.hex, with: "<ID>")
        #expect(json.contains("\"chunksStored\" : 2") && json.contains("\"urgency\" : \"thuong-khan\"") && json.contains("\"state\" : \"inflight\""))
        let decoded = try JSONDecoder().decode(QueueReport.ShowJSON.self, from: Data(try QueueReport.json(view).utf8))
        #expect(decoded.recipients == ["000.01.01.H27", "000.01.02.H27"] && decoded.audit == audit && decoded.entries.count == 1)
    }
}
