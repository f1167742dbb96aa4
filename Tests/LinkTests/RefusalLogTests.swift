import Logging
import Testing
@testable import Link

/// A flood of refusals is logged as one line per source and interval, with the count.
@Suite struct RefusalLogTests {
    @Test func aFloodIsOneLinePerSourceAndIntervalWithItsCount() {
        let capture = LogCapture()
        let log = RefusalLog(logger: Logger(label: "t", factory: capture.handler), interval: 60_000, maxSources: 3)
        for i in 0..<133_000 {
            log.refused("handshake refused", source: "10.0.0.9", reason: "WIRE-NOT-NEIGHBOUR", now: 1_000 + Int64(i) / 10)
        }
        // 13.3 s of attempts: the first is logged, the rest counted.
        #expect(capture.lines.withLock { $0.count } == 1)
        log.refused("handshake refused", source: "10.0.0.9", reason: "WIRE-REPLAYED", now: 70_000)
        let lines = capture.lines.withLock { $0 }
        #expect(lines.count == 3)
        #expect(lines[1].contains("132999 more") && lines[1].contains("WIRE-NOT-NEIGHBOUR"))
        #expect(lines[2].contains("WIRE-REPLAYED"))
        // Sources beyond the cap share one entry: the table stays bounded.
        for i in 0..<1000 { log.refused("handshake refused", source: "10.1.\(i / 256).\(i % 256)", reason: "x", now: 71_000) }
        #expect(log.trackedSources <= 3 + 1)  // and the shared entry
        #expect(capture.lines.withLock { $0.count } <= 6)
        // A source that went quiet still has its count reported, at the next sweep.
        log.refused("handshake refused", source: "10.0.0.7", reason: "y", now: 200_000)
        #expect(capture.contains("more from this source") && capture.contains("(other sources)"))
    }
}
