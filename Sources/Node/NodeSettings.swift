import Link
import Spool

/// Tuning a node home may set in `node.json` under `"settings"`; every field is optional and
/// defaults as documented in docs/OPERATIONS.md. Tests and the demo use it for short timers.
public struct NodeSettings: Codable, Sendable, Equatable {
    /// First reconnect delay to a parent, ms (default 1,000).
    public var reconnectBaseMs: Int64?
    /// Longest reconnect delay, ms (default 60,000).
    public var reconnectCapMs: Int64?
    /// A primary parent unreachable this long makes the node dial its next parent, ms (default 120,000).
    public var failoverAfterMs: Int64?
    /// How often the janitor runs (expiry, seen-set pruning), ms (default 1,000).
    public var janitorIntervalMs: Int64?
    /// Link idle timeout, ms (default 60,000) and keepalive, ms (default 15,000).
    public var idleTimeoutMs: Int64?
    public var keepaliveMs: Int64?
    /// No longer used: a link sender waits for a signal or for its next entry to fall due, and
    /// polls nothing. Still accepted (and range-checked) so node.json files that set it load.
    public var queuePollMs: Int64?
    /// First retry delay after a temporary refusal, ms (default 10,000).
    public var retryBaseMs: Int64?
    /// A partial envelope from a peer that stores no chunk for this long is dropped, audited;
    /// ms (default 86,400,000: a day).
    public var stalePartialMs: Int64?
    /// How long a peer may leave 16 MiB of replies unread before its session is closed, ms
    /// (default 30,000).
    public var drainDeadlineMs: Int64?
    /// Bytes of replies queued for a peer before the session stops reading from it (default
    /// 16 MiB), and new envelopes a peer may offer per second and at once (defaults 5,000 and
    /// 10,000): docs/PROTOCOL.md §6.
    public var maxWriteBacklogBytes: Int?
    public var offersPerSecond: Int?
    public var offerBurst: Int?
    /// Listen address override (default: the node's endpoint in the topology).
    public var listenHost: String?
    /// Where the desk (web app and `/api/v1`) listens, `HOST:PORT` (default `127.0.0.1:8470`), or
    /// `off`. An address other than loopback is an explicit choice, logged as a warning.
    public var httpListen: String?
    /// The hot folder for e-office software (`ExchangeFolder`): a path, relative to the node home
    /// when not absolute (e.g. `exchange`); off when not set. `hotFolderScanMs`: how often it is
    /// looked at (default 1,000).
    public var hotFolder: String?
    public var hotFolderScanMs: Int64?
    /// `text` (default; with syslog priority prefixes under journald) or `json`; `--log-format` wins.
    public var logFormat: String?
    /// True when a reverse proxy serves the desk over HTTPS: its cookies are then marked Secure.
    public var httpsProxy: Bool?
    /// Days an inbox document's content and a sent document's sealed body stay in the spool
    /// (default 365) before they are archived to `archiveDir` (default `archive` in the home; a
    /// relative path is taken from the home) and removed; metadata, tracking and audit stay.
    public var retentionDays: Int?
    public var archiveDir: String?
    /// Free space on the spool's file system, in percent, under which the node warns (default
    /// 10) and under which it refuses new local sends (default 5); custody from neighbours is
    /// still taken while there is room.
    public var diskWarnFreePercent: Int?
    public var diskRefuseFreePercent: Int?

    public init() {}

    var reconnect: LinkBackoff {
        LinkBackoff(base: reconnectBaseMs ?? LinkBackoff().base, cap: reconnectCapMs ?? LinkBackoff().cap)
    }

    var link: LinkConfiguration {
        var c = LinkConfiguration()
        if let v = idleTimeoutMs { c.idleTimeout = .milliseconds(v) }
        if let v = keepaliveMs { c.keepaliveInterval = .milliseconds(v) }
        if let v = retryBaseMs { c.retry = RetryPolicy(base: v) }
        if let v = drainDeadlineMs { c.drainDeadline = .milliseconds(v) }
        if let v = maxWriteBacklogBytes { c.maxWriteBacklog = v }
        if let v = offersPerSecond { c.offersPerSecond = v }
        if let v = offerBurst { c.offerBurst = v }
        return c
    }
}
