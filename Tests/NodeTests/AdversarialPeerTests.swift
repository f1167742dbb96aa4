import Foundation
import Testing
import NIOCore
import Control
import Envelope
import Node
import SodiumKit
import Wire

/// A compromised commune (its real keys, a completed handshake) attacking its district, a real
/// `lienthongd`: each case asserts that the district stays up, that what it holds stays under
/// the documented bounds, that honest traffic keeps flowing and that nothing queued is lost.
/// The figures printed (`adversary:`) are the ones in docs/RELIABILITY.md. `Scripts/adversary`
/// runs the same cases at full scale (`LT_ADVERSARY_FULL`): the daemon's default limits and
/// floods ten times larger.
@Suite(.serialized) struct AdversarialPeerTests {
    static let mib = 1 << 20
    static let full = ProcessInfo.processInfo.environment["LT_ADVERSARY_FULL"] != nil
    /// Under a sanitizer (`Scripts/sanitize` sets `LT_SANITIZER`) RSS says nothing about the
    /// daemon: AddressSanitizer keeps 256 MiB of freed memory in quarantine, and `malloc_trim`
    /// does not reach its allocator. The attacks and every other check still run.
    static let rssChecked = ProcessInfo.processInfo.environment["LT_SANITIZER"] == nil

    func report(_ text: String) { print("adversary: \(text)") }

    /// The district still delivers: a document from it to an honest commune arrives.
    func honestTrafficFlows(_ net: TestNetwork) throws {
        let id = try net.send(from: district1, to: commune12, subject: "Vẫn thông suốt")
        try waitUntil("the honest commune gets a document from the district") {
            try net.inbox(commune12).contains { $0.id == id }
        }
    }

    /// Waits until the district has ended `count` sessions with the hostile commune (its log's
    /// `link down`): its memory is released then (`AllocatorTuning.release`).
    func hostileSessionsEnded(_ net: TestNetwork, _ count: Int) throws {
        try waitUntil("the district ends the hostile session") {
            net.log(district1).split(separator: "\n")
                .filter { $0.contains("peer=\(commune11)") && $0.contains("link down") }.count >= count
        }
    }

    /// Waits (at most 10 s) until the district's RSS is back within 8 MiB of `before`: the
    /// session's buffers are freed as its channel closes, on the event loop, and `malloc_trim`
    /// runs after the session's end is logged. The RSS expectations that follow say whether it came.
    func givenBack(_ pid: Int32, _ before: Int) throws {
        guard Self.rssChecked else { return }
        try? waitUntil("the district gives the session's memory back", timeout: 10) {
            memory(of: pid).rss - before < 8 * Self.mib
        }
    }

    @Test func aPeerThatNeverReadsIsDroppedAndItsMemoryGivenBack() async throws {
        let small: [String: Int] = ["maxWriteBacklogBytes": 1 << 20, "drainDeadlineMs": 2000]
        let net = try TestNetwork(settings: Self.full ? [:] : small)
        try net.start([district1, commune12])
        defer { net.stopAll() }
        let pid = try #require(net.pid(district1))
        let before = memory(of: pid)
        // PINGs as fast as the socket takes them, never reading a PONG, until the district hangs up.
        let (pings, closed) = try await HostilePeer.session(home: net.home(commune11), target: district1) { peer in
            var n: UInt64 = 0
            do {
                while n < (Self.full ? 30_000_000 : 3_000_000) {
                    try await peer.send((0..<2000).map { i in SessionMessage.ping(n + UInt64(i)) })
                    n += 2000
                }
            } catch {
                return (n, true)
            }
            return (n, false)
        }
        #expect(closed, "the district never dropped a peer that does not read (\(pings) PINGs)")
        try hostileSessionsEnded(net, 1)
        try givenBack(pid, before.rss)
        let after = memory(of: pid)
        report("never reads: \(pings) PINGs (\(pings * 34 / UInt64(Self.mib)) MiB) before the drop; district RSS "
               + "\(before.rss / Self.mib) → peak \(after.peak / Self.mib) → \(after.rss / Self.mib) MiB")
        if Self.rssChecked {
            #expect(after.peak - before.rss < 64 * Self.mib)
            #expect(after.rss - before.rss < 8 * Self.mib, "the dropped session's memory was not given back")
        }
        try honestTrafficFlows(net)
    }

    /// A session that fails tells the peer why: the CLOSE is written before the channel closes
    /// (the session waits for its writer to flush it).
    @Test func aFailedSessionSendsItsCloseBeforeHangingUp() async throws {
        let net = try TestNetwork()
        try net.start([district1, commune12])
        defer { net.stopAll() }
        let farewell = try await HostilePeer.session(home: net.home(commune11), target: district1) { peer in
            try await peer.sendDamaged(.ping(1))
            return try await peer.nextAnswer()
        }
        guard case .close(let reason, let text)? = farewell else {
            Issue.record("the district hung up without a CLOSE: \(String(describing: farewell))")
            return
        }
        #expect(reason == .protocolError && !text.isEmpty)
        try honestTrafficFlows(net)
    }

