import Envelope
import SodiumKit

/// Handshake frames (plaintext, before the session is encrypted). Layout in docs/PROTOCOL.md §4.
public enum HandshakeFrame: UInt8, Sendable {
    case hello = 0x01
    case reply = 0x02
    case auth = 0x03
    case refuse = 0x04
    case stream = 0x05
}

/// A node's signing keys for link authentication: the one in force, and others a peer may still
/// pin for it during a key rotation (the previous key in its grace period; the new key before
/// this node has the topology that carries it). Each side of a handshake names the key it pins
/// for the other (docs/PROTOCOL.md §4), and the other signs with that one when it holds it.
public struct LinkKeys: Sendable {
    public let current: SigningKeyPair
    public let others: [SigningKeyPair]

    public init(_ current: SigningKeyPair, others: [SigningKeyPair] = []) {
        self.current = current
        self.others = others
    }

    /// The pair whose public key is `pinned` (what the peer knows this node by), else the current one.
    public func matching(_ pinned: SigningPublicKey?) -> SigningKeyPair {
        guard let pinned, pinned != current.publicKey else { return current }
        return others.first { $0.publicKey == pinned } ?? current
    }
}

/// What the dialler needs: who it is, whom it means to reach, and the keys it accepts for that peer.
public struct DiallerIdentity: Sendable {
    public let network: String
    public let me: NodeID
    public let keys: LinkKeys
    public let target: NodeID
    /// The keys the target may prove itself with, the one pinned now first (named in HELLO).
    public let targetKeys: [SigningPublicKey]

    public init(network: String, me: NodeID, keys: LinkKeys, target: NodeID, targetKeys: [SigningPublicKey]) {
        self.network = network
        self.me = me
        self.keys = keys
        self.target = target
        self.targetKeys = targetKeys
    }

    public init(network: String, me: NodeID, keys: SigningKeyPair, target: NodeID, targetKey: SigningPublicKey) {
        self.init(network: network, me: me, keys: LinkKeys(keys), target: target, targetKeys: [targetKey])
    }
}

/// What the acceptor needs: who it is, and the keys each neighbour allowed to connect may use.
public struct AcceptorIdentity: Sendable {
    public let network: String
    public let me: NodeID
    public let keys: LinkKeys
    /// The keys `id` may authenticate with, the one pinned now first (named in REPLY); empty if
    /// `id` is not a neighbour of this node.
    public let neighbourKeys: @Sendable (NodeID) -> [SigningPublicKey]
    public let replayGuard: ReplayGuard
    /// Largest accepted difference between the dialler's clock and ours.
    public let maxClockSkew: Int64

    public init(
        network: String, me: NodeID, keys: LinkKeys,
        neighbourKeys: @escaping @Sendable (NodeID) -> [SigningPublicKey],
        replayGuard: ReplayGuard, maxClockSkew: Int64 = 300_000
    ) {
        self.network = network
        self.me = me
        self.keys = keys
        self.neighbourKeys = neighbourKeys
        self.replayGuard = replayGuard
        self.maxClockSkew = maxClockSkew
    }

    public init(
        network: String, me: NodeID, keys: SigningKeyPair,
        neighbourKey: @escaping @Sendable (NodeID) -> SigningPublicKey?,
        replayGuard: ReplayGuard, maxClockSkew: Int64 = 300_000
    ) {
        self.init(
            network: network, me: me, keys: LinkKeys(keys), neighbourKeys: { neighbourKey($0).map { [$0] } ?? [] },
            replayGuard: replayGuard, maxClockSkew: maxClockSkew)
    }
}

/// Remembers the nonces of recent completed handshakes so a replayed HELLO is refused by name.
///
/// Two time buckets of `window` ms each (the current one and the one before), so a nonce is
/// remembered for between one and two windows, and every look-up and insert is O(1) under the
/// lock — not a scan of the table. Only handshakes that completed (the dialler proved its key
/// with AUTH) are recorded: a flood of HELLOs that never authenticate adds nothing. A bucket
/// holds at most `capacity` nonces; a full one is rotated early, which shortens how long older
/// nonces are remembered but bounds memory (a replayed HELLO still cannot complete a session
/// without the dialler's key: the transcript it must sign includes our fresh nonce).
public final class ReplayGuard: Sendable {
    private struct Buckets {
        var index: Int64 = .min
        var current: Set<[UInt8]> = []
        var previous: Set<[UInt8]> = []
    }
    private let buckets = Locked(Buckets())
    public let window: Int64
    public let capacity: Int

