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
        let server = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0) { CuttingProxy.raw($0) }
        let port = try #require(server.channel.localAddress?.port)
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
            try await client.channel.close()
        }
        try await server.channel.close()
    }
}
