import Envelope

/// Pure scheduling and retry policy: no clock, no randomness of its own — both are passed in,
/// so tests drive it with a fake clock and a seeded generator.
public enum QueuePolicy {
    /// Sending order for a peer's due entries: most urgent first (both Hỏa tốc levels together),
    /// then oldest, then by id for a stable order. `Spool.claim` orders its SQL the same way.
    public static func order(_ a: QueueEntry, _ b: QueueEntry) -> Bool {
        if a.urgency.rank != b.urgency.rank { return a.urgency.rank > b.urgency.rank }
        if a.enqueuedAt != b.enqueuedAt { return a.enqueuedAt < b.enqueuedAt }
        return a.envelopeID < b.envelopeID
    }

    /// The entries due at `now` (ready, or deferred with their time come, not expired), in order.
    public static func due(_ entries: [QueueEntry], now: Int64, limit: Int) -> [QueueEntry] {
        Array(
            entries.filter {
                ($0.state == .ready || ($0.state == .deferred && $0.nextAttemptAt <= now)) && $0.expiresAt > now
            }
            .sorted(by: order).prefix(limit))
    }
}

/// Exponential backoff with jitter for one queue entry after failures ("equal jitter": half the
/// delay fixed, half random, so retries spread out but never come back at once).
///
/// Defaults (docs/SPOOL.md): 10 s after the first failure, doubling, capped at 30 min.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Int64
    public var cap: Int64
    public var multiplier: Int64

    public init(base: Int64 = 10_000, cap: Int64 = 1_800_000, multiplier: Int64 = 2) {
        self.base = base
        self.cap = cap
        self.multiplier = multiplier
    }

    /// The ceiling before jitter after `attempts` failures (1 = first failure).
    public func ceiling(attempts: Int) -> Int64 {
        var d = base
        for _ in 1..<max(1, attempts) {
            if d >= cap / max(1, multiplier) { return cap }
            d *= multiplier
        }
        return min(d, cap)
    }

    /// `delay(attempts:using:)` with the system generator (for async callers; see
    /// `LinkBackoff.recordFailure(now:)`).
    public func delay(attempts: Int) -> Int64 {
        let c = ceiling(attempts: attempts)
        return c / 2 + Int64.random(in: 0...(c - c / 2))
    }

    /// Milliseconds to wait after `attempts` failures: in [ceiling/2, ceiling].
    public func delay(attempts: Int, using rng: inout some RandomNumberGenerator) -> Int64 {
        let c = ceiling(attempts: attempts)
        return c / 2 + Int64.random(in: 0...(c - c / 2), using: &rng)
    }
}

/// A peer's link backoff, separate from per-entry failures: how long to wait before dialling a
/// parent again. Exponential with full jitter, reset on success.
///
/// Defaults (docs/SPOOL.md): 1 s, doubling, capped at 60 s (the daemon's `reconnectCapMs`).
public struct LinkBackoff: Sendable, Equatable {
    public var base: Int64
    public var cap: Int64
    public private(set) var failures = 0
    public private(set) var nextAttemptAt: Int64 = 0

    public init(base: Int64 = 1_000, cap: Int64 = 60_000) {
        self.base = base
        self.cap = cap
    }

    /// Records a failed dial or a dropped link at `now`; returns when to try again.
    @discardableResult
    public mutating func recordFailure(now: Int64, using rng: inout some RandomNumberGenerator) -> Int64 {
        failures += 1
        let ceiling = RetryPolicy(base: base, cap: cap).ceiling(attempts: failures)
        nextAttemptAt = now + Int64.random(in: 0...ceiling, using: &rng)
        return nextAttemptAt
    }

    /// `recordFailure(now:using:)` with the system generator, which the daemon uses. It does not
    /// pass a `SystemRandomNumberGenerator` by `inout`: that type has no size, and under
    /// ThreadSanitizer the made-up address of such an `inout` crashed the daemon (SEGV).
    @discardableResult
    public mutating func recordFailure(now: Int64) -> Int64 {
        failures += 1
        let ceiling = RetryPolicy(base: base, cap: cap).ceiling(attempts: failures)
        nextAttemptAt = now + Int64.random(in: 0...ceiling)
        return nextAttemptAt
    }

    /// A link came up: the next failure starts from `base` again.
    public mutating func recordSuccess() {
        failures = 0
        nextAttemptAt = 0
    }

    public func mayAttempt(now: Int64) -> Bool { now >= nextAttemptAt }
}