    @Test func unfinishedOffersWithHugeTablesAreBoundedListedAndDropped() async throws {
        let net = try TestNetwork(settings: ["stalePartialMs": 8000])
        try net.start([district1, commune12])
        defer { net.stopAll() }
        let pid = try #require(net.pid(district1))
        let before = memory(of: pid)
        let spoolBefore = try spoolBytes(net, district1)
        let answers = try await unfinishedOffers(net)
        try hostileSessionsEnded(net, 1)
        try givenBack(pid, before.rss)
        let during = memory(of: pid)
        report("unfinished offers: answers \(answers.sorted { $0.key < $1.key }); district RSS "
               + "\(before.rss / Self.mib) → "
               + "peak \(during.peak / Self.mib) → \(during.rss / Self.mib) MiB after the session; spool "
               + "+\((try spoolBytes(net, district1) - spoolBefore) / Self.mib) MiB")
        #expect(answers["badClock"] == 1 && answers["malformed"] == 1)
        #expect((answers["sendFrom"] ?? 0) + (answers["temporaryFailure"] ?? 0) == 40)
        #expect((answers["temporaryFailure"] ?? 0) > 0, "no bound refused an offer")
        if Self.rssChecked {
            #expect(during.peak - before.rss < 64 * Self.mib)
            #expect(during.rss - before.rss < 8 * Self.mib, "the session's memory was not given back")
        }
        #expect(try spoolBytes(net, district1) - spoolBefore < 64 * Self.mib)

        // Operators see them, and can delete one (audited).
        let partial = try net.json(PartialList.self, district1, "queue", "list", "--state", "partial")
        #expect(partial.count == answers["sendFrom"] && partial.entries.allSatisfy { $0.peer == commune11 })
        #expect(try net.cli(district1, "queue", "list", "--state", "partial").contains("255.0 MiB"))
        let first = try #require(partial.entries.first?.id)
        try net.cli(district1, "queue", "delete", first, "--yes", "--reason", "thử xóa")
        let audit = try net.cli(["audit", "list", "--home", net.home(district1), "--envelope", first])
        #expect(audit.contains("deleted") && audit.contains("thử xóa"))
        // Without progress they are dropped by the janitor, each audited.
        try waitUntil("the stale partial envelopes are dropped", timeout: 30) {
            try net.json(PartialList.self, district1, "queue", "list", "--state", "partial").count == 0
        }
        let dropped = try net.cli(["audit", "list", "--home", net.home(district1), "--limit", "1000"])
        #expect(dropped.components(separatedBy: " dropped ").count - 1 == partial.count - 1)
        // Nothing leaks: the same attack again peaks where the first did and is given back too.
        _ = try await unfinishedOffers(net)
        try hostileSessionsEnded(net, 2)
        try givenBack(pid, before.rss)
        let again = memory(of: pid)
        report("unfinished offers: the same attack again, district RSS peak \(again.peak / Self.mib) → "
               + "\(again.rss / Self.mib) MiB after the session")
        if Self.rssChecked {
            #expect(again.rss - before.rss < 8 * Self.mib, "the second session's memory was not given back")
            #expect(again.peak - during.peak < 16 * Self.mib, "the second attack raised the peak: a leak")
        }
        try honestTrafficFlows(net)
    }

    /// 40 offers, each declaring 255 MiB in 16 KiB chunks, never followed by a chunk; one more
    /// with an expiry of 2^62 ms and one cut in 1 KiB chunks. Returns the district's answers.
    func unfinishedOffers(_ net: TestNetwork) async throws -> [String: Int] {
        try await HostilePeer.session(home: net.home(commune11), target: district1) { peer in
            var answers: [String: Int] = [:]
            var offers = try (0..<40).map { _ in
                try peer.hugeOffer(to: district1, declared: 255 << 20, chunkSize: 16 << 10).offer
            }
            offers.append(try peer.hugeOffer(to: district1, declared: 255 << 20, chunkSize: 16 << 10,
                                             expiresAt: 1 << 62).offer)
            offers.append(try peer.hugeOffer(to: district1, declared: 255 << 20, chunkSize: 1 << 10).offer)
            try await peer.send(offers)
            for _ in offers.indices {
                switch try await peer.nextAnswer() {
                case .sendFrom?: answers["sendFrom", default: 0] += 1
                case .refuse(_, let reason, _)?: answers["\(reason)", default: 0] += 1
                case let other: answers["\(String(describing: other).prefix(20))", default: 0] += 1
                }
            }
            return answers
        }
    }

