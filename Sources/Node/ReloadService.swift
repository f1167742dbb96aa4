import Foundation
import ServiceLifecycle
import Topology
import UnixSignals

/// `SIGHUP` (`systemctl reload`): the node re-reads and validates `node.json` (and the
/// environment's settings), applies what can change while it runs (`LiveSettings.liveKeys`:
/// retention, the disk watermarks, the janitor's and the hot folder's periods) and logs the rest
/// as taking effect at the next restart; it never stops. A file that no longer validates is
/// reported with the key named while the node goes on with the settings it has.
struct ReloadService: Service {
    let runtime: NodeRuntime

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try? await cancelWhenGracefulShutdown {
            for await _ in signals {
                self.reload()
            }
        }
    }

    func reload() {
        let logger = runtime.logger
        do {
            let (_, config) = try NodeHome.open(runtime.identity.home.path)
            let now = config.settings ?? NodeSettings()
            let (applied, atRestart) = runtime.live.apply(now)
            if applied.isEmpty && atRestart.isEmpty {
                logger.notice("SIGHUP: node.json re-read and valid; no setting changed")
            }
            if !applied.isEmpty {
                logger.notice(
                    "SIGHUP: node.json re-read and valid; settings applied now",
                    metadata: ["applied": "\(applied.joined(separator: ", "))"])
            }
            if !atRestart.isEmpty {
                logger.notice(
                    "SIGHUP: node.json re-read and valid; changed settings take effect at the next restart",
                    metadata: ["changed": "\(atRestart.joined(separator: ", "))"])
            }
            reloadTopology()
        } catch {
            logger.error(
                """
                SIGHUP: node.json does not validate; the node goes on with the settings it started with. \
                \(Self.fixIt)
                """,
                metadata: ["error": "\(error)"])
        }
    }

    static let fixIt = "Fix it before the next restart"

    /// A newer signed topology installed in the home (`topology install`) is applied and passed on
    /// as if published; the same or an older one changes nothing.
    func reloadTopology() {
        let logger = runtime.logger
        do {
            let bytes = try Topology.readFile(runtime.identity.home.topologyPath, limit: Topology.maxFileSize * 2)
            guard bytes != runtime.identity.liveTopology.signed else { return }
            if case .applied = try runtime.operations.topologyUpdater.apply(bytes, from: "operator:SIGHUP") {
                runtime.topologyChanges.notify()
                runtime.operations.gate.notify()
            }
        } catch {
            logger.error(
                "SIGHUP: the topology file was not applied; the node goes on with the one in force",
                metadata: ["error": "\(error)"])
        }
    }

    /// `key: old → new` for each setting that differs.
    static func differences(_ a: NodeSettings, _ b: NodeSettings) -> [String] {
        func fields(_ s: NodeSettings) -> [String: String] {
            guard let data = try? JSONEncoder().encode(s),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return [:] }
            return object.mapValues { "\($0)" }
        }
        let (x, y) = (fields(a), fields(b))
        return Set(x.keys).union(y.keys).sorted().compactMap { key in
            x[key] == y[key] ? nil : "\(key): \(x[key] ?? "default") → \(y[key] ?? "default")"
        }
    }
}
