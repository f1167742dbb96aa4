import Foundation
@testable import Gate
import Testing
import Control
import Envelope
import Node
import Spool
@testable import Link

/// A Hỏa tốc `send` hands its entries to the live sessions of its next hops (no network: the
/// sessions are stand-ins that register a box, as `LinkSession.run` does).
@Suite struct NodeOperationsHandoffTests {
    func send(_ ops: NodeOperations, urgency: String, dir: String, large: Bool = false) throws -> EnvelopeID {
        let path = dir + "/doc-\(UUID().uuidString).txt"
        let size = large ? (5 << 20) : 4096  // large: sealed into the spool (staging), not in memory
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x61, count: size)))
        let r = try ops.send(SendRequest(to: [commune11, commune21], urgency: urgency, expiresInMs: 3_600_000, subject: "Hỏa tốc", files: [path]))
        return try EnvelopeID(hex: r.id)
    }

    @Test(arguments: [false, true])
    func aHoaTocSendIsHintedToTheLiveSessionAndStaysReadyInTheQueue(large: Bool) throws {
        let net = try TestNetwork()  // provisioned homes only; no daemon is started
        let spool = try Spool(path: net.dir + "/hub-spool.sqlite")
        let signal = QueueSignal()
        let ops = NodeOperations(identity: try NodeIdentity(home: net.home(hub)), spool: spool, queueSignal: signal)
        let d1 = try NodeID(district1), d2 = try NodeID(district2)
        let owner = NSObject(), box = HintBox()
        signal.register(owner, peer: d1, hints: box) {}

        // district 1's session is up: it gets a hint; district 2 has no session. Both entries
        // are ready in the queue: a hint never takes an entry out of it.
        let urgent = try send(ops, urgency: "hoa-toc", dir: net.dir, large: large)
        #expect(try spool.queueEntries(peer: d1, envelope: urgent).map(\.state) == [.ready])
        #expect(try spool.queueEntries(peer: d2, envelope: urgent).map(\.state) == [.ready])
        #expect(box.takeAll().map(\.entry.envelopeID) == [urgent])

        // Not Hỏa tốc: claimed by the session as usual.
        let routine = try send(ops, urgency: "thuong", dir: net.dir, large: large)
        #expect(try spool.queueEntries(peer: d1, envelope: routine).map(\.state) == [.ready])
        #expect(box.takeAll().isEmpty)

        // The session is closing: no hint, the entry waits in the queue for the next session.
        box.close()
        let late = try send(ops, urgency: "hoa-toc", dir: net.dir, large: large)
        #expect(try spool.queueEntries(peer: d1, envelope: late).map(\.state) == [.ready])
        #expect(box.takeAll().isEmpty)
        #expect(try spool.queueEntries(state: .inflight).isEmpty)
    }
}
