import Envelope
import Foundation
import SodiumKit
import Testing
@testable import Topology

/// One inline document that must be refused with `code`, naming `names` in the message.
struct BadTopologyCase: Sendable, CustomTestStringConvertible {
    let code: TopologyError.Code
    let label: String
    let json: String
    var names: String? = nil
    var requireKeys = false
    var testDescription: String { "\(code.rawValue): \(label)" }
}

private let keyA = Base64.encode([UInt8](repeating: 1, count: 32))
private let keyB = Base64.encode([UInt8](repeating: 2, count: 32))

let badTopologyCases: [BadTopologyCase] = [
    .init(code: .syntax, label: "not JSON", json: "{\"format\": "),
    .init(code: .syntax, label: "top level is an array", json: "[1, 2]"),
    .init(code: .syntax, label: "missing network",
          json: "{\"format\": \"lienthong-topology-v1\", \"nodes\": []}", names: "network"),
    .init(code: .syntax, label: "missing nodes",
          json: "{\"format\": \"lienthong-topology-v1\", \"network\": \"n\"}", names: "nodes"),
    .init(code: .syntax, label: "network not a string",
          json: "{\"format\": \"lienthong-topology-v1\", \"network\": 5, \"nodes\": []}", names: "network"),
    .init(code: .syntax, label: "unknown top-level field",
          json: "{\"format\": \"lienthong-topology-v1\", \"network\": \"n\", \"nodes\": [], \"extra\": 1}", names: "extra"),
    .init(code: .syntax, label: "node missing name",
          json: document(["{\"id\": \"P\", \"level\": \"province\", \"parents\": []}"]), names: "name"),
    .init(code: .syntax, label: "node missing parents",
          json: document(["{\"id\": \"P\", \"name\": \"Tỉnh\", \"level\": \"province\"}"]), names: "parents"),
    .init(code: .syntax, label: "node without id", json: document(["{\"name\": \"x\"}"]), names: "entry 1"),
    .init(code: .syntax, label: "node is not an object", json: document(["\"P\""]), names: "entry 1"),
    .init(code: .syntax, label: "misspelt field", json: document(tinyNodes + [node("C13", parents: [], extra: ", \"parent\": [\"D1\"]")]),
          names: "C13"),
    .init(code: .syntax, label: "parents not an array", json: document([node("P", parents: [], level: "province"),
          "{\"id\": \"D\", \"name\": \"Huyện\", \"level\": \"district\", \"parents\": \"P\"}"]), names: "D"),
    .init(code: .syntax, label: "gso not digits", json: document([node("P", parents: [], level: "province", extra: ", \"gso\": \"17a\"")]),
          names: "P"),
    .init(code: .badFormat, label: "no format marker", json: "{\"network\": \"n\", \"nodes\": []}", names: "format"),
    .init(code: .badFormat, label: "wrong format marker",
          json: "{\"format\": \"lienthong-topology-v0\", \"network\": \"n\", \"nodes\": []}", names: "lienthong-topology-v0"),
    .init(code: .badNetwork, label: "space in network", json: document(tinyNodes, network: "hoa binh")),
    .init(code: .invalidID, label: "space in id", json: document([node("bad id", parents: [], level: "province")]), names: "bad id"),
    .init(code: .invalidID, label: "bad parent id", json: document([node("P", parents: [], level: "province"),
          node("C", parents: ["P/1"])]), names: "C"),
    .init(code: .duplicateID, label: "same id twice", json: document(tinyNodes + [node("C11", parents: ["D2"])]), names: "C11"),
    .init(code: .badName, label: "empty name", json: document(tinyNodes + [node("C13", parents: ["D1"], name: " ")]), names: "C13"),
    .init(code: .badName, label: "escape sequence in name",
          json: document(tinyNodes + [node("C13", parents: ["D1"], name: "Xã \\u001b[31mĐỏ")]), names: "C13"),
    .init(code: .badName, label: "bidi override in name",
          json: document(tinyNodes + [node("C13", parents: ["D1"], name: "Xã \\u202eA")]), names: "C13"),
    .init(code: .badLevel, label: "unknown level", json: document(tinyNodes + [node("C13", parents: ["D1"], level: "city")]),
          names: "C13"),
    .init(code: .badLevel, label: "district under a commune",
          json: document(tinyNodes + [node("D3", parents: ["C11"], level: "district")]), names: "D3"),
    .init(code: .badParents, label: "same parent twice", json: document(tinyNodes + [node("C13", parents: ["D1", "D1"])]),
          names: "C13"),
    .init(code: .unknownParent, label: "parent not in file", json: document(tinyNodes + [node("C31", parents: ["D3"])]),
          names: "C31"),
    .init(code: .cycle, label: "own parent", json: document(tinyNodes + [node("C13", parents: ["C13"])]), names: "C13"),
    .init(code: .cycle, label: "loop through a failover parent",
          json: document(tinyNodes + [node("A", parents: ["B"]), node("B", parents: ["A", "D1"])]), names: "A → B → A"),
    .init(code: .cycle, label: "failover parent is a descendant",
          json: document(tinyNodes + [node("C13", parents: ["D1", "V"], level: "village"),
                                      node("V", parents: ["C13"], level: "village")]), names: "C13 → V → C13"),
    .init(code: .noRoot, label: "no nodes", json: document([])),
    .init(code: .noRoot, label: "everyone has a parent",
          json: document([node("A", parents: ["B"], level: "province"), node("B", parents: ["A"], level: "province")])),
    .init(code: .multipleRoots, label: "two roots",
          json: document(tinyNodes + [node("Q", parents: [], level: "province")]), names: "Q"),
    .init(code: .unreachable, label: "loop cut off from the root",
          json: document(tinyNodes + [node("A", parents: ["B"]), node("B", parents: ["A"])]), names: "A"),
    .init(code: .missingKeys, label: "keyless tree with requireKeys", json: document(tinyNodes), names: "P", requireKeys: true),
    .init(code: .missingKeys, label: "only the encryption key missing",
          json: document([node("P", parents: [], level: "province",
                               extra: ", \"signingKey\": \"\(keyA)\", \"encryptionKey\": \"\(keyA)\""),
                          node("C", parents: ["P"], extra: ", \"signingKey\": \"\(keyB)\"")]),
          names: "node C (Xã C) has no encryptionKey", requireKeys: true),
    .init(code: .badKey, label: "key not base64",
          json: document(tinyNodes + [node("C13", parents: ["D1"], extra: ", \"signingKey\": \"not base64!\"")]), names: "C13"),
    .init(code: .badKey, label: "key of the wrong length",
          json: document(tinyNodes + [node("C13", parents: ["D1"],
                                           extra: ", \"encryptionKey\": \"\(Base64.encode([UInt8](repeating: 7, count: 16)))\"")]),
          names: "16 bytes"),
    .init(code: .badKey, label: "two nodes share a key",
          json: document(tinyNodes + [node("C13", parents: ["D1"], extra: ", \"signingKey\": \"\(keyA)\""),
                                      node("C14", parents: ["D1"], extra: ", \"signingKey\": \"\(keyA)\"")]), names: "C14"),
    .init(code: .badEndpoint, label: "no port",
          json: document(tinyNodes + [node("C13", parents: ["D1"], extra: ", \"endpoint\": \"localhost\"")]), names: "C13"),
    .init(code: .badEndpoint, label: "port out of range",
          json: document(tinyNodes + [node("C13", parents: ["D1"], extra: ", \"endpoint\": \"10.0.0.1:70000\"")]), names: "C13"),
    .init(code: .badEndpoint, label: "two nodes on one endpoint",
          json: document(tinyNodes + [node("C13", parents: ["D1"], extra: ", \"endpoint\": \"10.0.0.1:7101\""),
                                      node("C14", parents: ["D1"], extra: ", \"endpoint\": \"10.0.0.1:7101\"")]), names: "C14"),
    .init(code: .badMerge, label: "merged into a node not in the file",
          json: document(tinyNodes + [node("C13", parents: ["D1"], extra: ", \"mergedInto\": \"C99\"")]), names: "C99"),
]

