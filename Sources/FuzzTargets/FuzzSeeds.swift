import Control
import Envelope
import Foundation
import Link
import Spool
import Wire

/// Seed inputs for every target, recorded from the real code talking to itself: a real
/// handshake between the fixture's district and hub, a real session moving a real envelope, real
/// envelope files, real control requests. `lienthong-fuzz seeds DIR` writes them; the checked-in
/// corpora under `Fuzz/corpus` started from them.
public enum FuzzSeeds {
    public struct Seed: Sendable {
        public let name: String
        public let bytes: [UInt8]
    }

    /// Seeds by target. `topologyFiles` are real topology files to include as seeds.
    public static func make(topologyFiles: [(name: String, bytes: [UInt8])] = []) throws -> [FuzzTarget: [Seed]] {
        let handshake = try recordHandshake()
        var seeds: [FuzzTarget: [Seed]] = [:]

        // The byte stream each side of a real handshake sent, framed, cut three ways.
        func stream(_ frames: [[UInt8]]) -> [UInt8] {
            LinkFraming.preamble
                + frames.flatMap { f in withUnsafeBytes(of: UInt32(f.count).bigEndian, Array.init) + f }
        }
        seeds[.frame] = [0x00, 0x5a, 0xff].flatMap { cut in
            [
                Seed(name: "dialler-stream-\(cut)", bytes: [cut] + stream([handshake.hello, handshake.auth])),
                Seed(name: "acceptor-stream-\(cut)", bytes: [cut] + stream([handshake.reply, handshake.stream])),
            ]
        }

        seeds[.handshake] = [
            Seed(name: "acceptor-hello-auth", bytes: [0] + FuzzInput.encode([handshake.hello, handshake.auth])),
            Seed(name: "dialler-reply-stream", bytes: [1] + FuzzInput.encode([handshake.reply, handshake.stream])),
            Seed(name: "dialler-refused", bytes: [1] + FuzzInput.encode([handshake.refusal])),
        ]

        let (small, smallChunks) = try FuzzFixture.sealDocument(
            subject: "Báo cáo tuần", fileBytes: 600, chunkSize: 1024)
        let (multi, multiChunks) = try FuzzFixture.sealDocument(
            subject: "Báo cáo tháng 11", fileBytes: 4000, chunkSize: 1024)
        let (urgent, urgentChunks) = try FuzzFixture.sealDocument(
            subject: "Hỏa tốc: phòng chống lũ", fileBytes: 100,
            chunkSize: 1024, urgency: .hoaToc)
        seeds[.session] = [
            Seed(
                name: "one-envelope",
                bytes: [3] + FuzzInput.encode(recordSession([(multi, multiChunks)], badChunk: nil))),
            Seed(
                name: "two-envelopes-urgent",
                bytes: [0]
                    + FuzzInput.encode(recordSession([(multi, multiChunks), (urgent, urgentChunks)], badChunk: nil))),
            Seed(
                name: "bad-chunk-asked-again",
                bytes: [1] + FuzzInput.encode(recordSession([(multi, multiChunks)], badChunk: 2))),
            Seed(
                name: "small-have-refuse",
                bytes: [7]
                    + FuzzInput.encode([
                        SessionMessage.offer(header: small.header.encoded, table: small.table.bytes).encoded(),
                        SessionMessage.have(small.id).encoded(),
                        SessionMessage.offer(header: urgent.header.encoded, table: urgent.table.bytes).encoded(),
                        SessionMessage.refuse(urgent.id, .diskFull, "disk full").encoded(),
                        SessionMessage.ping(7).encoded(), SessionMessage.pong(7).encoded(),
                        SessionMessage.close(.normal, "bye").encoded(),
                    ])),
        ]

        // The receiver's view of the same exchanges: the peer's messages (op 0), the committer
        // after each message (op 1), and a failed spool step (op 2).
        func inbound(_ transcript: [[UInt8]], failAfter: Int? = nil) -> [UInt8] {
            var pieces: [[UInt8]] = []
            for (i, message) in transcript.enumerated() {
                pieces.append([0] + message)
                if i == failAfter { pieces.append([2]) }
                pieces.append([1])
            }
            return FuzzInput.encode(pieces)
        }
        let smallOffer = SessionMessage.offer(header: small.header.encoded, table: small.table.bytes).encoded()
        let smallChunk = SessionMessage.chunk(small.id, 0, smallChunks[0]).encoded()
        seeds[.inbound] = [
            Seed(name: "one-envelope", bytes: [0x07] + inbound(recordSession([(multi, multiChunks)], badChunk: nil))),
            Seed(
                name: "two-envelopes-runs-of-four",
                bytes: [0x67]
                    + inbound(recordSession([(multi, multiChunks), (urgent, urgentChunks)], badChunk: nil))),
            Seed(name: "bad-chunk", bytes: [0x23] + inbound(recordSession([(multi, multiChunks)], badChunk: 2))),
            Seed(
                name: "failed-begin",
                bytes: [0x07] + inbound(recordSession([(multi, multiChunks)], badChunk: nil), failAfter: 0)),
            Seed(name: "small-twice", bytes: [0x00] + inbound([smallOffer, smallChunk, smallOffer, smallChunk])),
        ]

        func file(_ sealed: SealedEnvelope, _ chunks: [[UInt8]]) -> [UInt8] {
            sealed.header.encoded + sealed.table.bytes + chunks.flatMap { $0 }
        }
        seeds[.envelope] = [
            Seed(name: "small", bytes: file(small, smallChunks)),
            Seed(name: "multi-chunk", bytes: file(multi, multiChunks)),
            Seed(name: "urgent", bytes: file(urgent, urgentChunks)),
        ]

        seeds[.topology] = topologyFiles.map { Seed(name: $0.name, bytes: $0.bytes) }

        let requests: [(String, ControlRequest)] = [
            ("status", .status), ("peers", .peers),
            (
                "send",
                .send(
                    SendRequest(
                        to: ["000.01.01.H27", "subtree:000.02.00.H27"], urgency: "Hỏa tốc", expiresInMs: 86_400_000,
                        subject: "Chỉ thị 21-CT/TU", codeNumber: "21",
                        codeNotation: "CT/TU", documentType: "Chỉ thị",
                        files: ["/tmp/chi-thi.pdf"], eachFile: false))
            ),
            ("inbox-list", .inboxList(limit: 100)), ("inbox-show", .inboxShow(id: "3f2a")),
            ("inbox-export", .inboxExport(id: "3f2a", out: "/tmp/out")),
            ("inbox-status", .inboxSetStatus(id: "3f2a", status: "05", reason: nil)),
            ("track", .track(id: nil)),
            (
                "queue-hold",
                .queue(
                    QueueAction(
                        verb: .hold, ids: ["3f2a"], all: false, peer: "000.01.00.H27", reason: "kiểm tra",
                        actor: "operator"))
            ),
        ]
        seeds[.control] =
            try requests.map { Seed(name: $0.0, bytes: try ControlCodec.encode($0.1)) }
            + [Seed(name: "two-lines", bytes: try ControlCodec.encode(.status) + ControlCodec.encode(.peers))]
        seeds[.edxml] = try EdXMLFuzzer.seeds()
        return seeds
    }

