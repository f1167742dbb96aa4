#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Control

/// The control server: one JSON request and one answer per connection on `DIR/control.sock`
/// (owner-only), each request run by `NodeOperations` off the event loops.
///
/// Security note: anyone who can open the socket can operate the node, so it is created 0600
/// inside the 0700 home, and a live socket of another daemon is never taken over. Requests are
/// untrusted bytes: the line is size-checked as it arrives (`LineFramer`) before decoding.
struct ControlService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        let path = runtime.identity.home.controlSocketPath
        if (try? ControlClient(socketPath: path, timeoutSeconds: 2).call(.status)) != nil {
            throw NodeError("NODE-ALREADY-RUNNING", "another lienthongd answers on \(path); stop it before starting this one")
        }
        let server = try await ServerBootstrap(group: runtime.group)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        guard chmod(path, 0o600) == 0 else {
            throw NodeError("NODE-CONTROL-SOCKET", "cannot make \(path) owner-only: \(String(cString: strerror(errno)))")
        }
        runtime.logger.info("control socket ready", metadata: ["path": "\(path)"])
        defer { unlink(path) }
        try await untilShutdown {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { tasks in
                    for try await connection in connections {
                        tasks.addTask { await self.serve(connection) }
                    }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var framer = LineFramer(maxLine: ControlLimits.maxRequestBytes)
                for try await buffer in inbound {
                    let lines: [[UInt8]]
                    do { lines = try framer.feed(buffer.readableBytesView) } catch {
                        try await outbound.write(ByteBuffer(bytes: try ControlCodec.encode(ControlResponse.failure(ControlError.Code.tooLarge.rawValue, "\(error)"))))
                        return
                    }
                    guard let line = lines.first else { continue }
                    let response = await self.answer(line)
                    try await outbound.write(ByteBuffer(bytes: try ControlCodec.encode(response)))
                    return
                }
            }
        } catch {
            runtime.logger.debug("control connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func answer(_ line: [UInt8]) async -> ControlResponse {
        let request: ControlRequest
        do { request = try ControlCodec.decodeRequest(line) } catch {
            let e = ErrorCode.of(error)
            return .failure(e.code, e.message)
        }
        do {
            let result = try await runtime.controlBlocking { [operations = runtime.operations] in try operations.perform(request) }
            return .success(result)
        } catch {
            let e = ErrorCode.of(error)
            runtime.logger.notice("control request refused", metadata: ["code": "\(e.code)", "message": "\(e.message.prefix(300))"])
            return .failure(e.code, e.message)
        }
    }
}
