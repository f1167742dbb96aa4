import Envelope
import Logging
import NIOConcurrencyHelpers

/// Refusals logged in aggregate, one line per source and interval: the first refusal from a
/// source in an interval is logged at once; the rest are counted and reported in one line with
/// the count once the interval is over (when that source is refused again, or at the next sweep).
///
/// Why: a stranger's 133,000 HELLOs wrote 54–65 MB of log, two notice lines per attempt. Now a
/// flood costs a counter increment per attempt and a line a minute per source.
///
/// Security note: sources are the remote addresses of connections (or peer ids) — attacker
/// chosen; at most `maxSources` are tracked, and beyond that they share one more entry, so the table
/// is bounded whatever the flood.
public final class RefusalLog: Sendable {
    private struct Entry {
        var start: Int64
        var suppressed = 0
        var last: String
    }
    private struct State {
        var entries: [String: Entry] = [:]
        var lastSweep: Int64 = .min
        /// Refusals since the daemon started, by reason (`/metrics`).
        var totals: [String: Int] = [:]
    }
    private let state = NIOLockedValueBox(State())
    let logger: Logger
    /// ms per interval.
    public let interval: Int64
    public let maxSources: Int
    /// The entry sources share once `maxSources` are tracked.
    static let overflow = "(other sources)"

    /// Refusals since the daemon started, by kind.
    public func totals() -> [String: Int] { state.withLockedValue { $0.totals } }

    public init(logger: Logger, interval: Int64 = 60_000, maxSources: Int = 1024) {
        self.logger = logger
        self.interval = max(1, interval)
        self.maxSources = max(1, maxSources)
    }

    /// Records a refusal of `source` (`what` happened, `reason` why) at `now`.
    /// - Parameter kind: the reason as a metric label (a small fixed set: `envelope-expired`,
    ///   `handshake-WIRE-TIMEOUT` …); `what` when not given.
    public func refused(_ what: String, source: String, reason: String, now: Int64, kind: String? = nil) {
        var lines: [(String, String, Int, String)] = []  // (what, source, suppressed count, last reason); 0 = this one
        state.withLockedValue { s in
            s.totals[kind ?? what, default: 0] += 1
            if now &- s.lastSweep >= interval {
                s.lastSweep = now
                for (key, e) in s.entries where now &- e.start >= interval {
                    if e.suppressed > 0 { lines.append((what, key, e.suppressed, e.last)) }
                    s.entries[key] = nil
                }
            }
            let key = s.entries[source] != nil || s.entries.count < maxSources ? source : Self.overflow
            if var e = s.entries[key], now &- e.start < interval {
                e.suppressed += 1
                e.last = reason
                s.entries[key] = e
                return
            }
            if let e = s.entries[key], e.suppressed > 0 { lines.append((what, key, e.suppressed, e.last)) }
            s.entries[key] = Entry(start: now, last: reason)
            lines.append((what, key, 0, reason))
        }
        for (what, source, count, reason) in lines {
            if count == 0 {
                logger.notice("\(what)", metadata: ["source": "\(source)", "reason": "\(reason)"])
            } else {
                logger.notice(
                    "\(what): \(count) more from this source in the last \(interval / 1000) s",
                    metadata: ["source": "\(source)", "count": "\(count)", "lastReason": "\(reason)"])
            }
        }
    }

    /// Sources tracked now (for tests).
    public var trackedSources: Int { state.withLockedValue { $0.entries.count } }
}
