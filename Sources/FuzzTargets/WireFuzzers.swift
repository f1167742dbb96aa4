import Envelope
import Link
import NIOCore
import Spool
import Wire

/// `frame`: the input after its first byte is the byte stream from a peer; the first byte picks
/// how it is cut into reads. Invariants: the same frames (and the same refusal) however the
/// stream is cut, and no frame over the limit.
enum FrameFuzzer {
    static let maxFrameSize = 1024

    static func run(_ data: [UInt8]) throws(FuzzFinding) {
        guard let pattern = data.first else { return }
        let stream = Array(data.dropFirst())
        let whole = decode(stream, cuts: { _ in stream.count })
        let cut = decode(stream, cuts: { i in 1 + Int((pattern >> UInt8(i % 4 * 2)) & 3) * Int(pattern % 7 + 1) })
        guard whole.frames == cut.frames, whole.refusal == cut.refusal else {
            throw FuzzFinding(
                .frame,
                """
                cutting the stream into reads changed what was decoded: \(whole.frames.count) \
                frames/\(whole.refusal ?? "ok") whole, \(cut.frames.count)/\(cut.refusal ?? "ok") cut
                """
            )
        }
        if let big = whole.frames.first(where: { $0.count > maxFrameSize }) {
            throw FuzzFinding(.frame, "a \(big.count)-byte frame passed the \(maxFrameSize)-byte limit")
        }
    }

    private static func decode(_ stream: [UInt8], cuts: (Int) -> Int) -> (frames: [[UInt8]], refusal: String?) {
        var decoder = FrameDecoder(maxFrameSize: maxFrameSize)
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        var frames: [[UInt8]] = []
        var offset = 0
        var read = 0
        while offset < stream.count {
            let end = min(stream.count, offset + max(1, cuts(read)))
            buffer.writeBytes(stream[offset..<end])
            offset = end
            read += 1
            do {
                while var frame = try decoder.next(&buffer) {
                    frames.append(frame.readBytes(length: frame.readableBytes) ?? [])
                }
            } catch {
                return (frames, (error as? WireError).map { "\($0.code)" } ?? "\(error)")
            }
        }
        return (frames, nil)
    }
}

/// `handshake`: the first byte picks the side (even: the acceptor, odd: the dialler); the rest is
/// a list of frames from the other side. Invariants: a refusal sends exactly one REFUSE frame and
/// the acceptor refuses everything after it; nothing establishes a session without the keys.
enum HandshakeFuzzer {
    static func run(_ data: [UInt8]) throws(FuzzFinding) {
        var input = FuzzInput(data)
        let side = input.u8()
        let frames = input.pieces()
        if side & 1 == 0 {
            var acceptor = HandshakeAcceptor(identity: FuzzFixture.acceptorIdentity())
            var refused = false
            for frame in frames {
                switch acceptor.receive(frame, now: FuzzFixture.now) {
                case .send(let out):
                    if refused { throw FuzzFinding(.handshake, "the acceptor answered after it had refused") }
                    if out.isEmpty { throw FuzzFinding(.handshake, "the acceptor went on without sending anything") }
                case .established:
                    throw FuzzFinding(.handshake, "a session was established without the dialler's key")
                case .refuse(_, let out):
                    guard out.count == 1, out[0].first == HandshakeFrame.refuse.rawValue else {
                        throw FuzzFinding(.handshake, "a refusal did not send exactly one REFUSE frame")
                    }
                    refused = true
                }
            }
        } else {
            var dialler = HandshakeDialler(identity: FuzzFixture.diallerIdentity())
            _ = dialler.start(now: FuzzFixture.now)
            for frame in frames {
                do {
                    if case .established = try dialler.receive(frame) {
                        throw FuzzFinding(.handshake, "a session was established without the acceptor's key")
                    }
                } catch let finding as FuzzFinding {
                    throw finding
                } catch {
                    // Refused: the dialler must stay refused.
                    if (try? dialler.receive(frame)) != nil {
                        throw FuzzFinding(.handshake, "the dialler went on after it had failed")
                    }
                    return
                }
            }
        }
    }
}

