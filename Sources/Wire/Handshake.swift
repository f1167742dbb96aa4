import Envelope
import SodiumKit

/// Handshake frames (plaintext, before the session is encrypted). Layout in docs/PROTOCOL.md §4.
public enum HandshakeFrame: UInt8, Sendable {
    case hello = 0x01, reply = 0x02, auth = 0x03, refuse = 0x04, stream = 0x05
}

/// What the dialler needs: who it is, whom it means to reach, and that peer's pinned key.
public struct DiallerIdentity: Sendable {
    public let network: String
    public let me: NodeID
    public let keys: SigningKeyPair
    public let target: NodeID
    public let targetKey: SigningPublicKey

    public init(network: String, me: NodeID, keys: SigningKeyPair, target: NodeID, targetKey: SigningPublicKey) {
        self.network = network
        self.me = me
        self.keys = keys
        self.target = target
        self.targetKey = targetKey
    }
}

/// What the acceptor needs: who it is, and the pinned key of each neighbour allowed to connect.
public struct AcceptorIdentity: Sendable {
    public let network: String
    public let me: NodeID
    public let keys: SigningKeyPair
    /// The pinned signing key of `id` if `id` is a neighbour of this node, else nil.
    public let neighbourKey: @Sendable (NodeID) -> SigningPublicKey?
    public let replayGuard: ReplayGuard
    /// Largest accepted difference between the dialler's clock and ours.
    public let maxClockSkew: Int64

    public init(network: String, me: NodeID, keys: SigningKeyPair, neighbourKey: @escaping @Sendable (NodeID) -> SigningPublicKey?,
                replayGuard: ReplayGuard, maxClockSkew: Int64 = 300_000) {
        self.network = network
        self.me = me
        self.keys = keys
        self.neighbourKey = neighbourKey
        self.replayGuard = replayGuard
        self.maxClockSkew = maxClockSkew
    }
}

/// Remembers recent handshake nonces so a replayed HELLO is refused by name.
public final class ReplayGuard: Sendable {
    private let seen = Locked<[[UInt8]: Int64]>([:])
    public let window: Int64
    public let capacity: Int

    public init(window: Int64 = 600_000, capacity: Int = 100_000) {
        self.window = window
        self.capacity = capacity
    }

    /// Records `nonce` at `now`; false if it was seen within the window (a replay).
    public func admit(_ nonce: [UInt8], now: Int64) -> Bool {
        seen.withLock { map in
            if map.count >= capacity { map = map.filter { $0.value > now - window } }
            if let t = map[nonce], t > now - window { return false }
            map[nonce] = now
            return true
        }
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
