import Envelope
import SodiumKit

/// The accepting side of the handshake, as a plain state machine (no channel).
///
/// awaitingHello → HELLO (network, neighbour, target, clock, replay checked) sends REPLY signed
/// with our node key → sentReply → AUTH (the dialler's signature checked with its pinned key;
/// only then is its nonce recorded against replays) sends STREAM → established. Any failure sends REFUSE with the
/// reason, then the caller closes.
public struct HandshakeAcceptor {
    enum State {
        case awaitingHello
        case sentReply(
            transcript: [UInt8], client: NodeID, clientKeys: [SigningPublicKey], sealer: FrameSealer,
            receiveKey: SecretBytes,
            nonce: [UInt8])
        case established
        case failed
    }

    public enum Output {
        case send([[UInt8]])
        /// Send `frames` (the STREAM frame), then the session is up.
        case established(SessionCrypto, send: [[UInt8]])
        /// Send `frames` (a REFUSE), then close: the dialler is refused for `error`.
        case refuse(WireError, send: [[UInt8]])
    }

    let identity: AcceptorIdentity
    var state: State = .awaitingHello

    public init(identity: AcceptorIdentity) { self.identity = identity }

    public mutating func receive(_ frame: [UInt8], now: Int64) -> Output {
        do {
            return try step(frame, now: now)
        } catch let error as WireError {
            state = .failed
            return .refuse(error, send: [HandshakeCrypto.refuse(error)])
        } catch {
            state = .failed
            let e = WireError(.malformed, "handshake failed: \(error)")
            return .refuse(e, send: [HandshakeCrypto.refuse(e)])
        }
    }

    private mutating func step(_ frame: [UInt8], now: Int64) throws -> Output {
        guard let first = frame.first, let kind = HandshakeFrame(rawValue: first) else {
            throw WireError(.unknownMessage, "unknown handshake frame")
        }
        switch (state, kind) {
        case (.awaitingHello, .hello):
            var r = WireReader(frame, what: "HELLO")
            _ = try r.u8()
            let network = try r.shortString()
            let client = try r.nodeID()
            let target = try r.nodeID()
            let clientEphemeral = try r.take(32)
            let nonce = try r.take(32)
            let timestamp = Int64(bitPattern: try r.u64())
            // The key the dialler pins for us (absent from a dialler before key rotation).
            let pinnedForUs = r.remaining == 32 ? try SigningPublicKey(bytes: r.take(32)) : nil
            try r.end()
            guard network == identity.network else {
                throw WireError(
                    .wrongNetwork, "dialler is on network '\(network.prefix(64))', this node on '\(identity.network)'")
            }
            guard target == identity.me else {
                throw WireError(.wrongPeer, "dialler \(client) wanted \(target), this is \(identity.me)")
            }
            let clientKeys = identity.neighbourKeys(client)
            guard let clientKey = clientKeys.first else {
                throw WireError(.notANeighbour, "\(client) is not a neighbour of \(identity.me) in the topology")
            }
            // The dialler's clock is untrusted: any Int64, so the difference is taken without
            // trapping (a HELLO dated Int64.min once crashed the node; found by fuzzing).
            let (skew, overflow) = timestamp.subtractingReportingOverflow(now)
            guard !overflow, skew.magnitude <= identity.maxClockSkew.magnitude else {
                let seconds = overflow ? "more than 292 million years" : "\(skew.magnitude / 1000) s"
                throw WireError(
                    .clockSkew,
                    "\(client)'s clock differs from ours by \(seconds) (limit \(identity.maxClockSkew / 1000) s)")
            }
            guard !identity.replayGuard.seen(nonce, now: now) else {
                throw WireError(.replayed, "a replayed handshake claiming to be \(client)")
            }
            let ephemeral = KXKeyPair()
            var w = WireWriter()
            w.u8(HandshakeFrame.reply.rawValue)
            w.shortString(identity.me.rawValue)
            w.raw(ephemeral.publicKey)
            w.raw(Sodium.randomBytes(32))
            if pinnedForUs != nil { w.raw(clientKey.bytes) }  // a dialler before rotation reads no such field
            let transcript = HandshakeCrypto.transcript(hello: frame, replyUnsigned: w.bytes)
            w.raw(identity.keys.matching(pinnedForUs).sign(HandshakeCrypto.signed("server", transcript)))
            let keys: (receive: SecretBytes, transmit: SecretBytes)
            do { keys = try ephemeral.serverSessionKeys(clientPublicKey: clientEphemeral) } catch {
                throw WireError(.malformed, "the dialler's ephemeral key is invalid")
            }
            let sealer = try FrameSealer(
                key: HandshakeCrypto.bind(keys.transmit, direction: "s2c", transcript: transcript))
            state = .sentReply(
                transcript: transcript, client: client, clientKeys: clientKeys, sealer: sealer,
                receiveKey: HandshakeCrypto.bind(keys.receive, direction: "c2s", transcript: transcript),
                nonce: nonce)
            return .send([w.bytes])
        case (.sentReply(let transcript, let client, let clientKeys, let sealer, let receiveKey, let nonce), .auth):
            var r = WireReader(frame, what: "AUTH")
            _ = try r.u8()
            let signature = try r.take(64)
            let streamHeader = try r.take(SecretStream.headerByteCount)
            try r.end()
            let clientSigned = HandshakeCrypto.signed("client", transcript)
            guard clientKeys.contains(where: { $0.isValidSignature(signature, for: clientSigned) }) else {
                throw WireError(
                    .badSignature, "the dialler claiming to be \(client) did not prove it with \(client)'s pinned key")
            }
            let opener = try FrameOpener(key: receiveKey, header: streamHeader)
            // Recorded only now that the dialler proved its key: failed handshakes cost no memory.
            identity.replayGuard.record(nonce, now: now)
            state = .established
            return .established(
                SessionCrypto(peer: client, sealer: sealer, opener: opener),
                send: [[HandshakeFrame.stream.rawValue] + sealer.header])
        case (.awaitingHello, .reply), (.awaitingHello, .auth), (.awaitingHello, .refuse), (.awaitingHello, .stream),
            (.sentReply, .hello), (.sentReply, .reply), (.sentReply, .refuse), (.sentReply, .stream),
            (.established, _), (.failed, _):
            throw WireError(.unexpectedMessage, "handshake frame \(kind) is out of place")
        }
    }

    public var isEstablished: Bool { if case .established = state { true } else { false } }
}