    @Test func extremeTimestampsOutOfRangeChunksAndStrayAnswersChangeNothing() async throws {
        let net = try TestNetwork()
        try net.start([district1, commune12])
        defer { net.stopAll() }
        let now = HostilePeer.now()
        try await HostilePeer.session(home: net.home(commune11), target: district1) { peer -> Void in
            // Created at Int64.min, expiring at Int64.max; an hour in the future: bad clock.
            let times = [(Int64.min, Int64.max), (now + 3_600_000, now + 86_400_000), (now, now + 91 * 86_400_000)]
            for (created, expires) in times {
                let e = try peer.document(to: district1, size: 100, createdAt: created, expiresAt: expires)
                try await peer.send(e.offer)
                guard case .refuse(_, let reason, _)? = try await peer.nextAnswer() else {
                    Issue.record("\(created): not refused")
                    continue
                }
                #expect(reason == .badClock)
            }
            // Answers about envelopes never offered: ignored, nothing sent back.
            let stray = try EnvelopeID(bytes: Sodium.randomBytes(32))
            try await peer.send([.have(stray), .ack([stray]), .sendFrom(stray, 0), .stored(stray, 3),
                                 .refuse(stray, .malformed, "x"), .chunk(stray, 0, [1, 2, 3])])
            // A two-chunk envelope: an out-of-range chunk and an oversize one are asked for again
            // (never stored), then the envelope is refused for now.
            let e = try peer.document(to: district1, size: 20_000, chunkSize: 16 << 10)
            try await peer.send(e.offer)
            guard case .sendFrom(_, 0)? = try await peer.nextAnswer() else { Issue.record("no SEND_FROM 0"); return }
            try await peer.send([.chunk(e.id, 99, [0]), .chunk(e.id, 0, [UInt8](repeating: 7, count: 5 << 20)),
                                 .chunk(e.id, 2, [1]), .chunk(e.id, 0, [1])])
            var askedAgain = 0, refused = false
            while !refused, let answer = try await peer.nextAnswer() {
                switch answer {
                case .sendFrom(_, 0): askedAgain += 1
                case .refuse(_, .temporaryFailure, _): refused = true
                default: Issue.record("unexpected \(answer)")
                }
            }
            // Only the oversize chunk 0 is asked again: 99 and 2 are out of range; the fourth rejection refuses.
            #expect(refused && askedAgain == 1)
            // The session is still up: a good document goes through.
            let good = try peer.document(to: district1, size: 500)
            try await peer.send([good.offer] + good.chunks)
            guard case .ack(let ids)? = try await peer.nextAnswer() else { Issue.record("no ACK"); return }
            #expect(ids == [good.id])
        }
        #expect(try net.inbox(district1).count == 1)
        #expect(try net.json(PartialList.self, district1, "queue", "list", "--state", "partial").count <= 1)
        try honestTrafficFlows(net)
    }

    /// Time from `send` at commune 1.2 to its 01 receipt back from the district, in seconds.
    func honestLatency(_ net: TestNetwork, _ subject: String) throws -> Double {
        let start = Date()
        let id = try net.send(from: commune12, to: district1, subject: subject)
        try waitUntil("the honest document is received and receipted") {
            try net.track(commune12, id).counts["01"] == 1
        }
        return Date().timeIntervalSince(start)
    }

