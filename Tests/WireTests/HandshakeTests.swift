import Foundation
import Testing
import SodiumKit
import Envelope
@testable import Wire

@Suite struct HandshakeTests {
    @Test func bothSidesEstablishMatchingEncryptedDirections() throws {
        let (_, client, server) = try HandshakePair().run()
        #expect(client.peer == node("000.00.00.H27") && server.peer == node("000.01.00.H27"))
        let m = SessionMessage.chunk(try EnvelopeIDFixture.id(1), 3, [1, 2, 3])
        #expect(try server.opener.open(try client.sealer.seal(m)) == m)
        #expect(try client.opener.open(try server.sealer.seal(.ping(9))) == .ping(9))
        // A frame altered in transit, or replayed, fails authentication.
        var bad = try client.sealer.seal(.ping(1))
        bad[bad.count - 1] ^= 1
        #expect { _ = try server.opener.open(bad) } throws: { ($0 as? WireError)?.code == .decryptFailed }
    }

    /// Time buckets: a nonce is remembered one to two windows, the table stays bounded.
    @Test func theReplayGuardRemembersForAWindowOrTwoWithinItsCapacity() {
        let g = ReplayGuard(window: 1000, capacity: 3)
        let n = (0..<6).map { [UInt8](repeating: $0, count: 32) }
        g.record(n[0], now: 10_500)
        #expect(g.seen(n[0], now: 10_999) && g.seen(n[0], now: 11_999))  // this bucket and the next
        #expect(!g.seen(n[0], now: 12_000))  // two windows on: forgotten
        #expect(!g.seen(n[1], now: 12_000))
        for i in 1...5 { g.record(n[i], now: 20_000) }
        #expect(g.count <= 6 && g.seen(n[5], now: 20_000))  // a full bucket rotates early
        #expect(!g.seen(n[0], now: 20_000))
        // A clock that goes backwards stays in the current bucket; extreme clocks do not trap.
        #expect(g.seen(n[5], now: 0))
        g.record(n[0], now: .max)
        #expect(g.seen(n[0], now: .max) && g.seen(n[0], now: .min))
    }

    func refusal(_ output: HandshakeAcceptor.Output) -> WireError.Code? {
        if case .refuse(let e, let frames) = output, frames.first?.first == HandshakeFrame.refuse.rawValue { return e.code }
        return nil
    }

    @Test func acceptorRefusals() throws {
        let pair = HandshakePair()
        // Wrong network.
        var d = pair.dialler
        var a = pair.acceptor(network: "other-province")
        #expect(refusal(a.receive(d.start(now: HandshakePair.now), now: HandshakePair.now)) == .wrongNetwork)
        // Not a neighbour (or not in the topology at all).
        let stranger = HandshakeDialler(identity: DiallerIdentity(network: "test-net", me: node("999.99.99.H27"), keys: SigningKeyPair(),
                                                                  target: pair.server, targetKey: pair.serverKeys.publicKey))
        var s = stranger
        a = pair.acceptor()
        #expect(refusal(a.receive(s.start(now: HandshakePair.now), now: HandshakePair.now)) == .notANeighbour)
        // Clock far off.
        d = pair.dialler
        a = pair.acceptor()
        #expect(refusal(a.receive(d.start(now: HandshakePair.now - 3_600_000), now: HandshakePair.now)) == .clockSkew)
        // A clock at the ends of Int64 is refused, not a trap (found by fuzzing: a HELLO dated
        // Int64.min overflowed the skew computation and crashed the node).
        for extreme in [Int64.min, Int64.min + 1, Int64.max] {
            d = pair.dialler
            a = pair.acceptor()
            #expect(refusal(a.receive(d.start(now: extreme), now: HandshakePair.now)) == .clockSkew)
        }
        // Replayed HELLO: refused once its handshake completed. One whose handshake never
        // authenticated is not remembered (a flood of such HELLOs costs no memory).
        let (frames, _, _) = try pair.run()
        var a2 = pair.acceptor()
        #expect(refusal(a2.receive(frames[0], now: HandshakePair.now + 1000)) == .replayed)
        d = pair.dialler
        let unfinished = d.start(now: HandshakePair.now)
        a = pair.acceptor()
        guard case .send = a.receive(unfinished, now: HandshakePair.now) else { Issue.record("first HELLO refused"); return }
        a2 = pair.acceptor()
        guard case .send = a2.receive(unfinished, now: HandshakePair.now) else { Issue.record("unfinished HELLO recorded"); return }
        // Wrong key: a neighbour's id, signed with another key (an impostor or a child posing as another).
        let impostor = HandshakeDialler(identity: DiallerIdentity(network: "test-net", me: pair.client, keys: SigningKeyPair(),
                                                                  target: pair.server, targetKey: pair.serverKeys.publicKey))
        var i = impostor
        a = pair.acceptor()
        guard case .send(let reply) = a.receive(i.start(now: HandshakePair.now), now: HandshakePair.now),
              case .send(let auth) = try i.receive(reply[0]) else { Issue.record("impostor did not get to AUTH"); return }
        #expect(refusal(a.receive(auth[0], now: HandshakePair.now)) == .badSignature)
    }

