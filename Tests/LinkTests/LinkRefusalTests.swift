import Foundation
import NIOCore
import NIOPosix
import Testing
import SodiumKit
import Envelope
import Spool
import Topology
import Wire
@testable import Link

/// Each refusal of the link protocol, over real TCP on 127.0.0.1: refused, logged with its reason,
/// and nothing else lost (the refused side's queue is intact).
@Suite(.serialized) struct LinkRefusalTests {
    func refusedDial(_ net: LinkTestNet, from: NodeID, keys: SigningKeyPair? = nil, expect code: String) async throws {
        let sessions = SessionLog()
        let (port, listener) = try await net.listen(LinkTestNet.hub, sessions: sessions)
        defer { listener.cancel() }
        let dial = try net.dial(from, to: LinkTestNet.hub, port: port, keys: keys)
        await #expect { _ = try await dial.value } throws: { "\($0)".contains(code) }
        #expect(try await net.waitUntil(timeout: .seconds(5)) { net.logs.contains(code) }, "the acceptor logs \(code)")
    }

    @Test func aNodeThatIsNotANeighbourIsRefused() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        // A commune of another district dials the hub directly.
        try await refusedDial(net, from: node("000.02.01.H27"), expect: "WIRE-NOT-NEIGHBOUR")
    }

    @Test func aNeighboursIDWithTheWrongKeyIsRefused() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        try net.send(from: LinkTestNet.district, to: [LinkTestNet.hub], size: 1000)
        try await refusedDial(net, from: LinkTestNet.district, keys: SigningKeyPair(), expect: "WIRE-BAD-SIGNATURE")
        #expect(try net.spool(LinkTestNet.district).queueEntries().count == 1)  // nothing lost
    }

    @Test func aChildPresentingItselfAsAnotherChildIsRefused() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        // District 2 claims to be district 1, signing with its own key.
        try await refusedDial(net, from: LinkTestNet.district, keys: net.signing[LinkTestNet.otherDistrict], expect: "WIRE-BAD-SIGNATURE")
    }

    @Test func aNodeOfAnotherNetworkIsRefused() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let (port, listener) = try await net.listen(LinkTestNet.hub)
        defer { listener.cancel() }
        var json = String(decoding: try net.topology.encoded(), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"network\": \"\(net.topology.network)\"", with: "\"network\": \"other-province\"")
        let other = try Topology.decode(Array(json.utf8))
        #expect(other.network == "other-province")
        let ctx = try net.context(LinkTestNet.district, topology: other)
        await #expect { _ = try await LinkEndpoints.dial(LinkTestNet.hub, at: try Endpoint(host: "127.0.0.1", port: port), context: ctx, group: net.group) }
            throws: { "\($0)".contains("WIRE-WRONG-NETWORK") }
    }

    @Test func aReplayedHandshakeIsRefused() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let (port, listener) = try await net.listen(LinkTestNet.hub)
        defer { listener.cancel() }
        var dialler = HandshakeDialler(identity: DiallerIdentity(network: net.topology.network, me: LinkTestNet.district, keys: net.signing[LinkTestNet.district]!,
                                                                 target: LinkTestNet.hub, targetKey: net.signing[LinkTestNet.hub]!.publicKey))
        let hello = dialler.start(now: Int64(Date().timeIntervalSince1970 * 1000))
        // A HELLO whose handshake completed (recorded, as an eavesdropper would), sent again.
        let first = try await RawLink.connect(port: port, group: net.group)
        let established = try await first.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            try await outbound.write(ByteBuffer(bytes: hello))
            guard let reply = try await frames.next(), case .send(let auth) = try dialler.receive(Array(buffer: reply)) else {
                return false
            }
            for a in auth { try await outbound.write(ByteBuffer(bytes: a)) }
            guard let stream = try await frames.next() else { return false }
            return stream.readableBytesView.first == HandshakeFrame.stream.rawValue
        }
        #expect(established)
        let second = try await RawLink.exchange(port: port, group: net.group, frames: [hello])
        #expect(second.first?.first == HandshakeFrame.refuse.rawValue)
        #expect(try await net.waitUntil(timeout: .seconds(5)) { net.logs.contains("WIRE-REPLAYED") })
    }

    @Test func aHandshakeThatNeverFinishesIsClosedAtTheDeadline() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        var config = LinkConfiguration()
        config.handshakeTimeout = .milliseconds(300)
        let (port, listener) = try await net.listen(LinkTestNet.hub, configuration: config)
        defer { listener.cancel() }
        let start = ContinuousClock.now
        // Connects, sends the preamble only, then waits (slowloris).
        let got = try await RawLink.exchange(port: port, group: net.group, frames: [], waitForClose: .seconds(10))
        #expect(got.isEmpty)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(try await net.waitUntil(timeout: .seconds(5)) { net.logs.contains("WIRE-TIMEOUT") })
    }

    @Test func hugeDeclaredFrameLengthAndGarbageAreRefused() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let (port, listener) = try await net.listen(LinkTestNet.hub)
        defer { listener.cancel() }
        let huge = try await RawLink.send(port: port, group: net.group, bytes: LinkFraming.preamble + [0xff, 0xff, 0xff, 0xff])
        #expect(huge.isEmpty)  // closed without an answer
        let garbage = try await RawLink.send(port: port, group: net.group, bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(garbage.isEmpty)
        // The listener still serves a real neighbour afterwards.
        try net.send(from: LinkTestNet.district, to: [LinkTestNet.hub], size: 1000)
        let session = try net.dial(LinkTestNet.district, to: LinkTestNet.hub, port: port)
        #expect(try await net.waitUntil { try net.spool(LinkTestNet.hub).inbox().count == 1 })
        session.cancel()
    }

    @Test func offeredEnvelopesThatFailTheGateAreRefusedWithReasons() async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let district = LinkTestNet.district, hub = LinkTestNet.hub, unknown = node("000.02.02.H27")
        // The hub's topology does not know commune 000.02.02.H27 (say, an outdated copy).
        let object = try JSONSerialization.jsonObject(with: Data(try net.topology.encoded())) as! [String: Any]
        var pruned = object
        pruned["nodes"] = (object["nodes"] as! [[String: Any]]).filter { ($0["id"] as? String) != unknown.rawValue }
        let hubTopology = try Topology.decode(Array(try JSONSerialization.data(withJSONObject: pruned)))
        let refused = try net.send(from: district, to: [unknown], size: 2000)
        let good = try net.send(from: district, to: [hub], size: 2000)
        let (port, listener) = try await net.listen(hub, topology: hubTopology)
        let session = try net.dial(district, to: hub, port: port)
        let dspool = try net.spool(district)
        #expect(try await net.waitUntil { try net.spool(hub).inboxEntry(good) != nil })
        // An outdated topology is "not yet", not "never": the entry waits and is retried (a
        // topology update reaches the hub later), it is not quarantined.
        #expect(try await net.waitUntil { try dspool.queueEntries(state: .deferred).map(\.envelopeID) == [refused] })
        let why = try dspool.queueEntries(state: .deferred).first?.lastError ?? ""
        #expect(why.contains("unknownRecipient") && why.contains("temporary"))
        #expect(try dspool.queueEntries(state: .quarantined).isEmpty)
        #expect(net.logs.contains("refused an envelope"))
        #expect(try await net.waitUntil { try dspool.queueEntries(state: .inflight).isEmpty })
        session.cancel()
        listener.cancel()
    }
}