@Suite("Loading and validating topology files")
struct TopologyLoadingTests {
    @Test("each malformed topology is refused with its code", arguments: badTopologyCases)
    func refused(_ c: BadTopologyCase) throws {
        let e = expectTopologyError(c.code) { _ = try decode(c.json, requireKeys: c.requireKeys) }
        if let names = c.names, let e {
            #expect(e.message.contains(names), "message should name \(names): \(e)")
        }
        #expect(e?.description.hasPrefix("[\(c.code.rawValue)] ") == true)
    }

    @Test("every validation code has a case")
    func everyCodeCovered() {
        let covered = Set(badTopologyCases.map(\.code))
        // io and tooLarge need files, unknownNode a routing query: tested below and in routing tests;
        // the signed-topology codes in SignedTopologyTests (unsigned, badSignature, wrongAuthority)
        // and TopologyUpdateTests on real daemons (staleVersion, and nodeMissing by the same path).
        let elsewhere: Set<TopologyError.Code> = [
            .io, .tooLarge, .unknownNode, .unsigned, .badSignature, .wrongAuthority, .staleVersion, .nodeMissing,
        ]
        #expect(Set(TopologyError.Code.allCases).subtracting(covered).subtracting(elsewhere).isEmpty)
    }

    @Test("node-level errors carry the node id")
    func errorNamesNode() throws {
        let e = expectTopologyError(.unknownParent) { _ = try decode(document(tinyNodes + [node("C31", parents: ["D3"])])) }
        #expect(e?.node == id("C31"))
        #expect(e?.message.contains("D3") == true)
    }

