import Envelope
import Foundation
import SodiumKit
import Testing
import Topology

@testable import Gate

/// The gate during a key rotation (issue 18 point 4): an envelope signed with the origin's
/// previous key is carried during the grace period the topology sets, refused after it, and
/// refused at once when the topology revokes the key (leaves it out).
@Suite struct KeyRotationGateTests {
    let hub = GateTestNet.hub, district = GateTestNet.district

    /// `net`'s topology with the hub's signing key replaced by `new`, the old one kept until `until`.
    func rotated(_ net: GateTestNet, new: SigningPublicKey, until: Int64?) throws -> Topology {
        var nodes = net.topology.nodes
        let i = nodes.firstIndex { $0.id == hub }!
        if let until {
            nodes[i].previousSigningKey = nodes[i].signingKey
            nodes[i].previousKeyUntil = until
        }
        nodes[i].signingKey = new
        return try Topology(network: net.topology.network, nodes: nodes, requireKeys: true)
    }

    @Test func theOldKeyIsCarriedInItsGracePeriodAndRefusedAfterIt() throws {
        let net = try GateTestNet()
        let old = try net.seal(from: hub, to: [GateTestNet.commune], size: 2000)  // signed with the old key
        let now = GateTestNet.now
        let until = now + 60_000
        let topology = try rotated(net, new: SigningKeyPair().publicKey, until: until)
        let gate = CustodyGate(me: district, topology: topology, spool: try net.spool(district))
        try gate.check(old.header, now: now)
        try gate.check(old.header, now: until - 1)
        #expect {
            try gate.check(old.header, now: until + 1)
        } throws: { ($0 as? IngressError)?.reason == .badSignature }
        // Opening it later from a spool is another matter: signed before the grace ended, it still
        // verifies with the keys the topology gives for what was signed then.
        let keys = topology[hub]!.signingKeys(signedAt: old.header.createdAt, checkedAt: nil)
        try old.header.verifySignature(originKeys: keys)
        // Signed after the grace ended with the old key: no.
        #expect(topology[hub]!.signingKeys(signedAt: until, checkedAt: nil).count == 1)
    }

    @Test func aRevokedKeyIsRefusedAtOnceAndTheNewOneAccepted() throws {
        let net = try GateTestNet()
        let old = try net.seal(from: hub, to: [GateTestNet.commune], size: 2000)
        let newKeys = SigningKeyPair()
        let topology = try rotated(net, new: newKeys.publicKey, until: nil)
        let gate = CustodyGate(me: district, topology: topology, spool: try net.spool(district))
        #expect {
            try gate.check(old.header, now: GateTestNet.now)
        } throws: { ($0 as? IngressError)?.reason == .badSignature }
        // The same document signed with the new key passes.
        let now = GateTestNet.now
        let params = SealParameters(
            kind: .document, urgency: .thuong, origin: hub,
            recipients: [
                SealRecipient(id: GateTestNet.commune, encryptionKey: net.boxes[GateTestNet.commune]!.publicKey)
            ],
            createdAt: now, expiresAt: now + 3_600_000)
        let sealed = try EnvelopeSealer.seal(
            params, signer: newKeys, payloadSize: 10, source: MemorySource(Sodium.randomBytes(10)), body: MemorySink())
        try gate.check(sealed.header, now: now)
    }
}
