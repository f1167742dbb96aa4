/// FlakyLink: a seeded, deterministic TCP proxy that makes a loopback link behave like a commune's
/// weak one — cut at random intervals, black-holed for a while, throttled, delayed, reset mid-frame.
/// The demo, the benchmarks and the tests put links behind it (docs/OPERATIONS.md, "Flaky links").
///
/// Security note: test and demo tooling only. It binds 127.0.0.1, forwards bytes it does not
/// parse, and must never be pointed at anything but the project's own nodes on loopback.

/// What goes wrong on one link. Every field is optional; an empty value is a good link.
public struct LinkFaults: Codable, Sendable, Equatable {
    /// Each connection is cut after a random time in [min, max] ms.
    public var cutEveryMs: [Int64]?
    /// Cut with a TCP reset (SO_LINGER 0, usually mid-frame) instead of a FIN.
    public var reset: Bool?
    /// Windows [from, to] in ms after the proxy starts during which nothing passes: connections
    /// are accepted and then hang (no reset), as behind a dead router.
    public var blackholeMs: [[Int64]]?
    /// Bandwidth cap per direction, bytes per second (e.g. 32_000 for 256 kbit/s).
    public var bytesPerSecond: Int?
    /// One-way delay added to every byte, ms.
    public var latencyMs: Int64?

    public init(
        cutEveryMs: [Int64]? = nil, reset: Bool? = nil, blackholeMs: [[Int64]]? = nil, bytesPerSecond: Int? = nil,
        latencyMs: Int64? = nil
    ) {
        self.cutEveryMs = cutEveryMs
        self.reset = reset
        self.blackholeMs = blackholeMs
        self.bytesPerSecond = bytesPerSecond
        self.latencyMs = latencyMs
    }

    /// The end of the black-hole window `t` (ms since start) falls in, if any.
    func blackholeEnd(at t: Int64) -> Int64? {
        blackholeMs?.first { $0.count == 2 && $0[0] <= t && t < $0[1] }?[1]
    }
}

/// One proxied link: listen here, forward there, with these faults.
public struct FlakyLinkSpec: Codable, Sendable, Equatable {
    public var name: String
    /// 0 lets the system pick.
    public var listenPort: Int
    public var upstreamHost: String
    public var upstreamPort: Int
    public var faults: LinkFaults

    public init(
        name: String, listenPort: Int, upstreamHost: String = "127.0.0.1", upstreamPort: Int, faults: LinkFaults
    ) {
        self.name = name
        self.listenPort = listenPort
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.faults = faults
    }
}

/// The harness's configuration file: a seed and the links.
public struct FlakyConfig: Codable, Sendable, Equatable {
    public var seed: UInt64
    public var links: [FlakyLinkSpec]
    public init(seed: UInt64, links: [FlakyLinkSpec]) {
        self.seed = seed
        self.links = links
    }
}

/// SplitMix64: small, fast, seeded; the same seed gives the same faults.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
