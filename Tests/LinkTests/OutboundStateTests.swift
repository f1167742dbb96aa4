import Foundation
import Testing
import Envelope
import Spool
import Wire
@testable import Link

/// The sending half of a session as a plain state machine: every phase × every message, no channel.
@Suite struct OutboundStateTests {
    static func id(_ b: UInt8) -> EnvelopeID { try! EnvelopeID(bytes: [UInt8](repeating: b, count: 32)) }
    static func entry(_ b: UInt8, urgency: Urgency = .thuong, at: Int64 = 0) -> QueueEntry {
        QueueEntry(envelopeID: id(b), peer: node("000.00.00.H27"), state: .inflight, urgency: urgency, origin: node("000.01.00.H27"),
                   recipients: [node("000.00.00.H27")], bodySize: 0, enqueuedAt: at, attempts: 1, nextAttemptAt: at, lastError: nil, expiresAt: .max)
    }
    let layout = ChunkLayout(payloadSize: 10 * 1024, chunkSize: 1024)  // 10 chunks of 1041 bytes
    var chunk: Int { layout.ciphertextLength(of: 0) }

    enum Phase: CaseIterable { case unknown, offered, sending }

    func state(_ phase: Phase, window: Int = 1 << 20) -> OutboundState {
        var s = OutboundState(window: window)
        switch phase {
        case .unknown: break
        case .offered: s.offered(Self.entry(1), layout: layout)
        case .sending:
            s.offered(Self.entry(1), layout: layout)
            _ = try? s.receive(.sendFrom(Self.id(1), 0))
            _ = s.nextChunk()
            _ = s.nextChunk()  // two chunks in flight
        }
        return s
    }