    struct HandshakeRecord {
        var hello: [UInt8], reply: [UInt8], auth: [UInt8], stream: [UInt8], refusal: [UInt8]
    }

    /// A real handshake between the fixture's district (dialler) and hub (acceptor).
    static func recordHandshake() throws -> HandshakeRecord {
        var dialler = HandshakeDialler(identity: FuzzFixture.diallerIdentity())
        var acceptor = HandshakeAcceptor(identity: FuzzFixture.acceptorIdentity())
        let hello = dialler.start(now: FuzzFixture.now)
        guard case .send(let replies) = acceptor.receive(hello, now: FuzzFixture.now), let reply = replies.first,
            case .send(let auths) = try dialler.receive(reply), let auth = auths.first,
            case .established(_, let streams) = acceptor.receive(auth, now: FuzzFixture.now),
            let stream = streams.first,
            case .established = try dialler.receive(stream)
        else {
            throw FuzzFinding(.handshake, "the fixture's own handshake did not complete")
        }
        // A refusal as the acceptor sends it: the same HELLO again is a replay.
        guard case .refuse(_, let refusals) = acceptor.receive(hello, now: FuzzFixture.now),
            let refusal = refusals.first
        else {
            throw FuzzFinding(.handshake, "the fixture's replayed HELLO was not refused")
        }
        return HandshakeRecord(hello: hello, reply: reply, auth: auth, stream: stream, refusal: refusal)
    }

    /// A real exchange: offers, the receiver's SEND-FROM, the chunks the sender's state machine
    /// picks (in its order, within its window), STORED credits and the final ACK. With
    /// `badChunk`, that chunk arrives damaged once and is asked for again.
    static func recordSession(_ envelopes: [(SealedEnvelope, chunks: [[UInt8]])], badChunk: Int?) -> [[UInt8]] {
        var sender = OutboundState(window: 4096)
        var transcript: [SessionMessage] = []
        var chunksByID: [EnvelopeID: [[UInt8]]] = [:]
        var received: [EnvelopeID: Int] = [:]
        var damaged = false
        for (i, (sealed, chunks)) in envelopes.enumerated() {
            let h = sealed.header
            sender.offered(
                QueueEntry(
                    envelopeID: h.id, peer: FuzzFixture.hub, state: .inflight, urgency: h.urgency, origin: h.origin,
                    recipients: h.recipients.map(\.id), bodySize: h.layout.bodySize, enqueuedAt: Int64(i), attempts: 1,
                    nextAttemptAt: 0, lastError: nil, expiresAt: h.expiresAt), layout: h.layout)
            chunksByID[h.id] = chunks
            received[h.id] = 0
            transcript.append(.offer(header: h.encoded, table: sealed.table.bytes))
        }
        for (sealed, _) in envelopes {
            transcript.append(.sendFrom(sealed.id, 0))
            _ = try? sender.receive(.sendFrom(sealed.id, 0))
        }
        while let next = sender.nextChunk() {
            guard let chunks = chunksByID[next.id] else { break }
            var bytes = chunks[next.index]
            if next.index == badChunk, !damaged {
                damaged = true
                bytes[0] ^= 0xff
                transcript.append(.chunk(next.id, next.index, bytes))
                transcript.append(.sendFrom(next.id, next.index))
                _ = try? sender.receive(.sendFrom(next.id, next.index))
                continue
            }
            transcript.append(.chunk(next.id, next.index, bytes))
            let stored = next.index + 1
            received[next.id] = stored
            transcript.append(.stored(next.id, stored))
            _ = try? sender.receive(.stored(next.id, stored))
            if stored == chunks.count {
                transcript.append(.ack([next.id]))
                _ = try? sender.receive(.ack([next.id]))
            }
        }
        return transcript.map { $0.encoded() }
    }
}