    @Test func anOfferFloodIsSlowedAtTheDoorAndAnHonestNeighbourStillGetsThrough() async throws {
        let (rate, burst) = Self.full ? (5000, 10_000) : (200, 400)
        let net = try TestNetwork(settings: Self.full ? [:] : ["offersPerSecond": rate, "offerBurst": burst])
        try net.start([district1, commune12])
        defer { net.stopAll() }
        let quiet = try honestLatency(net, "Trước khi bị tấn công")
        let flood = Self.full ? 20_000 : 2000
        let hostile = net.home(commune11)
        let (acked, refused, latency) = try await HostilePeer.session(home: hostile, target: district1) { peer in
            let documents = try (0..<flood).map { _ in try peer.document(to: district1, size: 300) }
            try await peer.send(documents.flatMap { [$0.offer] + $0.chunks })
            let honest = Task.detached { try self.honestLatency(net, "Trong lúc bị tấn công") }
            var acked = 0, refused = 0
            while acked + refused < flood, let m = try await peer.nextAnswer() {
                switch m {
                case .ack(let ids): acked += ids.count
                case .refuse(_, .temporaryFailure, _): refused += 1
                default: break
                }
            }
            return (acked, refused, try await honest.value)
        }
        report("offer flood: \(flood) one-chunk documents at once: \(acked) taken, \(refused) refused for now "
               + "(\(rate)/s, bursts of \(burst)); honest commune's document received and receipted in "
               + String(format: "%.2f s (%.2f s before the flood)", latency, quiet))
        #expect(acked + refused == flood)
        // At the default 5,000/s the district's own pace (a debug build takes about 2,000 offers a
        // second) is below the rate, so a flood is paced by the node and nothing needs refusing;
        // the suite's lower rate shows the bucket refusing what is beyond it.
        if !Self.full { #expect(refused > 0 && acked >= burst) }
        #expect(latency < 30)
    }

    @Test func repeatedSendFromIsAnsweredWithinTheResendBudget() async throws {
        let net = try TestNetwork()
        try net.start([district1])
        defer { net.stopAll() }
        // A 1 MiB document the district holds for the hostile commune.
        let file = try net.randomFile("bao-cao.bin", size: 1 << 20)
        let repeats = Self.full ? 10_000 : 1000
        let id = try net.send(from: district1, to: commune11, subject: "Báo cáo", files: [file])
        let received = try await HostilePeer.session(home: net.home(commune11), target: district1) { peer in
            var offered: EnvelopeID?
            while offered == nil {
                guard let m = try await peer.next() else { break }
                if case .offer(let header, _) = m { offered = try EnvelopeHeader.parse(header).id }
            }
            let envelope = try #require(offered)
            #expect(envelope.hex == id)
            // SEND_FROM 0, a thousand times, then a PING: its PONG says all were read. Chunks
            // still coming are counted until the district's next keepalive PING (2 s later).
            var bytes = 0, ponged = false
            let asks = Array(repeating: SessionMessage.sendFrom(envelope, 0), count: repeats)
            try await peer.send(asks + [.ping(999_999)])
            while let m = try await peer.next() {
                switch m {
                case .chunk(_, _, let data): bytes += data.count
                case .pong(999_999): ponged = true
                case .ping where ponged: return bytes
                default: break
                }
            }
            return bytes
        }
        report("repeated SEND_FROM 0 ×\(repeats) for a 1 MiB envelope: \(received / 1024) KiB sent (unbounded: "
               + "~\(repeats) MiB)")
        #expect(received <= (1 << 20) + 4 * (2 << 20) + (2 << 20) + 4 * (64 << 10))
        #expect(try net.json(QueueCount.self, district1, "queue", "list").count == 1)  // still queued, not lost
    }

    @Test func aHelloFloodFromAStrangerIsOneLogLine() async throws {
        let net = try TestNetwork()
        try net.start([district1])
        defer { net.stopAll() }
        let logBefore = net.log(district1).count
        // Commune 2.1 is no neighbour of district 1: 2,000 HELLOs (20,000 at full scale), each refused.
        let hellos = Self.full ? 20_000 : 2000
        let start = Date()
        var refused = 0
        let identity = try NodeIdentity(home: net.home(commune21))
        for _ in 0..<hellos {
            let connection = try await HostilePeer.connect(home: net.home(commune21), to: district1)
            let target = try NodeID(district1)
            var dialler = HandshakeDialler(identity: DiallerIdentity(
                network: identity.topology.network, me: identity.id, keys: identity.signingKeys, target: target,
                targetKey: try #require(identity.topology[target]?.signingKey)))
            let answer = try await connection.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: dialler.start(now: HostilePeer.now())))
                var frames = inbound.makeAsyncIterator()
                return try await frames.next().map { Array(buffer: $0) }
            }
            if answer?.first == HandshakeFrame.refuse.rawValue { refused += 1 }
        }
        #expect(refused == hellos)
        let added = net.log(district1).dropFirst(logBefore)
        let lines = added.split(separator: "\n").filter { $0.contains("handshake refused") }
        report("HELLO flood: \(hellos) refused, \(lines.count) log line(s), \(added.utf8.count) bytes of log")
        // One line per source and minute, then one with the count.
        #expect(lines.count <= 2 * (1 + Int(Date().timeIntervalSince(start) / 60)))
        #expect(try ControlClient(socketPath: net.home(district1) + "/control.sock").call(.status).ok)
    }

    func spoolBytes(_ net: TestNetwork, _ node: String) throws -> Int {
        try ["spool.sqlite", "spool.sqlite-wal"].reduce(0) { total, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: net.home(node) + "/" + name)
            return total + ((attributes?[.size] as? Int) ?? 0)
        }
    }
}

struct PartialList: Decodable {
    struct Entry: Decodable { let id: String, peer: String, declaredBytes: UInt64 }
    let count: Int
    let entries: [Entry]
}

struct QueueCount: Decodable { let count: Int }
