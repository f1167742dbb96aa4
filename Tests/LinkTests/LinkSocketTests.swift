import NIOCore
import NIOPosix
import Testing
@testable import Link

/// The socket options a link sets on its TCP connections (127.0.0.1 only).
@Suite struct LinkSocketTests {
    /// Few unsent bytes in the kernel, so an urgent envelope does not queue behind MiBs of bulk.
    @Test func linkSocketsKeepFewUnsentBytesInTheKernel() async throws {
        #expect(LinkConfiguration().unsentLowWater == 128 << 10)
        let group = MultiThreadedEventLoopGroup.singleton
        // A plain listener: async-channel wrappers of accepted connections that nobody runs may be
        // released before their channel turns active, which NIO treats as a fatal misuse (seen
        // once in CI, in this test's own listener or client).
        let server = try await ServerBootstrap(group: group).childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let option = ChannelOptions.tcpOption(NIOBSDSocket.Option(rawValue: CInt(TCP_NOTSENT_LOWAT)))
        for setting in [128 << 10, 64 << 10, nil] as [Int?] {
            let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) {
                LinkEndpoints.configure($0, maxFrameSize: 1 << 20, unsentLowWater: setting)
            }
            let value = try await client.channel.getOption(option).get()
            if let setting {
                #expect(value == SocketOptionValue(setting))
            } else {
                #expect(value != SocketOptionValue(128 << 10) && value != SocketOptionValue(64 << 10))  // the kernel's default: no limit
            }
            try await client.executeThenClose { _, _ in }
        }
        try await server.close()
    }
}
