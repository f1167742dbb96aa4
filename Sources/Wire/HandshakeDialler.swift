import Envelope
import SodiumKit

/// The dialling side of the handshake, as a plain state machine (no channel).
///
/// idle → `start` sends HELLO → sentHello → REPLY (server id and signature checked against the
/// parent it meant to reach) sends AUTH with its stream header → sentAuth → STREAM → established.
public struct HandshakeDialler {
    enum State {
        case idle
        case sentHello(hello: [UInt8], ephemeral: KXKeyPair)
        case sentAuth(sealer: FrameSealer, receiveKey: SecretBytes)
        case established
        case failed
    }

    public enum Output {
        /// Send these frames and keep going.
        case send([[UInt8]])
        /// The session is up: encrypt everything from now on.
        case established(SessionCrypto)
    }

    let identity: DiallerIdentity
    var state: State = .idle

    public init(identity: DiallerIdentity) { self.identity = identity }

    /// The HELLO frame: network, who we are, whom we want, our ephemeral key, a fresh nonce, our clock.
    public mutating func start(now: Int64) -> [UInt8] {
        let ephemeral = KXKeyPair()
        var w = WireWriter()
        w.u8(HandshakeFrame.hello.rawValue)
        w.shortString(identity.network)
        w.shortString(identity.me.rawValue)
        w.shortString(identity.target.rawValue)
        w.raw(ephemeral.publicKey)
        w.raw(Sodium.randomBytes(32))
        w.u64(UInt64(bitPattern: now))
        // The key we pin for the target: during a rotation it signs with that one if it holds it.
        if let pinned = identity.targetKeys.first { w.raw(pinned.bytes) }
        state = .sentHello(hello: w.bytes, ephemeral: ephemeral)
        return w.bytes
    }

    /// Feeds one frame from the acceptor.
    public mutating func receive(_ frame: [UInt8]) throws -> Output {
        guard let first = frame.first, let kind = HandshakeFrame(rawValue: first) else {
            state = .failed
            throw WireError(.unknownMessage, "unknown handshake frame")
        }
        if kind == .refuse {
            state = .failed
            throw HandshakeCrypto.peerRefusal(frame)
        }
        switch (state, kind) {
        case (.sentHello(let hello, let ephemeral), .reply):
            do {
                var r = WireReader(frame, what: "REPLY")
                _ = try r.u8()
                let server = try r.nodeID()
                let serverEphemeral = try r.take(32)
                _ = try r.take(32)  // server nonce, covered by the transcript
                // The key the acceptor pins for us (absent from an acceptor before key rotation).
                let pinnedForUs = r.remaining == 32 + 64 ? try SigningPublicKey(bytes: r.take(32)) : nil
                let unsignedEnd = r.offset
                let signature = try r.take(64)
                try r.end()
                guard server == identity.target else {
                    throw WireError(.wrongPeer, "reached \(server), not \(identity.target) as intended")
                }
                let transcript = HandshakeCrypto.transcript(hello: hello, replyUnsigned: Array(frame[0..<unsignedEnd]))
                let serverSigned = HandshakeCrypto.signed("server", transcript)
                guard identity.targetKeys.contains(where: { $0.isValidSignature(signature, for: serverSigned) })
                else {
                    throw WireError(
                        .badSignature, "\(server) did not prove its identity with the key pinned in the topology")
                }
                let keys: (receive: SecretBytes, transmit: SecretBytes)
                do { keys = try ephemeral.clientSessionKeys(serverPublicKey: serverEphemeral) } catch {
                    throw WireError(.malformed, "the acceptor's ephemeral key is invalid")
                }
                let sealer = try FrameSealer(
                    key: HandshakeCrypto.bind(keys.transmit, direction: "c2s", transcript: transcript))
                let receiveKey = HandshakeCrypto.bind(keys.receive, direction: "s2c", transcript: transcript)
                var w = WireWriter()
                w.u8(HandshakeFrame.auth.rawValue)
                w.raw(identity.keys.matching(pinnedForUs).sign(HandshakeCrypto.signed("client", transcript)))
                w.raw(sealer.header)
                state = .sentAuth(sealer: sealer, receiveKey: receiveKey)
                return .send([w.bytes])
            } catch {
                state = .failed
                throw error
            }
        case (.sentAuth(let sealer, let receiveKey), .stream):
            guard frame.count == 1 + SecretStream.headerByteCount else {
                state = .failed
                throw WireError(.malformed, "STREAM frame of \(frame.count) bytes")
            }
            let opener = try FrameOpener(key: receiveKey, header: Array(frame[1...]))
            state = .established
            return .established(SessionCrypto(peer: identity.target, sealer: sealer, opener: opener))
        case (.idle, .hello), (.idle, .reply), (.idle, .auth), (.idle, .stream), (.idle, .refuse),
            (.sentHello, .hello), (.sentHello, .auth), (.sentHello, .stream), (.sentHello, .refuse),
            (.sentAuth, .hello), (.sentAuth, .reply), (.sentAuth, .auth), (.sentAuth, .refuse),
            (.established, _), (.failed, _):
            state = .failed
            throw WireError(.unexpectedMessage, "handshake frame \(kind) is out of place")
        }
    }

    public var isEstablished: Bool { if case .established = state { true } else { false } }
}
