import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import FlakyLink

/// The flaky-link harness on loopback: an echo server behind a proxy with each kind of fault.
/// Timing checks are lower bounds only (a fault can only make a link slower, never faster).
@Suite struct FlakyProxyTests {
    let group = MultiThreadedEventLoopGroup.singleton

    /// An echo server on 127.0.0.1; returns its port and the task running it.
    func echoServer() async throws -> (Int, Task<Void, any Error>) {
        let server = try await ServerBootstrap(group: group).serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { ch in
                ch.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch) }
            }
        let port = server.channel.localAddress?.port ?? 0
        let task = Task {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { tasks in
                    for try await c in inbound {
                        tasks.addTask { try? await c.executeThenClose { i, o in for try await b in i { try await o.write(b) } } }
                    }
                }
            }
        }
        return (port, task)
    }

    func proxy(_ faults: LinkFaults, upstream: Int, seed: UInt64 = 1) async throws -> (FlakyProxy, Int, Task<Void, any Error>) {
        let p = FlakyProxy(spec: FlakyLinkSpec(name: "test", listenPort: 0, upstreamPort: upstream, faults: faults), seed: seed)
        let (ports, cont) = AsyncStream.makeStream(of: Int.self)
        let group = self.group
        let task = Task { try await p.run(group: group, onBound: { cont.yield($0) }) }
        var it = ports.makeAsyncIterator()
        return (p, await it.next() ?? 0, task)
    }

    /// Sends `bytes` through `port` and reads the echo (until it has them all, or, with
    /// `untilClosed`, until the connection ends); gives up after `readTimeout`.
    func roundTrip(_ port: Int, bytes: [UInt8], untilClosed: Bool = false, readTimeout: Duration = .seconds(60)) async throws -> (received: [UInt8], seconds: Double, closed: Bool) {
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { ch in
            ch.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: ch) }
        }
        let start = ContinuousClock.now
        let channel = client.channel
        let result = try await withThrowingTaskGroup(of: ([UInt8], Bool)?.self) { g in
            g.addTask {
                var received: [UInt8] = []
                var closed = false
                do {
                    try await client.executeThenClose { inbound, outbound in
                        try await outbound.write(ByteBuffer(bytes: bytes))
                        for try await b in inbound {
                            received += Array(buffer: b)
                            if !untilClosed && received.count >= bytes.count { return }
                        }
                        closed = true
                    }
                } catch { closed = true }  // a reset
                return (received, closed)
            }
            g.addTask {
                try await Task.sleep(for: readTimeout)
                return nil
            }
            var outcome: ([UInt8], Bool)?
            for try await r in g {
                if let r { outcome = r; break }
                try? await channel.close()  // the timer: end the read
            }
            g.cancelAll()
            return outcome ?? ([], false)
        }
        let d = ContinuousClock.now - start
        return (result.0, Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18, result.1)
    }

    @Test func aGoodLinkForwardsEveryByteBothWays() async throws {
        let (echo, server) = try await echoServer()
        let (p, port, task) = try await proxy(LinkFaults(), upstream: echo)
        let data = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let r = try await roundTrip(port, bytes: data)
        #expect(r.received == data)
        #expect(p.stats.bytesUp.load(ordering: .relaxed) == data.count && p.stats.bytesDown.load(ordering: .relaxed) == data.count)
        task.cancel(); server.cancel()
    }

    @Test func theBandwidthCapAndLatencyHoldBytesBack() async throws {
        let (echo, server) = try await echoServer()
        let (_, port, task) = try await proxy(LinkFaults(bytesPerSecond: 100_000, latencyMs: 150), upstream: echo)
        let data = [UInt8](repeating: 7, count: 100_000)
        let r = try await roundTrip(port, bytes: data, readTimeout: .seconds(120))  // a loaded machine is slow, never fast
        #expect(r.received == data)
        // 100 kB each way at 100 kB/s, plus 150 ms each way: at least ~1 s in all (lower bound only).
        #expect(r.seconds >= 0.9)
        task.cancel(); server.cancel()
    }

    @Test(arguments: [false, true])
    func aCutEndsTheConnectionWithAFinOrAReset(reset: Bool) async throws {
        let (echo, server) = try await echoServer()
        // Long enough for the echo to come back on a loaded machine, short next to the timeout.
        let (p, port, task) = try await proxy(LinkFaults(cutEveryMs: [1500, 2000], reset: reset), upstream: echo)
        // Ask for more than will ever come back: the cut ends it.
        let r = try await roundTrip(port, bytes: [1, 2, 3], untilClosed: true, readTimeout: .seconds(20))
        #expect([1, 2, 3].starts(with: r.received))  // what came back before the cut is the echo
        #expect(r.seconds >= 1.4 && r.seconds < 59)  // ended by the cut, not by the read timeout
        #expect(p.stats.cuts.load(ordering: .relaxed) == 1)
        task.cancel(); server.cancel()
    }

    @Test func aBlackHoledLinkHangsThenComesBack() async throws {
        // Two links, so that no timing matters: one inside a long black-hole window, one whose
        // window is over.
        let (echo, server) = try await echoServer()
        let (_, dead, task1) = try await proxy(LinkFaults(blackholeMs: [[0, 600_000]]), upstream: echo)
        let during = try await roundTrip(dead, bytes: [9], untilClosed: true, readTimeout: .seconds(1))
        #expect(during.received.isEmpty && during.seconds >= 0.9)  // accepted, then nothing until our own timeout
        let (_, back, task2) = try await proxy(LinkFaults(blackholeMs: [[0, 1]]), upstream: echo)
        try await Task.sleep(for: .milliseconds(5))
        let after = try await roundTrip(back, bytes: [9, 9])
        #expect(after.received == [9, 9])
        task1.cancel(); task2.cancel(); server.cancel()
    }

    @Test func theSameSeedGivesTheSameFaults() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let x = (0..<5).map { _ in Int64.random(in: 1000...5000, using: &a) }
        #expect(x == (0..<5).map { _ in Int64.random(in: 1000...5000, using: &b) })
        #expect(x != (0..<5).map { _ in Int64.random(in: 1000...5000, using: &c) })
    }
}
