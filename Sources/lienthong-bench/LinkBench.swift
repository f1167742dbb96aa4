import Envelope
import Foundation
import Link
import Logging
import NIOCore
import NIOPosix
import SodiumKit
import Spool
import Topology

/// Two nodes on loopback (district → hub, the real link code and real spools), next to raw NIO
/// loopback throughput and the spool's durable chunk-write rate, measured in the same run.
func linkBench() async throws {
    let small = argument("--small", default: 5000)
    let runs = argument("--runs", default: 3)
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let pool = NIOThreadPool(numberOfThreads: 2)
    pool.start()
    print("link: district → hub on 127.0.0.1, WAL + synchronous=FULL at both ends, median of \(runs) runs")

    var raw: [Double] = []
    var smallRates: [Double] = []
    var largeRates: [Double] = []
    var spoolRates: [Double] = []
    // `--only-small 1`: just the small-envelope transfer (for profiling it).
    let onlySmall = argument("--only-small", default: 0) == 1
    for _ in 0..<runs {
        if !onlySmall { raw.append(try await rawLoopbackMBps(group: group, bytes: 1 << 30)) }
        let net = try BenchNet(group: group, pool: pool)
        defer { net.cleanup() }
        try net.send(count: small, size: 4096)
        let cpu0 = cpuSeconds()
        smallRates.append(Double(small) / (try await net.transfer(expect: small)))
        if onlySmall {
            print(
                String(
                    format: "CPU (user+sys, both nodes) per envelope: %.0f µs",
                    (cpuSeconds() - cpu0) / Double(small) * 1e6))
            continue
        }
        let net2 = try BenchNet(group: group, pool: pool)
        defer { net2.cleanup() }
        for _ in 0..<5 { try net2.send(count: 1, size: 20 << 20) }
        let body = Double(try net2.district.queueEntries().reduce(0) { $0 + $1.bodySize })
        largeRates.append(body / 1e6 / (try await net2.transfer(expect: 5)))
        spoolRates.append(try net2.spoolWriteMBps())
    }
    try await pool.shutdownGracefully()
    try await group.shutdownGracefully()
    if onlySmall {
        print(String(format: "link, %d × 4 KiB durable envelopes: %.0f envelopes/s", small, median(smallRates)))
        return
    }
    print(String(format: "raw NIO loopback (1 GiB, one connection): %.0f MB/s", median(raw)))
    print(String(format: "spool durable chunk writes (20 MiB envelope): %.0f MB/s", median(spoolRates)))
    print(String(format: "link, %d × 4 KiB durable envelopes: %.0f envelopes/s", small, median(smallRates)))
    print(
        String(
            format: "link, 5 × 20 MiB: %.0f MB/s (%.0f%% of raw loopback, %.0f%% of the spool's durable write rate)",
            median(largeRates), 100 * median(largeRates) / median(raw), 100 * median(largeRates) / median(spoolRates)))
}

/// A hub and one district with fresh keys and spools in a temporary directory.
final class BenchNet: @unchecked Sendable {
    let dir = NSTemporaryDirectory() + "lienthong-linkbench-\(UUID().uuidString)"
    let topology: Topology
    let keys: [NodeID: (SigningKeyPair, BoxKeyPair)]
    let hubID: NodeID, districtID: NodeID
    let hub: Spool, district: Spool
    let group: any EventLoopGroup
    let pool: NIOThreadPool