    public init(window: Int64 = 600_000, capacity: Int = 100_000) {
        self.window = max(1, window)
        self.capacity = max(1, capacity)
    }

    /// Whether `nonce` was recorded within the last window or two (a replay).
    public func seen(_ nonce: [UInt8], now: Int64) -> Bool {
        buckets.withLock { b in
            rotate(&b, now: now)
            return b.current.contains(nonce) || b.previous.contains(nonce)
        }
    }

    /// Records the nonce of a handshake that completed.
    public func record(_ nonce: [UInt8], now: Int64) {
        buckets.withLock { b in
            rotate(&b, now: now)
            if b.current.count >= capacity {
                b.previous = b.current
                b.current = []
            }
            b.current.insert(nonce)
        }
    }

    /// Nonces held (both buckets), for tests and metrics.
    public var count: Int { buckets.withLock { $0.current.count + $0.previous.count } }

    private func rotate(_ b: inout Buckets, now: Int64) {
        let index = now / window  // a clock that goes backwards stays in the current bucket
        guard index > b.index else { return }
        b.previous = index == b.index &+ 1 ? b.current : []
        b.current = []
        b.index = index
    }
}

/// The session's two encrypted directions, established by the handshake.
public final class SessionCrypto: @unchecked Sendable {
    // @unchecked Sendable: `sealer` is used only by the session's single writer, `opener` only by
    // its single reader; the session code keeps it that way.
    public let peer: NodeID
    public let sealer: FrameSealer
    public let opener: FrameOpener

    init(peer: NodeID, sealer: FrameSealer, opener: FrameOpener) {
        self.peer = peer
        self.sealer = sealer
        self.opener = opener
    }
}

/// Encrypts session messages: one secretstream message per frame.
public final class FrameSealer {
    private let pusher: SecretStreamPusher
    var header: [UInt8] { pusher.header }
    init(key: SecretBytes) throws { pusher = try SecretStreamPusher(key: key) }

    public func seal(_ message: SessionMessage) throws -> [UInt8] {
        let isClose: Bool
        if case .close = message { isClose = true } else { isClose = false }
        return try pusher.push(message.encoded(), isFinal: isClose)
    }
}

/// Decrypts and parses session messages; a frame that fails authentication is fatal.
public final class FrameOpener {
    private let puller: SecretStreamPuller
    init(key: SecretBytes, header: [UInt8]) throws {
        do { puller = try SecretStreamPuller(key: key, header: header) } catch {
            throw WireError(.decryptFailed, "the peer's stream header is invalid")
        }
    }

    public func open(_ frame: [UInt8]) throws -> SessionMessage {
        let plain: [UInt8]
        do { plain = try puller.pull(frame).plaintext } catch {
            throw WireError(.decryptFailed, "a frame failed authentication (altered, replayed or out of order)")
        }
        return try SessionMessage.decode(plain)
    }
}

/// Key schedule and transcript shared by both sides.
enum HandshakeCrypto {
    static let context = Array("LienThong link v1".utf8)

    static func transcript(hello: [UInt8], replyUnsigned: [UInt8]) -> [UInt8] {
        Blake2b.hash(context + [0] + hello + replyUnsigned)
    }

    static func signed(_ role: String, _ transcript: [UInt8]) -> [UInt8] {
        context + Array(" \(role)".utf8) + [0] + transcript
    }

    /// Binds a crypto_kx direction key to the transcript.
    static func bind(_ key: SecretBytes, direction: String, transcript: [UInt8]) -> SecretBytes {
        Blake2b.keyedHash(context + Array(" \(direction)".utf8) + [0] + transcript, key: key)
    }

    static func refuse(_ error: WireError) -> [UInt8] {
        var w = WireWriter()
        w.u8(HandshakeFrame.refuse.rawValue)
        w.shortString(error.code.rawValue)
        w.shortString(error.message)
        return w.bytes
    }

    /// A REFUSE frame from the peer, as an error.
    static func peerRefusal(_ bytes: [UInt8]) -> WireError {
        var r = WireReader(bytes, what: "refusal")
        _ = try? r.u8()
        let code = (try? r.shortString()) ?? "?"
        let text = (try? r.shortString()) ?? ""
        return WireError(.refusedByPeer, "the peer refused the link: [\(code)] \(text)")
    }
}
