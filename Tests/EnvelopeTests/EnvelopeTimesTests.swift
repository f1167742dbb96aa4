import Testing
import SodiumKit
@testable import Envelope

/// Sane clocks and lifetimes (`EnvelopeHeader.checkTimes`): every time in a header is a peer's
/// word, so the check must refuse the absurd ones and never trap on extreme values.
@Suite struct EnvelopeTimesTests {
    let now = Fixture.now
    let fixture = Fixture()

    func header(createdAt: Int64, expiresAt: Int64) throws -> EnvelopeHeader {
        var p = fixture.parameters()
        p.createdAt = createdAt
        p.expiresAt = expiresAt
        return try EnvelopeSealer.seal(p, signer: fixture.origin.sign, payloadSize: 10,
                                       source: MemorySource([UInt8](repeating: 7, count: 10)), body: DiscardSink()).header
    }

    func code(_ h: EnvelopeHeader, limits: EnvelopeLimits = .default) -> EnvelopeError.Code? {
        do { try h.checkTimes(now: now, limits: limits); return nil } catch { return (error as? EnvelopeError)?.code }
    }

    @Test func ordinaryTimesPass() throws {
        #expect(code(try header(createdAt: now, expiresAt: now + 30 * 86_400_000)) == nil)
        #expect(code(try header(createdAt: now - 89 * 86_400_000, expiresAt: now + 86_400_000)) == nil)
        #expect(code(try header(createdAt: now + 4 * 60_000, expiresAt: now + 86_400_000)) == nil)  // within skew
        #expect(code(try header(createdAt: now, expiresAt: now + 90 * 86_400_000)) == nil)  // exactly the maximum
    }

    @Test func absurdTimesAreRefused() throws {
        #expect(code(try header(createdAt: .min, expiresAt: .max)) == .badClock)
        #expect(code(try header(createdAt: EnvelopeLimits.earliestCreatedAt - 1, expiresAt: now)) == .badClock)
        #expect(code(try header(createdAt: now + 6 * 60_000, expiresAt: now + 86_400_000)) == .badClock)
        #expect(code(try header(createdAt: now, expiresAt: .max)) == .badClock)
        #expect(code(try header(createdAt: now, expiresAt: now + 90 * 86_400_000 + 1)) == .badClock)
        #expect(code(try header(createdAt: now, expiresAt: now + 274 * 365 * 86_400_000)) == .badClock)
        // A network with a shorter maximum, and a clock at the far end of the range: no trap.
        var week = EnvelopeLimits.default
        week.maxLifetimeMs = 7 * 86_400_000
        #expect(code(try header(createdAt: now, expiresAt: now + 8 * 86_400_000), limits: week) == .badClock)
        let late = try header(createdAt: now, expiresAt: now + 1000)
        #expect((try? late.checkTimes(now: .max, limits: .default)) != nil)
        #expect((try? late.checkTimes(now: .min, limits: .default)) == nil)
    }

    @Test func theMessageSaysWhatToDo() throws {
        let ahead = try header(createdAt: now + 3_600_000, expiresAt: now + 86_400_000)
        let skew = #expect(throws: EnvelopeError.self) { try ahead.checkTimes(now: now, limits: .default) }
        #expect(skew?.message.contains("NTP") == true && skew?.message.contains("3600 s") == true)
        let forever = try header(createdAt: now, expiresAt: .max)
        let long = #expect(throws: EnvelopeError.self) { try forever.checkTimes(now: now, limits: .default) }
        #expect(long?.message.contains("90 days") == true)
    }
}
