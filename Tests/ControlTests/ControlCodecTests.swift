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
            .inboxSetStatus(id: "abcd", status: "03", reason: nil), .inboxExportEdXML(id: "abcd", out: "/tmp/a.edxml"),
            .inboxStatusEdXML(id: "abcd", file: "/tmp/s.edxml"), .inboxRecall(id: "abcd", accept: true, reason: nil),
            .inboxRecall(id: "abcd", accept: false, reason: "còn hiệu lực"), .trackEdXMLStatus(id: "abcd", out: "/tmp/s"),
            .recall(id: "abcd", reason: "ban hành nhầm"),
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
        #expect(code(Array(#"{"v":2,"request":{"format":{}}}"#.utf8)) == .malformed)
        #expect(code(Array(#"{"v":2,"request":{"status":{},"peers":{}}}"#.utf8)) == .malformed)
        #expect(code(Array(#"{"v":3,"request":{"status":{}}}"#.utf8)) == .malformed)
        #expect(code([UInt8](repeating: 0x20, count: ControlLimits.maxRequestBytes + 1)) == .tooLarge)
        #expect(code(Array(#"{"v":2,"request":{"status":{}}}"#.utf8)) == nil)
    }

    /// Version 1 wrote Swift's enum encoding (`{"send":{"_0":{…}}}`); an old client is told why.
    @Test func aVersionOneClientIsToldToUpgrade() throws {
        let old = Array(#"{"v":1,"request":{"send":{"_0":{"to":[]}}}}"#.utf8)
        let error = try #require(throws: ControlError.self) { try ControlCodec.decodeRequest(old) }
        #expect(error.code == .malformed && error.message.contains("version 1") && error.message.contains("same release"))
    }

    /// Plain JSON: one key naming the operation, its value the payload or named fields, no `_0`.
    @Test func theJSONIsPlain() throws {
        func json(_ value: some Encodable) throws -> String {
            let e = JSONEncoder()
            e.outputFormatting = .sortedKeys
            return String(decoding: try e.encode(value), as: UTF8.self)
        }
        let send = ControlRequest.send(SendRequest(to: ["a"], urgency: "khan", expiresInMs: 1, subject: "s", files: []))
        #expect(try json(send).hasPrefix(#"{"send":{"#) && !json(send).contains("_0"))
        #expect(try json(ControlRequest.status) == #"{"status":{}}"#)
        #expect(try json(ControlRequest.inboxList(limit: 5)) == #"{"inboxList":{"limit":5}}"#)
        #expect(try json(ControlRequest.track(id: nil)) == #"{"track":{}}"#)
        let tracking = ControlResult.tracking(TrackReport(id: "ab", recipients: 1, counts: [:], entries: []))
        #expect(try json(tracking) == #"{"tracking":{"counts":{},"entries":[],"id":"ab","recipients":1}}"#)
        #expect(try json(ControlResult.queueChanged(count: 2)) == #"{"queueChanged":{"count":2}}"#)
        #expect(try json(ControlResult.peers([])) == #"{"peers":[]}"#)
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
