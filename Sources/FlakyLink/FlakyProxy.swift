import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Counters of one proxied link.
public final class FlakyStats: Sendable {
    public let connections = Atomic<Int>(0)
    public let cuts = Atomic<Int>(0)
    /// Bytes forwarded towards the upstream (the parent) and back.
    public let bytesUp = Atomic<Int>(0)
    public let bytesDown = Atomic<Int>(0)
    public init() {}
}

/// One flaky link: accepts on 127.0.0.1 and forwards each connection to the upstream, applying
/// `LinkFaults`. Runs until cancelled.
public struct FlakyProxy: Sendable {
    public let spec: FlakyLinkSpec
    public let seed: UInt64
    public let stats = FlakyStats()
    /// Milliseconds on a monotonic clock since the proxy was created (the black-hole windows' origin).
    private let origin = ContinuousClock.now

    public init(spec: FlakyLinkSpec, seed: UInt64) {
        self.spec = spec
        self.seed = seed
    }

    func elapsedMs() -> Int64 {
        let d = ContinuousClock.now - origin
        return d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    public func run(group: any EventLoopGroup, onBound: @Sendable (Int) -> Void = { _ in }) async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: spec.listenPort) { ch in
                ch.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch)
                }
            }
        onBound(server.channel.localAddress?.port ?? spec.listenPort)
        var rng = SeededRandom(seed: seed)
        try await server.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { tasks in
                for try await connection in inbound {
                    let connectionSeed = rng.next()
                    tasks.addTask { await self.serve(connection, seed: connectionSeed, group: group) }
                }
            }
        }
    }

    private func serve(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, seed: UInt64, group: any EventLoopGroup) async
    {
        stats.connections.wrappingAdd(1, ordering: .relaxed)
        var rng = SeededRandom(seed: seed)
        let faults = spec.faults
        // A black-holed link accepts and then hangs: the dialler times out on its own.
        if let end = faults.blackholeEnd(at: elapsedMs()) {
            try? await Task.sleep(for: .milliseconds(end - elapsedMs()))
            try? await client.executeThenClose { _, _ in }  // finishes the writer too (NIO requires it)
            return
        }
        let upstream: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            upstream = try await ClientBootstrap(group: group).channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: spec.upstreamHost, port: spec.upstreamPort) { ch in
                    ch.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch)
                    }
                }
        } catch {
            try? await client.executeThenClose { _, _ in }  // finishes the writer too (NIO requires it)
            return
        }
        let cutAfter: Int64? = faults.cutEveryMs.flatMap { r in
            r.count == 2 && r[0] <= r[1] ? Int64.random(in: r[0]...r[1], using: &rng) : nil
        }
        let channels = [client.channel, upstream.channel]
        do {
            try await client.executeThenClose { clientIn, clientOut in
                try await upstream.executeThenClose { upIn, upOut in
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { await self.pump(clientIn, to: upOut, up: true) }
                        group.addTask { await self.pump(upIn, to: clientOut, up: false) }
                        if let cutAfter {
                            group.addTask { try? await Task.sleep(for: .milliseconds(cutAfter)) }
                        }
                        await group.next()
                        if cutAfter != nil { self.stats.cuts.wrappingAdd(1, ordering: .relaxed) }
                        if faults.reset == true {
                            // SO_LINGER 0: close sends RST, whatever frame was half-way.
                            for ch in channels {
                                if let provider = ch as? any SocketOptionProvider {
                                    _ = try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                                }
                            }
                        }
                        for ch in channels { try? await ch.close() }
                        group.cancelAll()
                    }
                }
            }
        } catch {}
    }

    /// Copies one direction, applying black-hole windows, latency and the bandwidth cap.
    private func pump(
        _ input: NIOAsyncChannelInboundStream<ByteBuffer>, to output: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        up: Bool
    ) async {
        func count(_ n: Int) {
            if up {
                stats.bytesUp.wrappingAdd(n, ordering: .relaxed)
            } else {
                stats.bytesDown.wrappingAdd(n, ordering: .relaxed)
            }
        }
        let faults = spec.faults
        let rate = faults.bytesPerSecond.map { max(1, $0) }
        // Pacing: the earliest time (ms) the next byte may leave.
        var paceAt: Int64 = 0
        do {
            for try await var buffer in input {
                let arrived = elapsedMs()
                if let end = faults.blackholeEnd(at: arrived) {
                    try await Task.sleep(for: .milliseconds(end - arrived))
                }
                if let latency = faults.latencyMs, latency > 0 {
                    let due = arrived + latency
                    let now = elapsedMs()
                    if due > now { try await Task.sleep(for: .milliseconds(due - now)) }
                }
                if let rate {
                    // Slices of at most 1/20 s worth of bytes, each sent at its paced time.
                    let slice = max(1, rate / 20)
                    while buffer.readableBytes > 0 {
                        let n = min(slice, buffer.readableBytes)
                        let part = buffer.readSlice(length: n)!
                        let now = elapsedMs()
                        if paceAt > now { try await Task.sleep(for: .milliseconds(paceAt - now)) }
                        paceAt = max(paceAt, now) + Int64(n) * 1000 / Int64(rate)
                        try await output.write(part)
                        count(n)
                    }
                } else {
                    count(buffer.readableBytes)
                    try await output.write(buffer)
                }
            }
        } catch {}
    }
}
