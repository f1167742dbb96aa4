import Envelope
import NIOConcurrencyHelpers

/// The settings in force in a running daemon. `SIGHUP` (`ReloadService`) applies changes to the
/// keys below at once — each is read where it is used, on every pass of its service — and
/// reports the others as taking effect at the next restart (the listeners, link timers, the
/// desk's address and the log format are set up once, when their service starts).
public final class LiveSettings: Sendable {
    /// Keys a reload applies without a restart.
    public static let liveKeys: Set<String> = [
        "retentionDays", "archiveDir", "diskWarnFreePercent", "diskRefuseFreePercent", "janitorIntervalMs",
        "stalePartialMs", "hotFolderScanMs",
    ]

    private let box: NIOLockedValueBox<NodeSettings>

    public init(_ settings: NodeSettings) { box = NIOLockedValueBox(settings) }

    /// The settings now.
    public var current: NodeSettings { box.withLockedValue { $0 } }

    /// Takes the live keys of `new`; returns the changes applied now and those left for a restart.
    public func apply(_ new: NodeSettings) -> (applied: [String], atRestart: [String]) {
        box.withLockedValue { settings in
            let changes = ReloadService.differences(settings, new)
            let applied = changes.filter { Self.liveKeys.contains(String($0.prefix { $0 != ":" })) }
            var next = settings
            next.retentionDays = new.retentionDays
            next.archiveDir = new.archiveDir
            next.diskWarnFreePercent = new.diskWarnFreePercent
            next.diskRefuseFreePercent = new.diskRefuseFreePercent
            next.janitorIntervalMs = new.janitorIntervalMs
            next.stalePartialMs = new.stalePartialMs
            next.hotFolderScanMs = new.hotFolderScanMs
            settings = next
            return (applied, changes.filter { !applied.contains($0) })
        }
    }
}