    @Test(arguments: Phase.allCases)
    func everyMessageInEveryPhase(phase: Phase) throws {
        let x = Self.id(1)
        let known = phase != .unknown
        // HAVE: custody passed (dedup) for a known envelope; ignored otherwise.
        var s = state(phase)
        #expect(try s.receive(.have(x)) == (known ? [.acknowledged([x])] : []))
        #expect(s.outstanding == 0 && s.inFlightBytes == 0)
        // ACK: the same, batched.
        s = state(phase)
        #expect(try s.receive(.ack([x, Self.id(9)])) == (known ? [.acknowledged([x])] : []))
        #expect(s.inFlightBytes == 0)
        // REFUSE: permanent → quarantine, temporary → defer.
        s = state(phase)
        let perm = try s.receive(.refuse(x, .malformed, "x"))
        #expect(perm.count == (known ? 1 : 0))
        if known, case .quarantine(let qid, let why) = perm[0] { #expect(qid == x && why.contains("permanent")) } else if known { Issue.record("expected quarantine") }
        // A disputed signature goes to the session, which checks it again under its own topology.
        s = state(phase)
        #expect(try s.receive(.refuse(x, .badSignature, "x")) == (known ? [.signatureDisputed(x, "refused by peer: badSignature (x)")] : []))
        s = state(phase)
        let temp = try s.receive(.refuse(x, .diskFull, "full"))
        if known, case .deferEntry(let did, let why) = temp.first { #expect(did == x && why.contains("temporary")) } else if known { Issue.record("expected defer") }
        // SEND_FROM: starts (or restarts) sending from k; out-of-range k is a protocol error.
        s = state(phase)
        #expect(try s.receive(.sendFrom(x, 3)) == [])
        if known { #expect(s.nextChunk()?.index == 3) } else { #expect(s.nextChunk() == nil) }
        s = state(phase)
        if known { #expect(throws: WireError.self) { _ = try s.receive(.sendFrom(x, 11)) } }
        // STORED: credits the window, no effect.
        s = state(phase)
        let before = s.inFlightBytes
        #expect(try s.receive(.stored(x, 1)) == [])
        #expect(s.inFlightBytes == (phase == .sending ? before - chunk : before))
        // Messages that are not answers change nothing.
        for m: SessionMessage in [.offer(header: [], table: []), .chunk(x, 0, []), .ping(1), .pong(1), .close(.normal, "")] {
            s = state(phase)
            let (o, f) = (s.outstanding, s.inFlightBytes)
            #expect(try s.receive(m) == [])
            #expect(s.outstanding == o && s.inFlightBytes == f)
        }
    }

    /// An envelope offered again while its chunks are in flight (its queue entry had been
    /// returned to ready under the running session) keeps its transfer and its window count.
    @Test func aSecondOfferOfATransferInProgressChangesNothing() throws {
        var s = state(.sending)
        let before = s.inFlightBytes
        #expect(before == 2 * chunk)
        let accepted = s.offered(Self.entry(1), layout: layout)
        #expect(!accepted)
        #expect(s.inFlightBytes == before && s.outstanding == 1)
        // The receiver's STORED still opens the window, and the rest of the chunks follow.
        _ = try s.receive(.stored(Self.id(1), 2))
        #expect(s.inFlightBytes == 0)
        #expect(s.nextChunk()?.index == 2)
    }

    @Test func chunksGoMostUrgentFirstThenOldest() throws {
        var s = OutboundState(window: 1 << 30)
        s.offered(Self.entry(1, urgency: .thuong, at: 0), layout: layout)
        s.offered(Self.entry(2, urgency: .hoaToc, at: 50), layout: layout)
        s.offered(Self.entry(3, urgency: .thuong, at: -10), layout: layout)
        for b: UInt8 in [1, 2, 3] { _ = try s.receive(.sendFrom(Self.id(b), 0)) }
        var order: [UInt8] = []
        while let next = s.nextChunk() { order.append(next.id.bytes[0]) }
        #expect(order == Array(repeating: 2, count: 10) + Array(repeating: 3, count: 10) + Array(repeating: 1, count: 10))
        // An urgent one offered mid-transfer overtakes between chunks.
        var t = OutboundState(window: 1 << 30)
        t.offered(Self.entry(1), layout: layout)
        _ = try t.receive(.sendFrom(Self.id(1), 0))
        _ = t.nextChunk()
        t.offered(Self.entry(4, urgency: .thuongKhan, at: 99), layout: layout)
        _ = try t.receive(.sendFrom(Self.id(4), 0))
        #expect(t.nextChunk()?.id == Self.id(4))
    }

    @Test func theWindowBoundsBytesInFlight() throws {
        var s = OutboundState(window: 3 * 1041)
        s.offered(Self.entry(1), layout: layout)
        _ = try s.receive(.sendFrom(Self.id(1), 0))
        var sent = 0
        while s.nextChunk() != nil { sent += 1 }
        #expect(sent == 3 && s.inFlightBytes == 3 * chunk)
        _ = try s.receive(.stored(Self.id(1), 2))
        #expect(s.inFlightBytes == chunk)
        #expect(s.nextChunk()?.index == 3)
        // A re-request (a bad chunk) un-sends what followed it.
        _ = try s.receive(.sendFrom(Self.id(1), 2))
        #expect(s.inFlightBytes == 0)
        #expect(s.nextChunk()?.index == 2)
        // One chunk may always go, even if it alone exceeds the window.
        var tiny = OutboundState(window: 10)
        tiny.offered(Self.entry(5), layout: layout)
        _ = try tiny.receive(.sendFrom(Self.id(5), 0))
        #expect(tiny.nextChunk() != nil)
        #expect(tiny.nextChunk() == nil)
    }

    /// A peer repeating SEND_FROM 0 (740 bytes each) once made a node send a 30 MB envelope over
    /// and over: re-sent bytes are bounded per envelope and session, and the transfer goes on.
    @Test func repeatedReRequestsAreAnsweredWithinTheResendBudget() throws {
        var s = OutboundState(window: 3 * 1041)
        s.offered(Self.entry(1), layout: layout)
        _ = try s.receive(.sendFrom(Self.id(1), 0))
        var sent = 0
        for _ in 0..<1000 {
            while let c = s.nextChunk() {
                sent += layout.ciphertextLength(of: c.index)
                _ = try s.receive(.stored(Self.id(1), 0))  // claims nothing stored, frees nothing
            }
            _ = try s.receive(.sendFrom(Self.id(1), 0))
        }
        #expect(sent <= 10 * chunk + s.resendBudget + s.window, "sent \(sent) bytes of a \(10 * chunk)-byte envelope")
        #expect(s.ignoredRewinds > 900)
        // An honest receiver's three asks after a bad chunk are all answered.
        var h = OutboundState(window: 3 * 1041)
        h.offered(Self.entry(2), layout: layout)
        _ = try h.receive(.sendFrom(Self.id(2), 0))
        for _ in 0..<3 {
            while h.nextChunk() != nil {}
            _ = try h.receive(.sendFrom(Self.id(2), 1))
            #expect(h.nextChunk()?.index == 1)
        }
        #expect(h.ignoredRewinds == 0)
    }

    /// A one-chunk envelope is sent with its offer: no round trip for SEND_FROM 0. A SEND_FROM 0
    /// after that is the receiver asking again (the chunk failed its digest): it goes again.
    @Test func aOneChunkEnvelopeGoesWithItsOffer() throws {
        let one = ChunkLayout(payloadSize: 4096, chunkSize: 65536)
        var s = OutboundState(window: 1 << 20)
        s.offered(Self.entry(7), layout: one)
        let first = s.nextChunk()
        #expect(first?.id == Self.id(7) && first?.index == 0)
        #expect(s.nextChunk() == nil)
        #expect(s.inFlightBytes == one.ciphertextLength(of: 0))
        #expect(try s.receive(.sendFrom(Self.id(7), 0)) == [])
        #expect(s.inFlightBytes == 0)
        #expect(s.nextChunk()?.index == 0)
        #expect(try s.receive(.ack([Self.id(7)])) == [.acknowledged([Self.id(7)])])
        #expect(s.inFlightBytes == 0 && s.outstanding == 0)
        // A larger envelope still waits for the receiver to say where to start.
        s.offered(Self.entry(8), layout: layout)
        #expect(s.nextChunk() == nil)
    }

    /// Bulk data fills the window; a Hỏa tốc chunk may still go, within the urgent reserve, and
    /// nothing less urgent may use the reserve.
    @Test func hoaTocChunksMayUseTheUrgentReserve() throws {
        for reserve in [0, 2 * 1041] {
            var s = OutboundState(window: 3 * 1041, urgentReserve: reserve)
            s.offered(Self.entry(1), layout: layout)
            _ = try s.receive(.sendFrom(Self.id(1), 0))
            while s.nextChunk() != nil {}
            #expect(s.inFlightBytes == 3 * chunk)
            s.offered(Self.entry(2, urgency: .thuongKhan), layout: layout)
            _ = try s.receive(.sendFrom(Self.id(2), 0))
            #expect(s.nextChunk() == nil)  // Thượng khẩn: no reserve
            s.offered(Self.entry(3, urgency: .hoaToc), layout: layout)
            _ = try s.receive(.sendFrom(Self.id(3), 0))
            var urgent = 0
            while let next = s.nextChunk() {
                #expect(next.id == Self.id(3))
                urgent += 1
            }
            #expect(urgent == reserve / 1041)
            #expect(s.inFlightBytes == 3 * chunk + urgent * chunk)
        }
    }
}
