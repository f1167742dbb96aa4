import Logging
import ServiceLifecycle

/// Retention and the disk watermarks: every minute (and at start) it logs a change of watermark
/// level — a warning under `diskWarnFreePercent`, an error under `diskRefuseFreePercent`, a notice
/// when there is room again — and archives documents older than `retentionDays`. A minute, like
/// the janitor's sweep on its interval: both conditions change over hours, and each look is a
/// `statvfs` and one indexed read. It also erases the keys a rotation retired once nothing needs them.
struct RetentionService: Service {
    let runtime: NodeRuntime
    static let interval: Duration = .seconds(60)

    func run() async throws {
        try await untilShutdown {
            var level = DiskWatermark.Level.ok
            while !Task.isCancelled {
                level = self.checkDisk(previous: level)
                do {
                    let written = try await runtime.blocking { [runtime] in try runtime.operations.applyRetention() }
                    if !written.isEmpty {
                        runtime.logger.notice(
                            "archived documents older than the retention limit",
                            metadata: [
                                "count": "\(written.count)", "archiveDir": "\(runtime.operations.archiveRoot)",
                                "retentionDays": "\(runtime.settings.retentionDays ?? 365)",
                            ])
                    }
                } catch {
                    runtime.logger.error("retention failed; will retry in a minute", metadata: ["error": "\(error)"])
                }
                do {
                    let erased = try await runtime.blocking { [runtime] in try runtime.operations.sweepRetiredKeys() }
                    for line in erased { runtime.logger.notice("\(line)") }
                } catch {
                    runtime.logger.error(
                        "erasing retired keys failed; will retry in a minute", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: Self.interval)
            }
        }
    }

    /// Logs when the level changes; returns the level now.
    func checkDisk(previous: DiskWatermark.Level) -> DiskWatermark.Level {
        let mark = DiskWatermark(runtime.settings)
        let path = runtime.identity.home.path
        let usage = DiskWatermark.usage(path)
        let level = mark.level(usage)
        guard level != previous else { return level }
        let detail: Logger.Metadata = ["disk": "\(mark.describe(usage, path: path))"]
        switch level {
        case .refusing:
            runtime.logger.error(
                "disk almost full: new local sends are refused, neighbours still accepted", metadata: detail)
        case .low: runtime.logger.warning("disk space low", metadata: detail)
        case .ok: runtime.logger.notice("disk space back above the watermarks", metadata: detail)
        }
        return level
    }
}
