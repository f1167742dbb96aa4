/// A token bucket for new envelopes offered by one peer in one session: `perSecond` on average,
/// `burst` at once. An offer beyond it gets a temporary refusal (the sender defers the envelope
/// with backoff and offers it again), not a silent drop: a flood from one neighbour is slowed at
/// the door instead of filling the spool's queue of transactions that every neighbour shares.
struct OfferRate {
    let perSecond: Int
    let burst: Int
    private var tokens: Double
    private var last: Int64?

    init(perSecond: Int, burst: Int) {
        self.perSecond = max(1, perSecond)
        self.burst = max(1, burst)
        tokens = Double(self.burst)
    }

    /// Takes one token at `now` (ms); false when the peer is over its rate.
    mutating func take(now: Int64) -> Bool {
        if let last, now > last {
            // Elapsed time from the node's clock; a clock that jumps back refills nothing.
            let (elapsed, overflow) = now.subtractingReportingOverflow(last)
            let refill = overflow ? Double(burst) : Double(elapsed) * Double(perSecond) / 1000
            tokens = min(Double(burst), tokens + refill)
        }
        last = max(last ?? now, now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