    init(group: any EventLoopGroup, pool: NIOThreadPool) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var t = try Topology.load(path: "Topology/small.json")
        var k: [NodeID: (SigningKeyPair, BoxKeyPair)] = [:]
        for n in t.nodes {
            let pair = (SigningKeyPair(), BoxKeyPair())
            k[n.id] = pair
            t = t.settingKeys(for: n.id, signing: pair.0.publicKey, encryption: pair.1.publicKey)
        }
        topology = t
        keys = k
        hubID = t.root.id
        districtID = t.children(of: t.root.id)[0]
        hub = try Spool(path: dir + "/hub.sqlite")
        district = try Spool(path: dir + "/district.sqlite")
        self.group = group
        self.pool = pool
    }

    /// Queues `count` envelopes at the district (set-up, not timed: one transaction per 1,000).
    func send(count: Int, size: Int) throws {
        var batch: [IncomingEnvelope] = []
        for i in 0..<count {
            batch.append(try envelope(size: size))
            if batch.count == 1000 || i == count - 1 {
                _ = try district.acceptBatch(batch, now: Int64(Date().timeIntervalSince1970 * 1000))
                batch.removeAll()
            }
        }
    }

    func envelope(size: Int) throws -> IncomingEnvelope {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let params = SealParameters(
            kind: .document, urgency: .thuong, origin: districtID,
            recipients: [SealRecipient(id: hubID, encryptionKey: keys[hubID]!.1.publicKey)],
            createdAt: now, expiresAt: now + 3_600_000)
        let body = MemorySink()
        let s = try EnvelopeSealer.seal(
            params, signer: keys[districtID]!.0, payloadSize: UInt64(size),
            source: MemorySource(Sodium.randomBytes(size)), body: body)
        let layout = s.header.layout
        let chunks = layout.split(body: body.bytes)
        return IncomingEnvelope(
            verifier: try ChunkVerifier(header: s.header, table: s.table), chunks: chunks, from: "local",
            custody: Custody(nextHops: [hubID: [hubID]], deliverLocally: false))
    }

    func context(_ id: NodeID, _ spool: Spool) -> LinkContext {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        return LinkContext(
            me: id, keys: keys[id]!.0, topology: topology, spool: spool, blockingPool: pool, logger: logger)
    }

    /// Starts the hub's listener and the district's link; returns the seconds until `expect`
    /// envelopes are durably in the hub's inbox.
    func transfer(expect: Int) async throws -> Double {
        let hubContext = context(hubID, hub)
        let districtContext = context(districtID, district)
        let (ports, cont) = AsyncStream.makeStream(of: Int.self)
        let group = self.group
        let hubID = self.hubID
        let hub = self.hub
        // Listener and link are child tasks: cancelled (and awaited) when the count is reached.
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await LinkEndpoints.listen(
                    host: "127.0.0.1", port: 0, context: hubContext, group: group, onBound: { cont.yield($0) })
            }
            var it = ports.makeAsyncIterator()
            guard let port = await it.next() else { throw BenchError(description: "listener did not start") }
            let start = ContinuousClock.now
            tasks.addTask {
                _ = try await LinkEndpoints.dial(
                    hubID, at: try Endpoint(host: "127.0.0.1", port: port), context: districtContext, group: group)
            }
            // A count, polled every 10 ms: listing the inbox here would compete with the link for the CPU.
            while try hub.inboxCount() < expect {
                try await Task.sleep(for: .milliseconds(10))
                guard ContinuousClock.now - start < .seconds(600) else {
                    throw BenchError(description: "transfer did not finish")
                }
            }
            let d = ContinuousClock.now - start
            tasks.cancelAll()
            while (try? await tasks.next()) != nil {}
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
    }

    /// The spool's durable chunk-write rate for one 20 MiB envelope (64 chunks per transaction).
    func spoolWriteMBps() throws -> Double {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let params = SealParameters(
            kind: .document, urgency: .thuong, origin: districtID,
            recipients: [SealRecipient(id: hubID, encryptionKey: keys[hubID]!.1.publicKey)], createdAt: now,
            expiresAt: now + 3_600_000)
        let body = MemorySink()
        let s = try EnvelopeSealer.seal(
            params, signer: keys[districtID]!.0, payloadSize: 20 << 20,
            source: MemorySource(Sodium.randomBytes(20 << 20)), body: body)
        let layout = s.header.layout
        let chunks = layout.split(body: body.bytes)
        let spool = try Spool(path: dir + "/write.sqlite")
        let verifier = try ChunkVerifier(header: s.header, table: s.table)
        let t = try seconds {
            _ = try spool.begin(verifier, from: "bench", now: now)
            var i = 0
            while i < chunks.count {
                try spool.appendChunks(verifier, first: i, chunks: Array(chunks[i..<min(chunks.count, i + 64)]))
                i += 64
            }
        }
        return Double(layout.bodySize) / 1e6 / t
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
}

/// Raw NIO loopback: one connection, 64 KiB writes, a server that counts and discards.
func rawLoopbackMBps(group: any EventLoopGroup, bytes: Int) async throws -> Double {
    final class Sink: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var received = 0
        let target: Int
        let done: EventLoopPromise<Void>
        init(target: Int, done: EventLoopPromise<Void>) {
            self.target = target
            self.done = done
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytes
            if received >= target { done.succeed() }
        }
    }
    let done = group.next().makePromise(of: Void.self)
    let server = try await ServerBootstrap(group: group).serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { ch in
            ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(Sink(target: bytes, done: done))
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    let client = try await ClientBootstrap(group: group).connect(
        host: "127.0.0.1", port: server.localAddress?.port ?? 0
    ).get()
    let chunk = ByteBuffer(bytes: Sodium.randomBytes(64 << 10))
    let start = ContinuousClock.now
    var sent = 0
    while sent < bytes {
        // Respect writability, as the link does.
        try await client.eventLoop.submit { client.write(chunk, promise: nil) }.get()
        sent += chunk.readableBytes
        if sent % (8 << 20) == 0 { try await client.writeAndFlush(ByteBuffer()).get() }
    }
    client.flush()
    try await done.futureResult.get()
    let d = ContinuousClock.now - start
    try await client.close()
    try await server.close()
    return Double(bytes) / 1e6 / (Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
}

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(
        u.ru_stime.tv_usec) / 1e6
}
