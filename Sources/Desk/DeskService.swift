/// Desk: the clerk's web app and the `/api/v1` integration API, served by the daemon itself.
///
/// Security note: this module is the node's only HTTP server and the only importer of
/// Hummingbird. Everything it reads from a request is untrusted: bodies are size-checked before
/// they are buffered (`maxUploadSize`, `UploadReceiver`, `MultipartReader`), every route but
/// sign-in needs an account (`DeskAuthMiddleware`), forms need their session's CSRF token, and
/// sign-ins are throttled. It never logs a password, a token or a session id, and it listens on
/// loopback unless the operator names another address.
import Foundation
import Hummingbird
import Logging
import NIOCore
import Node
import ServiceLifecycle

/// The desk as one more service of the daemon's group.
public struct DeskService: Service {
    public static let defaultListen = "127.0.0.1:8470"
    let app: DeskApp

    public init(runtime: NodeRuntime) throws {
        app = try DeskApp(runtime: runtime)
    }

    /// `HOST:PORT` (IPv6 as `[::1]:PORT`); nil for `off`.
    static func parse(_ text: String) throws -> (host: String, port: Int)? {
        if text == "off" { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw DeskError(
                .listen, "httpListen '\(text)' is not HOST:PORT or off; fix it in node.json's settings")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw DeskError(.listen, "httpListen '\(text)' has no host; e.g. 127.0.0.1:8470") }
        return (host, port)
    }

    public func run() async throws {
        let runtime = app.runtime
        let logger = runtime.logger
        guard let (host, port) = try Self.parse(runtime.settings.httpListen ?? Self.defaultListen) else {
            logger.info("desk is off (httpListen: off)")
            try await gracefulShutdown()
            return
        }
        if !["127.0.0.1", "::1", "localhost"].contains(host) {
            let advice = "put TLS in front of it (a reverse proxy, and httpsProxy: true)"
            logger.warning(
                "the desk listens on \(host), not only on this machine: \(advice)"
            )
        }
        try? FileManager.default.removeItem(atPath: app.scratch)  // what a crash left behind
        let application = Application(
            router: app.router(),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { [desk = runtime.operations.desk] channel in
                let bound = channel.localAddress?.port ?? port
                let shown = host.contains(":") ? "[\(host)]" : host
                desk?.set("http://\(shown):\(bound)")
                logger.info("desk ready", metadata: ["url": "http://\(shown):\(bound)"])
            },
            logger: logger)
        do {
            try await application.run()
        } catch {
            runtime.operations.desk?.set(nil)
            // The node goes on without its desk: documents still flow, and the operator fixes the address.
            logger.error(
                "the desk could not listen on \(host):\(port); set another httpListen in node.json and restart",
                metadata: ["cause": "\(error)"])
            try await gracefulShutdown()
        }
        runtime.operations.desk?.set(nil)
    }
}
