import Testing

@testable import Desk

struct LoginThrottleTests {
    @Test func fiveFailuresBlockAnAccountAndTwentyAnAddressUntilTheyAgeOut() {
        var t = LoginThrottle()
        let keys = ["account:a", "address:1.2.3.4"]
        for i in 0..<LoginThrottle.maxFailures {
            #expect(t.retryAfter(keys, now: Int64(i) * 1000) == nil)
            t.failed(keys, now: Int64(i) * 1000)
        }
        #expect(t.retryAfter(keys, now: 5000) == LoginThrottle.windowMs / 1000 - 5)
        // The account is blocked from anywhere; another account from the same address is not, yet.
        #expect(t.retryAfter(["account:a", "address:9.9.9.9"], now: 5000) != nil)
        #expect(t.retryAfter(["account:b", "address:1.2.3.4"], now: 5000) == nil)
        for i in LoginThrottle.maxFailures..<LoginThrottle.maxFailuresPerAddress {
            t.failed(["account:c\(i)", "address:1.2.3.4"], now: Int64(i) * 1000)
        }
        #expect(t.retryAfter(["account:b", "address:1.2.3.4"], now: 20_000) != nil)
        #expect(t.retryAfter(["account:b", "address:9.9.9.9"], now: 20_000) == nil)
        #expect(t.retryAfter(keys, now: LoginThrottle.windowMs + 1) == nil)
    }

    @Test func successClearsTheAccountAndTheTableStaysBounded() {
        var t = LoginThrottle()
        for i in 0..<4 { t.failed(["account:a"], now: Int64(i)) }
        t.succeeded(account: "account:a")
        t.failed(["account:a"], now: 10)
        #expect(t.retryAfter(["account:a"], now: 11) == nil)
        for i in 0..<(LoginThrottle.maxKeys + 50) { t.failed(["address:\(i)"], now: 20) }
        // Still answers, and the newest keys are still counted.
        t.failed(Array(repeating: "address:new", count: 4), now: 21)
        #expect(t.retryAfter(["address:new"], now: 22) == nil)
    }
}
