import Envelope
import Foundation
import SodiumKit
import Testing
@testable import Topology

/// The repository root, found from this file's location (Tests/TopologyTests/TestSupport.swift).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func topologyFile(_ name: String) -> String { repoRoot.appendingPathComponent("Topology/\(name)").path }

func loadHoaBinh() throws -> Topology { try Topology.load(path: topologyFile("hoa-binh.json")) }

func id(_ s: String) -> NodeID { try! NodeID(s) }

/// One node object for inline topologies.
func node(_ id: String, parents: [String], level: String = "commune", name: String? = nil, extra: String = "") -> String {
    let ps = parents.map { "\"\($0)\"" }.joined(separator: ", ")
    return "{\"id\": \"\(id)\", \"name\": \"\(name ?? "Xã \(id)")\", \"level\": \"\(level)\", \"parents\": [\(ps)]\(extra)}"
}

/// A whole topology document around some node objects.
func document(_ nodes: [String], network: String = "test-net") -> String {
    "{\"format\": \"lienthong-topology-v1\", \"network\": \"\(network)\", \"nodes\": [\(nodes.joined(separator: ", "))]}"
}

/// A three-level tree: P (root), D1 and D2, C11, C12 under D1 and C21 under D2.
let tinyNodes = [
    node("P", parents: [], level: "province", name: "Tỉnh"),
    node("D1", parents: ["P"], level: "district", name: "Huyện Một"),
    node("D2", parents: ["P"], level: "district", name: "Huyện Hai"),
    node("C11", parents: ["D1"]),
    node("C12", parents: ["D1"]),
    node("C21", parents: ["D2"]),
]

func decode(_ text: String, requireKeys: Bool = false) throws -> Topology {
    try Topology.decode(Array(text.utf8), requireKeys: requireKeys)
}

/// Runs `body`, expecting a `TopologyError` with `code`; returns it for further checks.
@discardableResult
func expectTopologyError(_ code: TopologyError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws -> Void) -> TopologyError? {
    do {
        try body()
        Issue.record("expected \(code.rawValue), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as TopologyError {
        #expect(e.code == code, "got \(e)", sourceLocation: sourceLocation)
        return e
    } catch {
        Issue.record("expected a TopologyError \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

func freshKeys() -> (SigningPublicKey, BoxPublicKey) {
    (SigningKeyPair().publicKey, BoxKeyPair().publicKey)
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("topology-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
