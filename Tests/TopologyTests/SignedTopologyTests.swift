import Envelope
import Foundation
import SodiumKit
import Testing
@testable import Topology

/// Signed, versioned topologies: what verifies and every way one is refused.
struct SignedTopologyTests {
    /// The tiny tree with keys for every node (a running network requires them).
    func keyed() throws -> Topology {
        var t = try decode(document(tinyNodes))
        for n in t.nodes {
            t = t.settingKeys(for: n.id, signing: SigningKeyPair().publicKey, encryption: BoxKeyPair().publicKey)
        }
        return t
    }

    @Test func aSignedVersionVerifiesAgainstThePinnedKeyOnly() throws {
        let authority = SigningKeyPair()
        let bytes = try SignedTopology.sign(try keyed().settingVersion(7), authority: authority)
        #expect(SignedTopology.looksSigned(bytes))
        let signed = try SignedTopology.decode(bytes, pinned: authority.publicKey)
        #expect(signed.topology.version == 7 && signed.topology.nodes.count == 6 && signed.bytes == bytes)

        let other = SigningKeyPair()
        #expect(throws: TopologyError.self) { try SignedTopology.decode(bytes, pinned: other.publicKey) }
        do { _ = try SignedTopology.decode(bytes, pinned: other.publicKey) } catch let e as TopologyError {
            #expect(e.code == .wrongAuthority)
        }
        // The wrapper's own authority field is not believed: re-signed by another key and claiming it.
        let forged = try SignedTopology.sign(try keyed().settingVersion(8), authority: other)
        do { _ = try SignedTopology.decode(forged, pinned: authority.publicKey) } catch let e as TopologyError {
            #expect(e.code == .wrongAuthority)
        }
    }

    @Test func alteredUnsignedUnversionedAndMalformedFilesAreRefused() throws {
        let authority = SigningKeyPair()
        let bytes = try SignedTopology.sign(try keyed().settingVersion(2), authority: authority)
        func code(_ b: [UInt8]) -> TopologyError.Code? {
            do {
                _ = try SignedTopology.decode(b, pinned: authority.publicKey)
                return nil
            } catch { return (error as? TopologyError)?.code }
        }
        #expect(code(bytes) == nil)
        // One byte of the inner topology changed under the same signature.
        var object = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: String]
        var inner = Base64.decode(object["topology"]!)!
        inner[inner.count / 2] ^= 0x01
        object["topology"] = Base64.encode(inner)
        #expect(code(Array(try JSONSerialization.data(withJSONObject: object))) == .badSignature)
        // A plain topology file where a signed one is expected.
        #expect(code(try keyed().encoded()) == .unsigned)
        // Signed without a version.
        let unversioned = try SignedTopology.sign(try keyed(), authority: authority)
        #expect(code(unversioned) == .syntax)
        // Unknown wrapper fields, not JSON, too large.
        object = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: String]
        object["extra"] = "x"
        #expect(code(Array(try JSONSerialization.data(withJSONObject: object))) == .syntax)
        #expect(code(Array("not json".utf8)) == .syntax)
        #expect(code([UInt8](repeating: 0x20, count: Topology.maxFileSize * 2 + 1)) == .tooLarge)
        // An invalid tree inside a valid signature is still refused by validation.
        let keyless = try decode(document([node("P", parents: [], level: "province"), node("C", parents: ["P"])]))
        let missingKeys = try SignedTopology.sign(try keyless.settingVersion(3), authority: authority)
        #expect(code(missingKeys) == .missingKeys)
    }

    @Test func theVersionIsWrittenAndReadBackAndBounded() throws {
        let t = try keyed().settingVersion(42)
        #expect(try Topology.decode(try t.encoded()).version == 42)
        #expect(throws: TopologyError.self) { try keyed().settingVersion(0) }
        #expect(throws: TopologyError.self) {
            try decode(document(tinyNodes).replacingOccurrences(of: "\"network\"", with: "\"version\": true, \"network\""))
        }
        #expect(try decode(document(tinyNodes).replacingOccurrences(of: "\"network\"", with: "\"version\": 1, \"network\"")).version == 1)
    }
}
