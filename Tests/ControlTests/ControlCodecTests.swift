import Foundation
import Testing
@testable import Control

@Suite struct ControlCodecTests {
    @Test func everyRequestRoundTrips() throws {
        let requests: [ControlRequest] = [
            .status, .peers,
            .send(SendRequest(to: ["000.01.01.H27"], urgency: "khan", expiresInMs: 60_000, subject: "Chỉ thị", codeNumber: "21", codeNotation: "CT/TU", files: ["/tmp/a.pdf"])),
            .inboxList(limit: 10), .inboxShow(id: "abcd"), .inboxExport(id: "abcd", out: "/tmp/x"),
            .inboxSetStatus(id: "abcd", status: "02", reason: "sai"), .track(id: nil), .track(id: "abcd"),
            .queue(QueueAction(verb: .hold, ids: ["abcd"], all: false, peer: nil, reason: nil, actor: "operator:test")),
        ]
        for r in requests {
            let line = try ControlCodec.encode(r)
            #expect(line.last == 0x0a && !line.dropLast().contains(0x0a))
            #expect(try ControlCodec.decodeRequest(Array(line.dropLast())) == r)
        }
    }

    @Test func responsesRoundTrip() throws {
        let responses: [ControlResponse] = [
            .success(.statusChanged(changed: true)),
            .success(.tracking(TrackReport(id: "ab", recipients: 1, counts: ["01": 1], entries: [.init(recipient: "x", name: "Xã", status: "01", statusName: "01 đã đến", reason: nil, updatedAt: 5)]))),
            .failure("INBOX-NOT-FOUND", "no document"),
        ]
        for r in responses {
            #expect(try ControlCodec.decodeResponse(Array(try ControlCodec.encode(r).dropLast())) == r)
        }
    }

    @Test func badRequestsAreRefusedByName() throws {
        func code(_ bytes: [UInt8]) -> ControlError.Code? {
            do { _ = try ControlCodec.decodeRequest(bytes); return nil } catch { return (error as? ControlError)?.code }
        }
        #expect(code(Array("not json".utf8)) == .malformed)
        #expect(code(Array(#"{"v":1,"request":{"format":{}}}"#.utf8)) == .malformed)
        #expect(code(Array(#"{"v":2,"request":{"status":{}}}"#.utf8)) == .malformed)
        #expect(code([UInt8](repeating: 0x20, count: ControlLimits.maxRequestBytes + 1)) == .tooLarge)
        #expect(code(Array(#"{"v":1,"request":{"status":{}}}"#.utf8)) == nil)
    }

    @Test func theFramerSplitsLinesAndRefusesAnOversizedOneBeforeBufferingIt() throws {
        var f = LineFramer(maxLine: 8)
        #expect(try f.feed(Array("ab\ncd".utf8)) == [Array("ab".utf8)])
        #expect(f.pending == 2)
        #expect(try f.feed(Array("e\n".utf8)) == [Array("cde".utf8)])
        var g = LineFramer(maxLine: 8)
        #expect(throws: ControlError.self) { _ = try g.feed([UInt8](repeating: 0x41, count: 1000)) }
        #expect(g.pending <= 8)
    }

    @Test func theClientSaysWhenNoNodeRuns() throws {
        let client = ControlClient(socketPath: NSTemporaryDirectory() + "no-such-\(UUID().uuidString).sock")
        #expect { _ = try client.call(.status) } throws: { ($0 as? ControlError)?.code == .notRunning }
    }
}