    @Test func diallerRefusesAnAcceptorThatIsNotItsParent() throws {
        let pair = HandshakePair()
        // An acceptor at the endpoint holding another key: the signature does not verify.
        let fake = HandshakeAcceptor(identity: AcceptorIdentity(network: "test-net", me: pair.server, keys: SigningKeyPair(),
                                                                neighbourKey: { _ in pair.clientKeys.publicKey }, replayGuard: ReplayGuard()))
        var a = fake
        var d = pair.dialler
        guard case .send(let reply) = a.receive(d.start(now: HandshakePair.now), now: HandshakePair.now) else { Issue.record("no reply"); return }
        #expect { _ = try d.receive(reply[0]) } throws: { ($0 as? WireError)?.code == .badSignature }
        // A responder answering as someone else.
        let other = HandshakeAcceptor(identity: AcceptorIdentity(network: "test-net", me: node("000.02.00.H27"), keys: pair.serverKeys,
                                                                 neighbourKey: { _ in pair.clientKeys.publicKey }, replayGuard: ReplayGuard()))
        var o = other
        var d2 = pair.dialler
        let hello = d2.start(now: HandshakePair.now)
        // Its HELLO targets 000.00.00.H27, so an honest 000.02.00.H27 refuses it…
        #expect(refusal(o.receive(hello, now: HandshakePair.now)) == .wrongPeer)
        // …and a REPLY naming another node is refused by the dialler.
        var w = [HandshakeFrame.reply.rawValue, UInt8(13)] + Array("000.02.00.H27".utf8) + Sodium.randomBytes(64) + [UInt8](repeating: 0, count: 64)
        #expect { _ = try d2.receive(w) } throws: { ($0 as? WireError)?.code == .wrongPeer }
        w = [HandshakeFrame.refuse.rawValue, 3] + Array("abc".utf8) + [0]
        var d3 = pair.dialler
        _ = d3.start(now: HandshakePair.now)
        #expect { _ = try d3.receive(w) } throws: { ($0 as? WireError)?.code == .refusedByPeer }
    }

    /// Every state × every frame kind: out-of-place frames are refused, never crash.
    @Test func diallerStateByFrameTable() throws {
        let pair = HandshakePair()
        let (frames, _, _) = try pair.run()
        let samples: [HandshakeFrame: [UInt8]] = [.hello: frames[0], .reply: frames[1], .auth: frames[2], .stream: frames[3],
                                                  .refuse: [HandshakeFrame.refuse.rawValue, 0, 0]]
        let kinds: [HandshakeFrame] = [.hello, .reply, .auth, .refuse, .stream]
        // idle: nothing is expected.
        for k in kinds {
            var d = pair.dialler
            #expect(throws: WireError.self) { _ = try d.receive(samples[k]!) }
        }
        // sentHello: only REPLY (for this HELLO) or REFUSE are meaningful; REFUSE ends it with the peer's reason.
        for k in kinds where k != .reply {
            var d = pair.dialler
            _ = d.start(now: HandshakePair.now)
            #expect { _ = try d.receive(samples[k]!) } throws: { e in
                let code = (e as? WireError)?.code
                return k == .refuse ? code == .refusedByPeer : code == .unexpectedMessage
            }
        }
        // Unknown frame type.
        var d = pair.dialler
        _ = d.start(now: HandshakePair.now)
        #expect { _ = try d.receive([0x7f]) } throws: { ($0 as? WireError)?.code == .unknownMessage }
    }

    @Test func acceptorStateByFrameTable() throws {
        let pair = HandshakePair()
        let (frames, _, _) = try pair.run()
        let samples: [[UInt8]] = [frames[1], frames[2], frames[3], [HandshakeFrame.refuse.rawValue, 0, 0], [0x7f], []]
        for f in samples {  // awaitingHello: anything but HELLO is refused
            var a = pair.acceptor()
            #expect(refusal(a.receive(f, now: HandshakePair.now)) != nil)
        }
        // sentReply: anything but AUTH is refused.
        for f in [frames[0], frames[1], frames[3], [HandshakeFrame.refuse.rawValue]] {
            var d = pair.dialler
            var a = pair.acceptor()
            _ = a.receive(d.start(now: HandshakePair.now), now: HandshakePair.now)
            #expect(refusal(a.receive(f, now: HandshakePair.now)) != nil)
        }
        // established: any further handshake frame is refused.
        var d = pair.dialler
        var a = pair.acceptor()
        guard case .send(let reply) = a.receive(d.start(now: HandshakePair.now), now: HandshakePair.now),
              case .send(let auth) = try d.receive(reply[0]),
              case .established = a.receive(auth[0], now: HandshakePair.now) else { Issue.record("no session"); return }
        #expect(refusal(a.receive(auth[0], now: HandshakePair.now)) == .unexpectedMessage)
    }
}

@Suite struct SessionMessageTests {
    @Test func everyMessageRoundTrips() throws {
        let id = try EnvelopeIDFixture.id(5)
        let all: [SessionMessage] = [
            .offer(header: [1, 2, 3], table: []), .have(id), .sendFrom(id, 7), .refuse(id, .unknownRecipient, "không có"),
            .chunk(id, 2, [0, 1, 2]), .stored(id, 3), .ack([id, try EnvelopeIDFixture.id(6)]), .ping(.max), .pong(0),
            .close(.idle, "idle"),
        ]
        for m in all {
            #expect(try SessionMessage.decode(m.encoded()) == m)
            let bytes = m.encoded()
            if bytes.count > 1 {
                // Every truncation is refused by name.
                for cut in 1..<bytes.count where !(m.isChunk && cut >= 37) {
                    #expect(throws: WireError.self) { _ = try SessionMessage.decode(Array(bytes.prefix(cut))) }
                }
            }
            if !m.isChunk { #expect(throws: WireError.self) { _ = try SessionMessage.decode(bytes + [0]) } }
        }
        #expect { _ = try SessionMessage.decode([0x99]) } throws: { ($0 as? WireError)?.code == .unknownMessage }
        #expect(throws: WireError.self) { _ = try SessionMessage.decode([]) }
        #expect(RefusalReason.expired.isPermanent && !RefusalReason.diskFull.isPermanent)
    }
}

extension SessionMessage {
    var isChunk: Bool { if case .chunk = self { true } else { false } }
}
