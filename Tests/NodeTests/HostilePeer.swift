import Foundation
import NIOCore
import NIOPosix
import Node
import SodiumKit
import Topology
import Wire
@testable import Envelope

/// A compromised commune office (docs/SECURITY.md's threat model), written for the adversarial
/// tests: it completes the real handshake with a provisioned node's own keys, then sends
/// whatever session messages the test likes, and reads only when the test asks it to.
final class HostilePeer {
    let identity: NodeIdentity
    let target: NodeID
    let channel: any Channel
    private var frames: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let crypto: SessionCrypto

    private init(identity: NodeIdentity, target: NodeID, channel: any Channel,
                 frames: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                 outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, crypto: SessionCrypto) {
        self.identity = identity
        self.target = target
        self.channel = channel
        self.frames = frames
        self.outbound = outbound
        self.crypto = crypto
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A raw framed connection to `target`'s endpoint, as the node at `home` sees it.
    static func connect(home: String, to target: String) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let identity = try NodeIdentity(home: home)
        guard let endpoint = identity.topology[try NodeID(target)]?.endpoint else {
            throw TestFailure("\(target) has no endpoint in \(home)'s topology")
        }
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FrameEncoder())
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Connects as the node at `home` to its neighbour `target`, completes the handshake with
    /// that node's keys, and runs `body` with the session; the connection closes after it.
    static func session<T>(home: String, target: String, _ body: (HostilePeer) async throws -> T) async throws -> T {
        let identity = try NodeIdentity(home: home)
        let targetID = try NodeID(target)
        guard let key = identity.topology[targetID]?.signingKey else { throw TestFailure("\(target) has no key") }
        let connection = try await connect(home: home, to: target)
        return try await connection.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            var dialler = HandshakeDialler(identity: DiallerIdentity(
                network: identity.topology.network, me: identity.id, keys: identity.signingKeys, target: targetID,
                targetKey: key))
            try await outbound.write(ByteBuffer(bytes: dialler.start(now: now())))
            while true {
                guard let frame = try await frames.next() else { throw TestFailure("\(target) closed the handshake") }
                switch try dialler.receive(Array(buffer: frame)) {
                case .send(let replies):
                    for r in replies { try await outbound.write(ByteBuffer(bytes: r)) }
                case .established(let crypto):
                    let peer = HostilePeer(identity: identity, target: targetID, channel: connection.channel,
                                           frames: frames, outbound: outbound, crypto: crypto)
                    return try await body(peer)
                }
            }
        }
    }

    func send(_ message: SessionMessage) async throws {
        try await outbound.write(ByteBuffer(bytes: try crypto.sealer.seal(message)))
    }

    /// Seals `message`, then damages the last byte (the authentication tag): the node cannot open it.
    func sendDamaged(_ message: SessionMessage) async throws {
        var frame = try crypto.sealer.seal(message)
        frame[frame.count - 1] ^= 0xff
        try await outbound.write(ByteBuffer(bytes: frame))
    }

    /// Seals `messages` and writes them in one go (a flood is faster written in batches).
    func send(_ messages: [SessionMessage]) async throws {
        try await outbound.write(contentsOf: try messages.map { ByteBuffer(bytes: try crypto.sealer.seal($0)) })
    }

    /// The next message from the node, or nil when it closed the connection.
    func next() async throws -> SessionMessage? {
        guard let frame = try await frames.next() else { return nil }
        return try crypto.opener.open(Array(buffer: frame))
    }

    /// The next message that is not a PING, or nil when the node closed the connection.
    func nextAnswer() async throws -> SessionMessage? {
        while let m = try await next() {
            if case .ping = m { continue }
            return m
        }
        return nil
    }

    /// A real document envelope from this node to `to` (offer and chunks), sealed with its key.
    func document(to: String, size: Int, createdAt: Int64 = HostilePeer.now(), lifetime: Int64 = 86_400_000,
                  expiresAt: Int64? = nil, chunkSize: Int = 65_536)
        throws -> (offer: SessionMessage, chunks: [SessionMessage], id: EnvelopeID) {
        let recipient = try NodeID(to)
        guard let key = identity.topology[recipient]?.encryptionKey else { throw TestFailure("\(to) has no key") }
        let params = SealParameters(kind: .document, urgency: .thuong, origin: identity.id,
                                    recipients: [SealRecipient(id: recipient, encryptionKey: key)],
                                    createdAt: createdAt, expiresAt: expiresAt ?? createdAt &+ lifetime,
                                    chunkSize: chunkSize)
        let body = MemorySink()
        let sealed = try EnvelopeSealer.seal(params, signer: identity.signingKeys, payloadSize: UInt64(size),
                                             source: MemorySource(Sodium.randomBytes(size)), body: body)
        let chunks = sealed.header.layout.split(body: body.bytes).enumerated().map {
            SessionMessage.chunk(sealed.id, $0.offset, $0.element)
        }
        return (.offer(header: sealed.header.encoded, table: sealed.table.bytes), chunks, sealed.id)
    }

    /// An offer that declares `declared` bytes in `chunkSize` chunks with a made-up chunk table,
    /// validly signed by this node: what costs the attacker nothing and the receiver a table and
    /// a partial envelope, since no chunk will ever follow.
    func hugeOffer(to: String, declared: UInt64, chunkSize: Int, createdAt: Int64 = HostilePeer.now(),
                   expiresAt: Int64? = nil) throws -> (offer: SessionMessage, id: EnvelopeID) {
        let recipient = try NodeID(to)
        guard let key = identity.topology[recipient]?.encryptionKey else { throw TestFailure("\(to) has no key") }
        let layout = ChunkLayout(payloadSize: declared, chunkSize: chunkSize)
        let table = Sodium.randomBytes(layout.chunkCount * ChunkTable.entryByteCount)
        let sealedKey = Sodium.randomBytes(32).withUnsafeBytes { key.seal($0) }
        let header = EnvelopeHeader.sign(kind: .document, urgency: .thuong, origin: identity.id, createdAt: createdAt,
                                         expiresAt: expiresAt ?? createdAt + 30 * 86_400_000, layout: layout,
                                         chunkTableDigest: Blake2b.hash(table), streamHeader: Sodium.randomBytes(24),
                                         recipients: [.init(id: recipient, sealedKey: sealedKey)],
                                         signer: identity.signingKeys)
        return (.offer(header: header.encoded, table: table), header.id)
    }
}

/// Resident memory of a process, from /proc: now (`VmRSS`) and its peak (`VmHWM`), in bytes.
func memory(of pid: Int32) -> (rss: Int, peak: Int) {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Int {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
    return (field("VmRSS"), field("VmHWM"))
}
