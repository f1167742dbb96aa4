import Envelope
import Foundation
import SodiumKit
import Testing

@testable import Topology

/// The topology's side of a key rotation: a node's previous signing key and the end of its
/// grace period, validated, encoded and read back, and the keys it gives at each moment.
@Suite("Key rotation in the topology")
struct KeyRotationTopologyTests {
    static let old = SigningKeyPair().publicKey, new = SigningKeyPair().publicKey

    func withPrevious(_ fields: String) -> String {
        document([
            node("P", parents: [], level: "province", name: "Tỉnh"),
            node("C", parents: ["P"], extra: ", \"signingKey\": \"\(Base64.encode(Self.new.bytes))\"" + fields),
        ])
    }

    @Test("previousSigningKey and previousKeyUntil are read, encoded and read back")
    func roundTrip() throws {
        let t = try decode(
            withPrevious(
                ", \"previousSigningKey\": \"\(Base64.encode(Self.old.bytes))\", \"previousKeyUntil\": "
                    + "\"2027-01-31T00:00:00Z\""))
        let c = try #require(t[id("C")])
        #expect(c.previousSigningKey == Self.old && c.previousKeyUntil == 1_801_353_600_000)
        let again = try Topology.decode(try t.encoded())
        #expect(again[id("C")] == c)
        let text = String(decoding: try t.encoded(), as: UTF8.self)
        #expect(text.contains("\"previousKeyUntil\": \"2027-01-31T00:00:00Z\""))
    }

    @Test("both or neither, a real date, and never a key in use")
    func refusals() throws {
        let e = expectTopologyError(.syntax) {
            _ = try decode(withPrevious(", \"previousSigningKey\": \"\(Base64.encode(Self.old.bytes))\""))
        }
        #expect(e?.message.contains("go together") == true)
        expectTopologyError(.syntax) {
            _ = try decode(
                withPrevious(
                    ", \"previousSigningKey\": \"\(Base64.encode(Self.old.bytes))\", \"previousKeyUntil\": \"soon\""))
        }
        let same = expectTopologyError(.badKey) {
            _ = try decode(
                withPrevious(
                    ", \"previousSigningKey\": \"\(Base64.encode(Self.new.bytes))\", \"previousKeyUntil\": "
                        + "\"2027-01-31T00:00:00Z\""))
        }
        #expect(same?.message.contains("its own signingKey") == true)
    }

    @Test("the keys a signature verifies with: in the grace period, after it, opened later, revoked")
    func keysByMoment() throws {
        var n = TopologyNode(id: id("C"), name: "Xã C", level: .commune, parents: [id("P")], signingKey: Self.new)
        n.previousSigningKey = Self.old
        n.previousKeyUntil = 1_000
        #expect(n.signingKeys(signedAt: 500, checkedAt: 900) == [Self.new, Self.old])  // in transit, in grace
        #expect(n.signingKeys(signedAt: 500, checkedAt: 1_000) == [Self.new])  // grace over
        #expect(n.signingKeys(signedAt: 500, checkedAt: nil) == [Self.new, Self.old])  // opened from the spool
        #expect(n.signingKeys(signedAt: 1_000, checkedAt: nil) == [Self.new])  // signed after it ended
        n.previousSigningKey = nil
        n.previousKeyUntil = nil
        #expect(n.signingKeys(signedAt: 500, checkedAt: 900) == [Self.new])  // revoked: no grace at all
        // A live topology gives a peer's keys the same way.
        let live = LiveTopology(
            try Topology(
                network: "n",
                nodes: [
                    TopologyNode(id: id("P"), name: "Tỉnh", level: .province, parents: []),
                    {
                        var c = n
                        c.previousSigningKey = Self.old
                        c.previousKeyUntil = 1_000
                        return c
                    }(),
                ]))
        #expect(live.signingKeys(of: id("C"), now: 999) == [Self.new, Self.old])
        #expect(live.signingKeys(of: id("C"), now: 1_000) == [Self.new])
        #expect(live.signingKeys(of: id("ghost"), now: 0).isEmpty)
    }
}
