import Diagnostics
import Envelope
import Logging
import NIOCore
import NIOPosix
import Topology
import Wire

/// Accepting and dialling link connections: the TCP side of the link protocol.
public enum LinkEndpoints {
    /// A channel speaking the link protocol: bounded frame decoder, frame encoder.
    static func configure(
        _ channel: any Channel, maxFrameSize: Int, unsentLowWater: Int? = nil
    ) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> {
        channel.eventLoop.makeCompletedFuture {
            #if os(Linux)
            if let unsentLowWater, let options = channel.syncOptions {
                try options.setOption(
                    .tcpOption(NIOBSDSocket.Option(rawValue: CInt(TCP_NOTSENT_LOWAT))),
                    value: SocketOptionValue(unsentLowWater))
            }
            #endif
            try channel.pipeline.syncOperations.addHandler(
                ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrameSize)))
            try channel.pipeline.syncOperations.addHandler(FrameEncoder())
            return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
    }

    /// Listens on `host:port` (0 picks a port; `onBound` gets it) and serves each neighbour that
    /// connects, until cancelled. `onSession` hears how each connection ended.
    public static func listen(
        host: String, port: Int, context: LinkContext, group: any EventLoopGroup,
        onBound: @Sendable (Int) -> Void = { _ in },
        onSession: @escaping @Sendable (Result<SessionSummary, any Error>) -> Void = { _ in }
    ) async throws {
        let maxFrame = context.configuration.maxFrameSize
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                configure(channel, maxFrameSize: maxFrame, unsentLowWater: context.configuration.unsentLowWater)
            }
        onBound(server.channel.localAddress?.port ?? port)
        try await server.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { tasks in
                for try await connection in connections {
                    tasks.addTask {
                        do { onSession(.success(try await accept(connection, context: context))) } catch {
                            onSession(.failure(error))
                        }
                    }
                }
            }
        }
    }

    /// Dials `target` at `endpoint` and runs one session until it ends.
    public static func dial(
        _ target: NodeID, at endpoint: Endpoint, context: LinkContext, group: any EventLoopGroup
    ) async throws -> SessionSummary {
        let targetKeys = context.live.signingKeys(of: target, now: context.clock())
        guard !targetKeys.isEmpty else {
            throw WireError(.wrongPeer, "\(target) has no signing key in the topology; cannot authenticate it")
        }
        let maxFrame = context.configuration.maxFrameSize
        let connection = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                configure(channel, maxFrameSize: maxFrame, unsentLowWater: context.configuration.unsentLowWater)
            }
        let identity = DiallerIdentity(
            network: context.network, me: context.me, keys: context.linkKeys(), target: target,
            targetKeys: targetKeys)
        return try await connection.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            let deadline = closeAfter(context.configuration.handshakeTimeout, connection.channel)
            var dialler = HandshakeDialler(identity: identity)
            try await outbound.write(ByteBuffer(bytes: dialler.start(now: context.clock())))
            var crypto: SessionCrypto?
            while crypto == nil {
                let next: ByteBuffer?
                do { next = try await frames.next() } catch {
                    // Bytes that are not frames at all (a stranger, a scanner): refused, counted.
                    refusedHandshake(error, connection.channel, context)
                    throw error
                }
                guard let frame = next else {
                    throw WireError(.timeout, "\(target) closed the connection or did not finish the handshake in time")
                }
                switch try dialler.receive(Array(buffer: frame)) {
                case .send(let replies): for r in replies { try await outbound.write(ByteBuffer(bytes: r)) }
                case .established(let c): crypto = c
                }
            }
            deadline.cancel()
            guard let crypto else { throw WireError(.timeout, "handshake did not complete") }
            let session = LinkSession(context: context, crypto: crypto, channel: connection.channel)
            return await session.run(inbound: &frames, outbound: outbound)
        }
    }

    /// Logs (in aggregate) and counts a refused handshake, by its error code.
    static func refusedHandshake(_ error: any Error, _ channel: any Channel, _ context: LinkContext) {
        context.refusals.refused(
            "handshake refused", source: remote(channel), reason: "\(error)", now: context.clock(),
            kind: "handshake-\((error as? any LienThongError)?.errorCode ?? "MALFORMED")")
    }

    /// The acceptor's side of one connection: handshake (refusing with a reason), then the session.
    static func accept(
        _ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, context: LinkContext
    ) async throws -> SessionSummary {
        try await connection.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            let deadline = closeAfter(context.configuration.handshakeTimeout, connection.channel)
            var acceptor = HandshakeAcceptor(identity: context.acceptorIdentity)
            var crypto: SessionCrypto?
            while crypto == nil {
                let next: ByteBuffer?
                do { next = try await frames.next() } catch {
                    // Bytes that are not frames at all (a stranger, a scanner): refused, counted.
                    refusedHandshake(error, connection.channel, context)
                    throw error
                }
                guard let frame = next else {
                    let e = WireError(
                        .timeout,
                        """
                        the dialler closed the connection or did not finish the handshake within \
                        \(context.configuration.handshakeTimeout)
                        """
                    )
                    refusedHandshake(e, connection.channel, context)
                    throw e
                }
                switch acceptor.receive(Array(buffer: frame), now: context.clock()) {
                case .send(let replies):
                    for r in replies { try await outbound.write(ByteBuffer(bytes: r)) }
                case .established(let c, let replies):
                    for r in replies { try await outbound.write(ByteBuffer(bytes: r)) }
                    crypto = c
                case .refuse(let error, let replies):
                    refusedHandshake(error, connection.channel, context)
                    for r in replies { try? await outbound.write(ByteBuffer(bytes: r)) }
                    throw error
                }
            }
            deadline.cancel()
            guard let crypto else { throw WireError(.timeout, "handshake did not complete") }
            let session = LinkSession(context: context, crypto: crypto, channel: connection.channel)
            return await session.run(inbound: &frames, outbound: outbound)
        }
    }

    /// Whether something accepts TCP connections at `endpoint` (connects, then closes at once).
    /// Used to notice that a primary parent is back while linked to a failover parent.
    public static func accepts(_ endpoint: Endpoint, group: any EventLoopGroup) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: group).connectTimeout(.seconds(3))
                .connect(host: endpoint.host, port: endpoint.port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// The remote IP address (without the port, which changes with every connection).
    static func remote(_ channel: any Channel) -> String {
        channel.remoteAddress?.ipAddress ?? "?"
    }

    /// Closes `channel` after `duration` unless cancelled: the handshake deadline.
    static func closeAfter(_ duration: Duration, _ channel: any Channel) -> Scheduled<Void> {
        channel.eventLoop.scheduleTask(in: .milliseconds(duration.milliseconds)) { channel.close(promise: nil) }
    }
}
