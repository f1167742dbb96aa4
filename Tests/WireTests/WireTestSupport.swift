import Foundation
import NIOCore
import SodiumKit
import Envelope
@testable import Wire

func node(_ s: String) -> NodeID { try! NodeID(s) }

/// A dialler and an acceptor that are neighbours on network "test-net", with pinned keys.
struct HandshakePair {
    let clientKeys = SigningKeyPair(), serverKeys = SigningKeyPair()
    let client = node("000.01.00.H27"), server = node("000.00.00.H27")
    let guardian = ReplayGuard()
    static let now: Int64 = 1_764_000_000_000

    var dialler: HandshakeDialler {
        HandshakeDialler(identity: DiallerIdentity(network: "test-net", me: client, keys: clientKeys, target: server, targetKey: serverKeys.publicKey))
    }

    func acceptor(network: String = "test-net") -> HandshakeAcceptor {
        let client = self.client, key = clientKeys.publicKey
        return HandshakeAcceptor(identity: AcceptorIdentity(network: network, me: server, keys: serverKeys,
                                                            neighbourKey: { $0 == client ? key : nil }, replayGuard: guardian))
    }

    /// Runs a full handshake in memory; returns every frame exchanged, in wire order, and both sessions.
    func run() throws -> (frames: [[UInt8]], client: SessionCrypto, server: SessionCrypto) {
        var d = dialler, a = acceptor()
        var frames: [[UInt8]] = []
        let hello = d.start(now: Self.now)
        frames.append(hello)
        guard case .send(let reply) = a.receive(hello, now: Self.now) else { throw WireError(.malformed, "no reply") }
        frames += reply
        guard case .send(let auth) = try d.receive(reply[0]) else { throw WireError(.malformed, "no auth") }
        frames += auth
        guard case .established(let serverCrypto, let stream) = a.receive(auth[0], now: Self.now) else { throw WireError(.malformed, "not established") }
        frames += stream
        guard case .established(let clientCrypto) = try d.receive(stream[0]) else { throw WireError(.malformed, "client not established") }
        return (frames, clientCrypto, serverCrypto)
    }
}

/// The bytes one side sends: preamble, then length-prefixed frames.
func wireBytes(_ frames: [[UInt8]]) -> [UInt8] {
    var out = LinkFraming.preamble
    for f in frames {
        let n = UInt32(f.count)
        out += [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + f
    }
    return out
}