    @Test("description has code, message and cause")
    func errorDescription() {
        let e = TopologyError(.io, "cannot read x", cause: "No such file")
        #expect(e.description == "[TOPO-IO] cannot read x (cause: No such file)")
        #expect(TopologyError(.cycle, "loop").description == "[TOPO-CYCLE] loop")
    }

    @Test("a JSON syntax error carries the parser's detail as cause")
    func syntaxCause() {
        let e = expectTopologyError(.syntax) { _ = try decode("{\"format\": \"lienthong-topology-v1\",,}") }
        #expect(e?.cause != nil)
    }

    @Test("a missing file is TOPO-IO naming the path")
    func missingFile() {
        let e = expectTopologyError(.io) { _ = try Topology.load(path: "/nonexistent/topology.json") }
        #expect(e?.message.contains("/nonexistent/topology.json") == true)
    }

    @Test("a directory is TOPO-IO")
    func directory() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        expectTopologyError(.io) { _ = try Topology.load(path: dir.path) }
    }

    @Test("a file over 16 MiB is refused before it is read")
    func tooLarge() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge.json").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        // Sparse: no 16 MiB is written or read.
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.truncate(atOffset: UInt64(Topology.maxFileSize + 1))
        try h.close()
        let e = expectTopologyError(.tooLarge) { _ = try Topology.load(path: path) }
        #expect(e?.message.contains("16777217") == true)
    }

    @Test("load prefixes errors with the file path")
    func loadNamesFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.json").path
        try Data(document(tinyNodes + [node("C31", parents: ["D3"])]).utf8).write(to: URL(fileURLWithPath: path))
        let e = expectTopologyError(.unknownParent) { _ = try Topology.load(path: path) }
        #expect(e?.message.hasPrefix(path + ": node C31") == true)
    }

    @Test("a valid inline tree loads with its fields")
    func validInline() throws {
        let (s, b) = freshKeys()
        let t = try decode(document([
            node("P", parents: [], level: "province", name: "Tỉnh Hòa Bình",
                 extra: ", \"gso\": \"17\", \"endpoint\": \"10.27.0.1:7101\", \"signingKey\": \"\(Base64.encode(s.bytes))\", \"encryptionKey\": \"\(Base64.encode(b.bytes))\""),
            node("C", parents: ["P"]),
        ]))
        #expect(t.network == "test-net")
        #expect(t.nodes.map(\.id) == [id("P"), id("C")])
        let p = try #require(t[id("P")])
        #expect(p.name == "Tỉnh Hòa Bình")
        #expect(p.gso == "17")
        let expected = try Endpoint.parse("10.27.0.1:7101")
        #expect(p.endpoint == expected)
        #expect(p.signingKey == s)
        #expect(p.encryptionKey == b)
        #expect(p.hasKeys)
        #expect(t[id("C")]?.hasKeys == false)
        #expect(t[id("nope")] == nil)
    }

    @Test("requireKeys accepts a tree where every node has both keys")
    func requireKeysAccepts() throws {
        var t = try decode(document(tinyNodes))
        for n in t.nodes {
            let (s, b) = freshKeys()
            t = t.settingKeys(for: n.id, signing: s, encryption: b)
        }
        let again = try Topology.decode(try t.encoded(), requireKeys: true)
        #expect(again.nodes.allSatisfy { $0.hasKeys })
    }

    @Test("the small demo tree loads")
    func smallTree() throws {
        let t = try Topology.load(path: topologyFile("small.json"))
        #expect(t.nodes.count == 7)
        #expect(t.countByLevel == [.province: 1, .district: 2, .commune: 4])
        #expect(t.maxDepth == 2)
        for d in t.children(of: t.root.id) { #expect(t.children(of: d).count == 2) }
    }
}

/// The network's maximum envelope lifetime, an optional top-level setting.
@Suite struct TopologyLifetimeTests {
    func withLifetime(_ value: String) -> String {
        document(tinyNodes).replacingOccurrences(of: "\"nodes\":", with: "\"maxLifetimeDays\": \(value), \"nodes\":")
    }

    @Test func itIsReadWrittenAndOptional() throws {
        #expect(try decode(document(tinyNodes)).maxLifetimeDays == nil)
        let topology = try decode(withLifetime("30"))
        #expect(topology.maxLifetimeDays == 30)
        let again = try Topology.decode(try topology.encoded())
        #expect(again.maxLifetimeDays == 30)
    }

    @Test(arguments: ["0", "3651", "\"30\"", "30.5", "true", "-1"])
    func outOfRangeIsRefused(_ value: String) throws {
        let error = #expect(throws: TopologyError.self) { try decode(withLifetime(value)) }
        #expect(error?.code == .syntax && error?.message.contains("maxLifetimeDays") == true)
    }
}
