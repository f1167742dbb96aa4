import Foundation
import NIOCore
import NIOPosix
import Envelope
import Synchronization

/// A seeded, deterministic TCP proxy on 127.0.0.1 that cuts each connection after a random number
/// of client→server bytes (the first `maxCuts` connections), so tests can break links mid-frame.
final class CuttingProxy: Sendable {
    let upstreamPort: Int
    let cutRange: ClosedRange<Int>
    let maxCuts: Int
    let forwardedUp = Atomic<Int>(0)
    let cuts = Atomic<Int>(0)
    private let rng: Locked<SplitMix64>

    init(upstreamPort: Int, seed: UInt64, cutRange: ClosedRange<Int>, maxCuts: Int) {
        self.upstreamPort = upstreamPort
        self.cutRange = cutRange
        self.maxCuts = maxCuts
        rng = Locked(SplitMix64(seed: seed))
    }

    static func raw(_ channel: any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> {
        channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
    }

    /// Starts listening; returns the port and the task serving connections (cancel it to stop).
    func start(group: any EventLoopGroup) async throws -> (Int, Task<Void, any Error>) {
        let server = try await ServerBootstrap(group: group).serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { Self.raw($0) }
        let port = server.channel.localAddress?.port ?? 0
        let task = Task {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { tasks in
                    for try await client in connections {
                        tasks.addTask { try? await self.relay(client, group: group) }
                    }
                }
            }
        }
        return (port, task)
    }

    private func relay(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, group: any EventLoopGroup) async throws {
        let upstream = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: upstreamPort) { Self.raw($0) }
        let budget: Int = cuts.load(ordering: .relaxed) < maxCuts ? rng.withLock { Int($0.next() % UInt64(cutRange.count)) + cutRange.lowerBound } : .max
        try await client.executeThenClose { cin, cout in
            try await upstream.executeThenClose { uin, uout in
                await withThrowingTaskGroup(of: Void.self) { g in
                    g.addTask {
                        var sent = 0
                        for try await var buffer in cin {
                            if sent + buffer.readableBytes > budget {
                                // Deliver exactly `budget` bytes (flushed to the socket), then cut:
                                // the client is dropped; the server sees the stream end (FIN, so
                                // nothing it already received is destroyed by a reset).
                                if let part = buffer.readSlice(length: budget - sent) { try await upstream.channel.writeAndFlush(part) }
                                self.forwardedUp.wrappingAdd(budget - sent, ordering: .relaxed)
                                self.cuts.wrappingAdd(1, ordering: .relaxed)
                                client.channel.close(promise: nil)
                                try await upstream.channel.close(mode: .output)
                                return
                            }
                            sent += buffer.readableBytes
                            // Written and flushed before it is counted: what is counted crossed.
                            try await upstream.channel.writeAndFlush(buffer)
                            self.forwardedUp.wrappingAdd(buffer.readableBytes, ordering: .relaxed)
                        }
                        upstream.channel.close(promise: nil)
                    }
                    g.addTask {
                        // Server → client; after a cut, drained and dropped until the server closes.
                        for try await buffer in uin { try? await cout.write(buffer) }
                        client.channel.close(promise: nil)
                    }
                    while let result = await g.nextResult() {
                        if case .failure = result { break }
                    }
                    g.cancelAll()
                    client.channel.close(promise: nil)
                    upstream.channel.close(promise: nil)
                }
            }
        }
    }
}

/// A small seeded generator (SplitMix64): the same seed gives the same cuts.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
