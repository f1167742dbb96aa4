import Envelope
import Foundation
import SodiumKit
import Testing

@testable import Wire

/// Key rotation on links (issue 18 point 4): each side names the key it pins for the other, and
/// the other signs with that one when it holds it, so a node that rotated still links with a
/// neighbour that has not heard of the change — and not with a key it no longer holds.
@Suite struct HandshakeRotationTests {
    static let now: Int64 = 1_764_000_000_000
    let client = node("000.01.00.H27"), server = node("000.00.00.H27")

    /// One handshake: the dialler holds `clientKeys` and accepts `serverPins` for the server;
    /// the acceptor holds `serverKeys` and accepts `clientPins` for the dialler.
    func handshake(
        clientKeys: LinkKeys, serverPins: [SigningPublicKey], serverKeys: LinkKeys, clientPins: [SigningPublicKey]
    ) throws -> Bool {
        let c = client
        var d = HandshakeDialler(
            identity: DiallerIdentity(
                network: "n", me: client, keys: clientKeys, target: server, targetKeys: serverPins))
        var a = HandshakeAcceptor(
            identity: AcceptorIdentity(
                network: "n", me: server, keys: serverKeys, neighbourKeys: { $0 == c ? clientPins : [] },
                replayGuard: ReplayGuard()))
        guard case .send(let reply) = a.receive(d.start(now: Self.now), now: Self.now) else { return false }
        guard case .send(let auth) = try d.receive(reply[0]) else { return false }
        guard case .established(_, let stream) = a.receive(auth[0], now: Self.now) else { return false }
        guard case .established = try d.receive(stream[0]) else { return false }
        return true
    }

    @Test func aRotatedAcceptorSignsWithTheKeyTheDiallerPins() throws {
        let old = SigningKeyPair(), new = SigningKeyPair(), dialler = SigningKeyPair()
        let rotated = LinkKeys(new, others: [old])  // the server switched; the old key in its grace
        // A dialler that has the new topology, and one that does not yet: both link.
        #expect(
            try handshake(
                clientKeys: LinkKeys(dialler), serverPins: [new.publicKey, old.publicKey], serverKeys: rotated,
                clientPins: [dialler.publicKey]))
        #expect(
            try handshake(
                clientKeys: LinkKeys(dialler), serverPins: [old.publicKey], serverKeys: rotated,
                clientPins: [dialler.publicKey]))
        // Once the server no longer holds the old key (grace over, or revoked), the dialler that
        // still pins it refuses the server, named.
        #expect {
            try handshake(
                clientKeys: LinkKeys(dialler), serverPins: [old.publicKey], serverKeys: LinkKeys(new),
                clientPins: [dialler.publicKey])
        } throws: { ($0 as? WireError)?.code == .badSignature }
    }

    @Test func aRotatingDiallerSignsWithTheKeyTheAcceptorPins() throws {
        let old = SigningKeyPair(), new = SigningKeyPair(), server = SigningKeyPair()
        // The dialler has not had the new topology yet (new key pending); the acceptor has it.
        #expect(
            try handshake(
                clientKeys: LinkKeys(old, others: [new]), serverPins: [server.publicKey],
                serverKeys: LinkKeys(server), clientPins: [new.publicKey, old.publicKey]))
        // The acceptor has revoked the old key and the dialler does not hold the new one: refused.
        #expect(
            try !handshake(
                clientKeys: LinkKeys(old), serverPins: [server.publicKey], serverKeys: LinkKeys(server),
                clientPins: [new.publicKey]))
        // The acceptor accepts the old key in its grace period from a dialler that has only it.
        #expect(
            try handshake(
                clientKeys: LinkKeys(old), serverPins: [server.publicKey], serverKeys: LinkKeys(server),
                clientPins: [new.publicKey, old.publicKey]))
    }

    @Test func theKeyChoiceFallsBackToTheKeyInForce() {
        let a = SigningKeyPair(), b = SigningKeyPair(), stranger = SigningKeyPair()
        let keys = LinkKeys(a, others: [b])
        #expect(keys.matching(b.publicKey).publicKey == b.publicKey)
        #expect(keys.matching(a.publicKey).publicKey == a.publicKey)
        #expect(keys.matching(stranger.publicKey).publicKey == a.publicKey)
        #expect(keys.matching(nil).publicKey == a.publicKey)
    }
}