/// `session`: the first byte sets the window; the rest is a list of session messages, one
/// envelope's exchange as both ends see it. An OFFER whose header the origin signed registers
/// the envelope with the sender's state machine (`OutboundState`) and the receiver's chunk
/// verifier; answers (HAVE, SEND-FROM, REFUSE, STORED, ACK) drive the sender; chunks go through
/// the verifier. Invariants: every message decodes to what it encodes to; the window is never
/// overrun; nothing stays in flight once nothing is outstanding; effects name offered envelopes.
enum SessionFuzzer {
    static func run(_ data: [UInt8]) throws(FuzzFinding) {
        var input = FuzzInput(data)
        let window = 4096 << Int(input.u8() & 7)
        var sender = OutboundState(window: window)
        var verifiers: [EnvelopeID: ChunkVerifier] = [:]
        var largestChunk = 0
        var order: Int64 = 0
        for piece in input.pieces() {
            guard let message = try? SessionMessage.decode(piece) else { continue }  // the session would close
            guard (try? SessionMessage.decode(message.encoded())) == message else {
                throw FuzzFinding(.session, "a decoded message does not survive encoding and decoding again")
            }
            let effects: [OutboundState.Effect]
            do {
                switch message {
                case .offer(let headerBytes, let tableBytes):
                    guard let header = try? EnvelopeHeader.parse(headerBytes),
                        let key = FuzzFixture.originKey(header.origin),
                        (try? header.verifySignature(originKey: key)) != nil,
                        let table = try? ChunkTable(bytes: tableBytes),
                        let verifier = try? ChunkVerifier(header: header, table: table)
                    else { continue }
                    verifiers[header.id] = verifier
                    largestChunk = max(largestChunk, header.layout.ciphertextLength(of: 0))
                    if !sender.isOffered(header.id) {
                        order += 1
                        sender.offered(
                            QueueEntry(
                                envelopeID: header.id, peer: FuzzFixture.hub, state: .inflight, urgency: header.urgency,
                                origin: header.origin, recipients: header.recipients.map(\.id),
                                bodySize: header.layout.bodySize,
                                enqueuedAt: order, attempts: 1, nextAttemptAt: 0, lastError: nil,
                                expiresAt: header.expiresAt),
                            layout: header.layout)
                    }
                    effects = []
                case .chunk(let id, let index, let bytes):
                    _ = try? verifiers[id]?.verify(index: index, ciphertext: bytes)
                    effects = try sender.receive(message)
                default:
                    effects = try sender.receive(message)
                }
            } catch {
                continue  // a malformed answer: the session would close
            }
            for effect in effects {
                let ids: [EnvelopeID]
                switch effect {
                case .acknowledged(let acked): ids = acked
                case .deferEntry(let id, _), .quarantine(let id, _), .signatureDisputed(let id, _): ids = [id]
                }
                if let stray = ids.first(where: { verifiers[$0] == nil }) {
                    throw FuzzFinding(.session, "an effect named \(stray), which was never offered")
                }
            }
            for _ in 0..<8 {
                guard let next = sender.nextChunk() else { break }
                guard let layout = verifiers[next.id]?.header.layout, next.index >= 0, next.index < layout.chunkCount
                else {
                    throw FuzzFinding(
                        .session, "the sender picked chunk \(next.index) of \(next.id), which does not exist")
                }
            }
            guard sender.inFlightBytes >= 0, sender.inFlightBytes <= max(window, largestChunk) else {
                throw FuzzFinding(.session, "\(sender.inFlightBytes) bytes in flight with a \(window)-byte window")
            }
            guard sender.outstanding > 0 || sender.inFlightBytes == 0 else {
                throw FuzzFinding(.session, "\(sender.inFlightBytes) bytes still in flight with nothing outstanding")
            }
        }
    }
}
