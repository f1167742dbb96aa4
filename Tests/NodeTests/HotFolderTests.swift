import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The hot folder on real daemons: packages dropped in `outgoing/` are sent once, whatever
/// happens to the daemon; received documents and statuses are written out; status packages
/// dropped by the e-office software are applied.
@Suite(.serialized) struct HotFolderTests {
    let province = "000.00.00.H27"
    let district = "000.01.00.H27"
    let commune = "000.01.01.H27"

    func network() throws -> TestNetwork {
        let net = try TestNetwork(settings: ["hotFolder": "exchange", "hotFolderScanMs": 100])
        try net.start([province, district, commune])
        return net
    }

    func folder(_ net: TestNetwork, _ node: String) -> String { net.home(node) + "/exchange" }

    /// The shared sample as the commune would send it to the province.
    /// A different số (CodeNumber) makes a different document for the recipient's duplicate check too.
    func package(_ net: TestNetwork, documentId: String = "1.2.3.4", number: Int = 21) throws -> Data {
        let text = try String(contentsOf: NodeEdXMLTests.sample, encoding: .utf8)
            .replacingOccurrences(of: "000.00.01.H27,2016/08/15,21/CT-TU", with: documentId)
            .replacingOccurrences(of: "<edXML:CodeNumber>21<", with: "<edXML:CodeNumber>\(number)<")
            .replacingOccurrences(of: "000.01.01.H27", with: province)
            .replacingOccurrences(of: "000.00.01.H27", with: commune)
        return Data(text.utf8)
    }

