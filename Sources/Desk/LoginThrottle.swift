/// Failed sign-ins, counted per account and per client address: after `maxFailures` within
/// `windowMs` for an account, or `maxFailuresPerAddress` from an address, sign-ins for it are
/// refused until the window has passed. An address gets more: a commune office's clerks share
/// one address behind its router, and one clerk's typos must not lock the others out. A plain
/// value, tested without a server.
///
/// Security note: the keys are attacker-chosen (account names, addresses), so the table is
/// bounded (`maxKeys`; the oldest entries go first) and pruned as it is used.
public struct LoginThrottle: Sendable {
    public static let maxFailures = 5
    public static let maxFailuresPerAddress = 20
    public static let windowMs: Int64 = 15 * 60 * 1000
    public static let maxKeys = 10_000

    private var failures: [String: [Int64]] = [:]

    public init() {}

    /// Seconds until a sign-in for any of `keys` is allowed again; nil when allowed now.
    public mutating func retryAfter(_ keys: [String], now: Int64) -> Int64? {
        var wait: Int64 = 0
        for key in keys {
            let recent = (failures[key] ?? []).filter { now - $0 < Self.windowMs }
            failures[key] = recent.isEmpty ? nil : recent
            let limit = key.hasPrefix("address:") ? Self.maxFailuresPerAddress : Self.maxFailures
            if recent.count >= limit, let oldest = recent.dropLast(limit - 1).last {
                wait = max(wait, (oldest + Self.windowMs - now + 999) / 1000)
            }
        }
        return wait > 0 ? wait : nil
    }

    /// Records a failed sign-in for each key.
    public mutating func failed(_ keys: [String], now: Int64) {
        if failures.count + keys.count > Self.maxKeys { prune(now: now) }
        for key in keys {
            var list = failures[key] ?? []
            list.append(now)
            if list.count > Self.maxFailuresPerAddress { list.removeFirst(list.count - Self.maxFailuresPerAddress) }
            failures[key] = list
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    public mutating func succeeded(account key: String) { failures[key] = nil }

    private mutating func prune(now: Int64) {
        failures = failures.filter { now - ($0.value.last ?? 0) < Self.windowMs }
        while failures.count + 1 > Self.maxKeys, let oldest = failures.min(by: { $0.value.last! < $1.value.last! }) {
            failures[oldest.key] = nil
        }
    }
}
