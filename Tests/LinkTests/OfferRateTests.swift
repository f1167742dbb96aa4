import Testing
@testable import Link

@Suite struct OfferRateTests {
    @Test func aBurstThenTheRateAndNoRefillFromABackwardsClock() {
        var r = OfferRate(perSecond: 100, burst: 10)
        var taken = 0
        for _ in 0..<20 where r.take(now: 1_000) { taken += 1 }
        #expect(taken == 10)
        let more = r.take(now: 1_010), none = r.take(now: 1_010)  // 10 ms at 100/s: one more
        #expect(more && !none)
        let back = r.take(now: 0)  // the clock went back: nothing refilled
        #expect(!back)
        taken = 0
        for _ in 0..<20 where r.take(now: 60_000) { taken += 1 }
        #expect(taken == 10)  // capped at the burst
        var extreme = OfferRate(perSecond: 1, burst: 1)
        let a = extreme.take(now: .min), b = extreme.take(now: .max), c = extreme.take(now: .max)
        #expect(a && b && !c)
    }
}
