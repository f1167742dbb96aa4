import Envelope
import Foundation
import SodiumKit
import Spool

/// Spool throughput with full durability (WAL, synchronous=FULL, one fsync per commit), next to
/// raw SQLite inserts of the same bytes measured in the same run.
func spoolBench() throws {
    let runs = argument("--runs", default: 3)
    let listCount = argument("--list", default: 100_000)
    let p = try Parties()
    let dir = NSTemporaryDirectory() + "lienthong-spoolbench-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let peer = try NodeID("000.01.00.H27")
    var fileCounter = 0
    func freshPath() -> String {
        fileCounter += 1
        return "\(dir)/s\(fileCounter).sqlite"
    }

    func sealed(_ size: Int, chunkSize: Int = SealParameters.defaultChunkSize) throws -> IncomingEnvelope {
        var params = p.parameters()
        params.chunkSize = chunkSize
        let body = MemorySink()
        let s = try EnvelopeSealer.seal(
            params, signer: p.origin, payloadSize: UInt64(size), source: MemorySource(Sodium.randomBytes(size)),
            body: body)
        let layout = s.header.layout
        let chunks = layout.split(body: body.bytes)
        return IncomingEnvelope(
            verifier: try ChunkVerifier(header: s.header, table: s.table), chunks: chunks, from: "000.00.00.H27",
            custody: Custody(nextHops: [peer: [p.recipientID]], deliverLocally: false))
    }
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    print("spool: WAL + synchronous=FULL, \(runs) runs each, median")

    // 1. 4 KiB envelopes: accept (store + enqueue + seen + audit), one per transaction and batched.
    let small = try (0..<3000).map { _ in try sealed(4096) }
    var single: [Double] = []
    var batched: [Double] = []
    for _ in 0..<runs {
        let a = try Spool(path: freshPath())
        single.append(Double(500) / (try seconds { for e in small.prefix(500) { _ = try a.accept(e, now: now) } }))
        let b = try Spool(path: freshPath())
        batched.append(
            Double(small.count)
                / (try seconds {
                    var i = 0
                    while i < small.count {
                        _ = try b.acceptBatch(Array(small[i..<min(small.count, i + 100)]), now: now)
                        i += 100
                    }
                }))
    }
    print(
        String(
            format: "accept 4 KiB envelopes: %.0f/s one per transaction, %.0f/s batched (100 per transaction)",
            median(single), median(batched)))

    // 2. A 100 MiB envelope, chunk by chunk (64 per transaction), next to raw inserts of the same bytes.
    let big = try sealed(100 << 20)
    var spoolRates: [Double] = []
    var rawRates: [Double] = []
    let bodyBytes = Double(big.header.layout.bodySize)
    for _ in 0..<runs {
        let s = try Spool(path: freshPath())
        spoolRates.append(
            bodyBytes / 1e6
                / (try seconds {
                    _ = try s.begin(big.verifier, from: "000.00.00.H27", now: now)
                    var i = 0
                    while i < big.chunks.count {
                        try s.appendChunks(
                            big.verifier, first: i, chunks: Array(big.chunks[i..<min(big.chunks.count, i + 64)]))
                        i += 64
                    }
                    _ = try s.complete(big.header.id, custody: big.custody, now: now)
                }))
        rawRates.append(
            bodyBytes / 1e6 / (try SpoolBaseline.rawInsert(path: freshPath(), chunks: big.chunks, batch: 64)))
    }
    print(
        String(
            format: "100 MiB envelope: spool chunk writes %.0f MB/s, raw SQLite inserts %.0f MB/s (%.0f%% of raw)",
            median(spoolRates), median(rawRates), 100 * median(spoolRates) / median(rawRates)))

    // 3. Listing a queue of `listCount` entries.
    let l = try Spool(path: freshPath())
    var made = 0
    while made < listCount {
        var batch: [IncomingEnvelope] = []
        for _ in 0..<min(1000, listCount - made) {
            // Distinct envelopes, cheaply: re-sealing 64 bytes is fast enough.
            batch.append(try sealed(64, chunkSize: 1024))
        }
        _ = try l.acceptBatch(batch, now: now + Int64(made))
        made += batch.count
    }
    var listTimes: [Double] = []
    var listed = 0
    for _ in 0..<runs { listTimes.append(try seconds { listed = try l.queueEntries().count }) }
    print(String(format: "queue listing: %d entries in %.3f s", listed, median(listTimes)))
}
