import Envelope
import Foundation
import SodiumKit
import Testing
@testable import Topology

@Suite("Encoding topologies")
struct TopologyEncodingTests {
    @Test("re-encoding hoa-binh.json gives the file's exact bytes")
    func hoaBinhBytes() throws {
        let file = try Data(contentsOf: URL(fileURLWithPath: topologyFile("hoa-binh.json")))
        #expect(try loadHoaBinh().encoded() == Array(file))
        let small = try Data(contentsOf: URL(fileURLWithPath: topologyFile("small.json")))
        #expect(try Topology.load(path: topologyFile("small.json")).encoded() == Array(small))
    }

    @Test("a provisioned topology round-trips: keys, endpoints, failover parents, note")
    func roundTrip() throws {
        var t = try decode(document(tinyNodes + [node("C13", parents: ["D1", "D2"], name: "Xã \\\"Ngoặc\\\" \\\\ Đặc biệt")]))
        for n in t.nodes {
            let (s, b) = freshKeys()
            t = t.settingKeys(for: n.id, signing: s, encryption: b)
        }
        t = t.settingEndpoint(for: id("P"), try Endpoint.parse("[fd00::27]:7100"))
        t = t.settingEndpoint(for: id("D1"), try Endpoint.parse("d1.hoabinh.example:7101"))
        let bytes = try t.encoded()
        let u = try Topology.decode(bytes, requireKeys: true)
        #expect(u.network == t.network && u.note == t.note)
        #expect(u.nodes == t.nodes)
        #expect(try u.encoded() == bytes)
        #expect(u[id("C13")]?.name == "Xã \"Ngoặc\" \\ Đặc biệt")
        // Stable field order, one node per line.
        let text = String(decoding: bytes, as: UTF8.self)
        let line = try #require(text.split(separator: "\n").first { $0.contains("\"id\": \"P\"") })
        let order = ["\"id\"", "\"name\"", "\"level\"", "\"parents\"", "\"endpoint\"", "\"signingKey\"", "\"encryptionKey\""]
        let positions = order.compactMap { line.range(of: $0)?.lowerBound }
        #expect(positions.count == order.count && positions == positions.sorted())
        #expect(text.hasPrefix("{\n  \"format\": \"lienthong-topology-v1\",\n  \"network\": \"test-net\",\n  \"nodes\": [\n"))
    }

    @Test("strings are escaped like Python's json.dumps(ensure_ascii=False)")
    func escaping() {
        #expect(Topology.quoted("Hòa \"Bình\" \\ /") == "\"Hòa \\\"Bình\\\" \\\\ /\"")
        #expect(Topology.quoted("a\nb\t\u{01}\u{1f}") == "\"a\\nb\\t\\u0001\\u001f\"")
    }

    @Test("the encoding is valid JSON that another parser reads back")
    func parsesAsJSON() throws {
        let bytes = try loadHoaBinh().encoded()
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect((obj["nodes"] as? [Any])?.count == 167)
    }
}
