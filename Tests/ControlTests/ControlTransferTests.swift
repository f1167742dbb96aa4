import Control
import Testing

/// The bounds on files that travel with a control request, checked before a byte is read.
struct ControlTransferLimitTests {
    func code(_ line: String) -> String? {
        do {
            _ = try ControlCodec.decodeRequestLine(Array(line.utf8))
            return nil
        } catch { return (error as? ControlError)?.code.rawValue }
    }

    @Test func namesCountsAndSizesAreBounded() {
        let ok = #"{"v":2,"request":{"status":{}},"uploads":[{"name":"a.pdf","size":3}],"download":true}"#
        #expect(code(ok) == nil)
        for name in ["../a", "a/b", ".", "..", "", String(repeating: "x", count: 256)] {
            #expect(code(#"{"v":2,"request":{"status":{}},"uploads":[{"name":"\#(name)","size":1}]}"#) == "CONTROL-MALFORMED")
        }
        let huge = #"{"v":2,"request":{"status":{}},"uploads":[{"name":"a","size":9223372036854775807},{"name":"b","size":9223372036854775807}]}"#
        #expect(code(huge) == "CONTROL-TOO-LARGE")
        let many = (0...1000).map { #"{"name":"f\#($0)","size":1}"# }.joined(separator: ",")
        #expect(code(#"{"v":2,"request":{"status":{}},"uploads":[\#(many)]}"#) == "CONTROL-TOO-LARGE")
    }

    @Test func inputsAndOutputsAreReplacedInOrder() throws {
        var r = SendRequest(to: ["x"], urgency: "thuong", expiresInMs: 1, subject: "s", files: ["/a/1.pdf", "/b/2.pdf"])
        r.edxml = "/c/p.edxml"
        let request = ControlRequest.send(r)
        #expect(request.inputPaths == ["/a/1.pdf", "/b/2.pdf", "/c/p.edxml"])
        guard case .send(let mapped) = request.replacingInputs(["upload:0", "upload:1", "upload:2"]) else {
            Issue.record("not a send")
            return
        }
        #expect(mapped.files == ["upload:0", "upload:1"] && mapped.edxml == "upload:2")
        #expect(ControlTransfer.index(of: "upload:2") == 2 && ControlTransfer.index(of: "/upload:2") == nil)
        #expect(ControlRequest.inboxExportEdXML(id: "a", out: "/x/y.edxml").output?.isDirectory == false)
        #expect(ControlRequest.inboxExport(id: "a", out: "/x").replacingOutput("/t") == .inboxExport(id: "a", out: "/t"))
        #expect(ControlRequest.status.output == nil && ControlRequest.status.inputPaths.isEmpty)
    }
}