    /// Drops a file the way an e-office system should: written elsewhere, then renamed in.
    func drop(_ data: Data, as name: String, into dir: String) throws {
        let temporary = dir + "/.\(name).part"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, dir + "/" + name) == 0 else { throw TestFailure("rename failed") }
    }

    func files(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func aDroppedPackageIsDeliveredAndItsStatusComesBack() throws {
        let net = try network()
        defer { net.stopAll() }
        let out = folder(net, commune)
        let data = try package(net)
        try drop(data, as: "cong-van.edxml", into: out + "/outgoing")
        try waitUntil("the package is moved to sent/") { files(out + "/sent") == ["cong-van.edxml", "cong-van.edxml.json"] }
        #expect(files(out + "/outgoing").isEmpty)
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/sent/cong-van.edxml.json"))) as? [String: Any]
        let id = try #require(result?["id"] as? String)

        // The province's e-office system finds it in incoming/, byte for byte.
        let inbound = folder(net, province)
        try waitUntil("the document is written to the province's incoming/") { files(inbound + "/incoming") == ["\(id).edxml"] }
        #expect(try Data(contentsOf: URL(fileURLWithPath: inbound + "/incoming/\(id).edxml")) == data)

        // The province's e-office system drops a status package (03); the commune's folder gets it back.
        let status = try EdXMLStatusPackage.make(from: province, answering: commune, documentId: "1.2.3.4", code: "03")
        try drop(Data(status.utf8), as: "trang-thai-03.edxml", into: inbound + "/status")
        try waitUntil("the status package is applied") { files(inbound + "/status/applied") == ["trang-thai-03.edxml"] }
        #expect(try net.inbox(province).first?.status == "03")
        try waitUntil("the commune's status/ has the province's 03") {
            files(out + "/status").contains { $0.hasPrefix("received-") && $0.hasSuffix("\(province)-03.edxml") }
        }
        // Written once each, even though the folder is looked at every 100 ms.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(files(inbound + "/incoming").count == 1)
        #expect(files(out + "/status").filter { $0.hasSuffix("-03.edxml") }.count == 1)
    }

    @Test func aBrokenPackageGoesToFailedWithTheReason() throws {
        let net = try network()
        defer { net.stopAll() }
        let out = folder(net, commune)
        try drop(Data("<edXML:Envelope>không phải gói".utf8), as: "hong.edxml", into: out + "/outgoing")
        try waitUntil("the broken package is moved to failed/") { files(out + "/failed") == ["hong.edxml", "hong.edxml.error.txt"] }
        let reason = try String(contentsOfFile: out + "/failed/hong.edxml.error.txt", encoding: .utf8)
        #expect(reason.hasPrefix("[EDXML-"))
        // A status package nobody sent a document for is refused the same way.
        let stray = try EdXMLStatusPackage.make(from: commune, answering: province, documentId: "9.9.9", code: "03")
        try drop(Data(stray.utf8), as: "la.edxml", into: out + "/status")
        try waitUntil("the stray status goes to status/failed") { files(out + "/status/failed").count == 2 }
        #expect(try net.json([SentSummary].self, commune, "track").isEmpty)
    }

    @Test func aDaemonKilledAfterPickUpSendsTheFileOnceAfterRestart() throws {
        let net = try network()
        defer { net.stopAll() }
        let out = folder(net, commune)
        // A crash after the send committed, before the file moved: package and marker are both there.
        let first = try package(net, documentId: "7.7.7.1", number: 31)
        try drop(first, as: "a.edxml", into: out + "/outgoing")
        try waitUntil("a.edxml is sent") { files(out + "/sent").contains("a.edxml") }
        _ = net.stop(commune)
        try FileManager.default.moveItem(atPath: out + "/sent/a.edxml", toPath: out + "/outgoing/a.edxml")
        try Data().write(to: URL(fileURLWithPath: out + "/outgoing/.a.edxml.sending"))
        // A crash before the commit: the marker only.
        try drop(try package(net, documentId: "7.7.7.2", number: 32), as: "b.edxml", into: out + "/outgoing")
        try Data().write(to: URL(fileURLWithPath: out + "/outgoing/.b.edxml.sending"))
        try net.start([commune])
        try waitUntil("both are in sent/") { files(out + "/outgoing").isEmpty && files(out + "/sent").contains("b.edxml") }
        let note = try String(contentsOfFile: out + "/sent/a.edxml.json", encoding: .utf8)
        #expect(note.contains("sentBeforeRestart"))

        // A real SIGKILL as soon as the daemon picks a file up, wherever in the send it lands.
        let third = try package(net, documentId: "7.7.7.3", number: 33)
        try drop(third, as: "c.edxml", into: out + "/outgoing")
        try waitUntil("c.edxml is picked up", timeout: 30) {
            FileManager.default.fileExists(atPath: out + "/outgoing/.c.edxml.sending") || files(out + "/sent").contains("c.edxml")
        }
        _ = net.stop(commune, signal: SIGKILL)
        try net.start([commune])
        try waitUntil("c.edxml is in sent/") { files(out + "/sent").contains("c.edxml") && files(out + "/outgoing").isEmpty }

        // The province has each document exactly once.
        try waitUntil("three documents at the province") { try net.inbox(province).count == 3 }
        Thread.sleep(forTimeInterval: 1)
        let ids = try net.inbox(province).compactMap(\.documentId).sorted()
        #expect(ids == ["7.7.7.1", "7.7.7.2", "7.7.7.3"])
        #expect(try net.json([SentSummary].self, commune, "track").count == 3)
    }
}

private struct SentSummary: Decodable { let id: String }

/// A status package as an e-office system writes it: the shared sample with its parties and DocumentId replaced.
enum EdXMLStatusPackage {
    static func make(from: String, answering organ: String, documentId: String, code: String) throws -> String {
        let url = URL(fileURLWithPath: TestNetwork.repositoryRoot + "/Tests/Fixtures/edxml/sample-status-03.edxml")
        return try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: "000.00.01.H27,2016/08/15,21/CT-TU", with: "@DOC@")
            .replacingOccurrences(of: "000.01.01.H27", with: "@FROM@")
            .replacingOccurrences(of: "000.00.01.H27", with: "@ORGAN@")
            .replacingOccurrences(of: "<edXML:StatusCode>03", with: "<edXML:StatusCode>\(code)")
            .replacingOccurrences(of: "@DOC@", with: documentId)
            .replacingOccurrences(of: "@FROM@", with: from)
            .replacingOccurrences(of: "@ORGAN@", with: organ)
    }
}
