import Foundation
import GRDB
import Testing
import Envelope
import Spool
@testable import Link

/// A chunk that does not match the signed digest (here: damaged in the sender's own spool, so
/// the frame around it authenticates) is never stored or forwarded; it is asked for again, and
/// an envelope whose chunks keep failing is refused for now, to be retried.
@Suite(.serialized) struct LinkBadChunkTests {
    @Test(arguments: [3 << 20, 2_000])  // a large envelope (committer path) and a small one (reader path)
    func aChunkThatFailsItsDigestIsAskedForAgainAndNeverStored(size: Int) async throws {
        let net = try LinkTestNet()
        defer { net.shutdown() }
        let hub = LinkTestNet.hub, district = LinkTestNet.district
        let id = try net.send(from: hub, to: [district], size: size)
        let bad = size > 100_000 ? 10 : 0
        let path = "\(net.dir)/\(hub.rawValue).sqlite"
        let damage = try DatabaseQueue(path: path)
        let original = try await damage.read { db in
            try Data.fetchOne(db, sql: "SELECT data FROM chunk WHERE envelope_id = ? AND idx = ?", arguments: [Data(id.bytes), bad])
        }
        var damaged = try #require(original)
        damaged[damaged.startIndex + 100] ^= 0x40
        let broken = damaged
        try await damage.write { db in
            try db.execute(sql: "UPDATE chunk SET data = ? WHERE envelope_id = ? AND idx = ?", arguments: [broken, Data(id.bytes), bad])
        }
        let (port, listener) = try await net.listen(hub)
        let session = try net.dial(district, to: hub, port: port)
        let hubSpool = try net.spool(hub), districtSpool = try net.spool(district)
        // Asked again a few times, then refused for now: the hub defers its entry.
        #expect(try await net.waitUntil { try hubSpool.queueEntries(peer: district).first?.state == .deferred })
        #expect(net.logs.contains("chunk failed verification; asking again"))
        #expect(try hubSpool.queueEntries(peer: district).first?.lastError?.contains("failed verification") == true)
        // Nothing from the bad chunk on was kept; the good prefix was.
        #expect(try districtSpool.inboxEntry(id) == nil)
        #expect(try (districtSpool.storedEnvelope(id)?.chunksStored ?? 0) == bad)
        // The sender's copy is repaired; on retry the envelope completes, intact.
        try await damage.write { db in
            try db.execute(sql: "UPDATE chunk SET data = ? WHERE envelope_id = ? AND idx = ?", arguments: [original, Data(id.bytes), bad])
        }
        try hubSpool.retry(.all(peer: nil), actor: "test", now: Int64(Date().timeIntervalSince1970 * 1000))
        #expect(try await net.waitUntil { try districtSpool.inboxEntry(id) != nil })
        let stored = try #require(try districtSpool.storedEnvelope(id))
        let verifier = try ChunkVerifier(header: stored.header, table: stored.table)
        for (i, c) in try districtSpool.chunks(of: id, from: 0, limit: 1000).enumerated() { try verifier.verify(index: i, ciphertext: c) }
        session.cancel()
        listener.cancel()
        _ = try? await session.value
    }
}