/// A bare TCP client speaking only the framing, for hostile-peer tests.
enum RawLink {
    static func connect(port: Int, group: any EventLoopGroup) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(FrameEncoder())
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    }

    /// Sends `frames` (the preamble goes first), then collects frames until the peer closes or
    /// one frame arrived (unless `waitForClose`).
    static func exchange(port: Int, group: any EventLoopGroup, frames: [[UInt8]], waitForClose: Duration? = nil) async throws -> [[UInt8]] {
        let c = try await connect(port: port, group: group)
        return try await c.executeThenClose { inbound, outbound in
            if frames.isEmpty {
                // Only the preamble: write raw bytes below the encoder.
                try await c.channel.pipeline.context(handlerType: FrameEncoder.self).flatMap { ctx in
                    ctx.writeAndFlush(NIOAny(ByteBuffer(bytes: LinkFraming.preamble)))
                }.get()
            }
            for f in frames { try await outbound.write(ByteBuffer(bytes: f)) }
            var got: [[UInt8]] = []
            for try await frame in inbound {
                got.append(Array(buffer: frame))
                if waitForClose == nil { break }
            }
            return got
        }
    }

    /// Writes raw bytes (no framing) and returns whatever frames come back before the close.
    static func send(port: Int, group: any EventLoopGroup, bytes: [UInt8]) async throws -> [[UInt8]] {
        let c = try await connect(port: port, group: group)
        return try await c.executeThenClose { inbound, _ in
            try await c.channel.pipeline.context(handlerType: FrameEncoder.self).flatMap { ctx in
                ctx.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)))
            }.get()
            var got: [[UInt8]] = []
            do { for try await frame in inbound { got.append(Array(buffer: frame)) } } catch {}
            return got
        }
    }
}
