import Control
import Envelope
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The control server: one JSON request and one answer per connection on `DIR/control.sock`,
/// each request run by `NodeOperations` off the event loops; the files a request reads or writes
/// travel over the socket (`ControlFiles`), so the daemon never opens a caller's path.
///
/// Security note: anyone who can open the socket can operate the node, so it is created 0660
/// (owner and the daemon's group, whose members are the node's operators) inside the 0710 home,
/// every action is audited with the caller's account from `SO_PEERCRED`, and a live socket of
/// another daemon is never taken over. Requests are
/// untrusted bytes: the line is size-checked as it arrives (`LineFramer`) before decoding, must
/// arrive within `ControlLimits.requestDeadlineSeconds`, and at most `maxConnections` are served
/// at once; every number in a request is checked before arithmetic (`NodeOperations`).
struct ControlService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        let path = runtime.identity.home.controlSocketPath
        if (try? ControlClient(socketPath: path, timeoutSeconds: 2).call(.status)) != nil {
            throw NodeError(
                .nodeAlreadyRunning, "another lienthongd answers on \(path); stop it before starting this one")
        }
        let server = try await ServerBootstrap(group: runtime.group)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The request line must be in before the deadline; `serve` cancels it then.
                    let deadline = channel.eventLoop.scheduleTask(
                        in: .seconds(Int64(ControlLimits.requestDeadlineSeconds))
                    ) {
                        channel.close(promise: nil)
                    }
                    channel.closeFuture.whenComplete { _ in deadline.cancel() }
                    // Who is on the other end, from the kernel (SO_PEERCRED), not from the request.
                    let peer =
                        (channel as? any SocketOptionProvider)?.unsafeGetSocketOption(
                            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
                        as EventLoopFuture<PeerCredentials>?
                    return Connection(
                        channel: try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel),
                        deadline: deadline, peer: peer)
                }
            }
        // Owner and group: operators are members of the daemon's group (`lienthong`), and the home
        // is 0710 so they can reach the socket without reading anything else in it.
        guard chmod(path, 0o660) == 0 else {
            throw NodeError(
                .nodeControlSocket, "cannot make \(path) owner-and-group only: \(String(cString: strerror(errno)))")
        }
        runtime.logger.info("control socket ready", metadata: ["path": "\(path)"])
        // The spool is open (the runtime opened it) and the control socket answers: ready.
        SystemdNotifier().notify("READY=1")
        defer { unlink(path) }
        try await untilShutdown {
            try await server.executeThenClose { connections in
                let active = NIOLockedValueBox(0)
                try await withThrowingDiscardingTaskGroup { tasks in
                    for try await connection in connections {
                        let admitted = active.withLockedValue { n in
                            guard n < ControlLimits.maxConnections else { return false }
                            n += 1
                            return true
                        }
                        tasks.addTask {
                            guard admitted else { return await self.refuseBusy(connection.channel) }
                            await self.serve(connection)
                            active.withLockedValue { $0 -= 1 }
                        }
                    }
                }
            }
        }
    }

    /// An accepted connection and the close scheduled for when its request is late.
    struct Connection: Sendable {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let deadline: Scheduled<Void>
        let peer: EventLoopFuture<PeerCredentials>?
    }

    /// `struct ucred` (pid, uid, gid), which Swift's Glibc module does not import (it needs _GNU_SOURCE).
    struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// `operator:NAME` for the caller's uid, as the kernel reports it; nil when it cannot tell.
    static func actor(_ peer: EventLoopFuture<PeerCredentials>?) async -> String? {
        guard let credentials = try? await peer?.get() else { return nil }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(credentials.uid, &entry, &buffer, buffer.count, &result) == 0, let found = result {
            return "operator:\(String(cString: found.pointee.pw_name))"
        }
        return "operator:uid-\(credentials.uid)"
    }

    /// Over the connection cap: answered at once, so a flood of idle connections costs one
    /// descriptor each for no longer than the request deadline.
    private func refuseBusy(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let busy = ControlResponse.failure(
            ControlError(
                .busy,
                "the node is serving "
                    + "\(ControlLimits.maxConnections) control connections; try again in a few seconds"))
        let bytes = try? ControlCodec.encode(busy)
        try? await channel.executeThenClose { _, _ in
            try await channel.channel.writeAndFlush(ByteBuffer(bytes: bytes ?? [])).get()
        }
    }

    private func serve(_ accepted: Connection) async {
        let connection = accepted.channel
        // Every write waits until it is on the socket: NIOAsyncChannel's writer returns before the
        // bytes leave, and closing the channel then drops what is still buffered — an export of a
        // few hundred KiB came out truncated (swift-nio#2795).
        let channel = connection.channel
        @Sendable func reply(_ bytes: [UInt8]) async throws {
            try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        }
        do {
            try await connection.executeThenClose { inbound, _ in
                var stream = ControlStream(inbound: inbound.makeAsyncIterator())
                let line: [UInt8]
                do {
                    guard let read = try await stream.line(max: ControlLimits.maxRequestBytes) else { return }
                    line = read
                } catch {
                    try await reply(try ControlCodec.encode(ControlResponse.failure(error)))
                    return
                }
                accepted.deadline.cancel()  // the request is in; running it may take long
                let files = ControlFiles(home: runtime.identity.home.path)
                defer { files.remove() }
                var response: ControlResponse
                var downloads: [String] = []
                do {
                    let decoded = try ControlCodec.decodeRequestLine(line)
                    var request = try await files.receive(decoded, from: &stream)
                    let output = decoded.download ? try files.redirectOutput(&request) : nil
                    response = await self.answer(request, actor: await Self.actor(accepted.peer))
                    if response.ok, let output {
                        (response.downloads, downloads) = try files.collect(output)
                    }
                } catch {
                    response = .failure(error)
                }
                try await reply(try ControlCodec.encode(response))
                for path in downloads { try await ControlFiles.send(path, with: reply) }
            }
        } catch {
            runtime.logger.debug("control connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func answer(_ request: ControlRequest, actor: String?) async -> ControlResponse {
        var request = request
        // The audit log names the caller's real account: the request's own claim is replaced.
        var operations = runtime.operations
        if let actor {
            operations = operations.acting(actor: actor)
            if case .queue(var action) = request {
                action.actor = actor
                request = .queue(action)
            }
        }
        do {
            let result = try await runtime.controlBlocking { [operations, request] in
                try operations.perform(request)
            }
            return .success(result)
        } catch {
            let response = ControlResponse.failure(error)
            runtime.logger.notice(
                "control request refused",
                metadata: [
                    "code": "\(response.error?.code ?? "")", "message": "\(response.error?.message.prefix(300) ?? "")",
                ])
            return response
        }
    }
}
