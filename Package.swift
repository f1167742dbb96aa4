// swift-tools-version: 6.0
// LienThong — store-and-forward exchange of official documents.
// Module layering (see docs/ARCHITECTURE.md): dependencies point one way, downwards.
import PackageDescription

let package = Package(
    name: "LienThong",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lienthong", targets: ["lienthong"]),
        .executable(name: "lienthongd", targets: ["lienthongd"]),
        .executable(name: "lienthong-bench", targets: ["lienthong-bench"]),
        .executable(name: "lienthong-testkit", targets: ["lienthong-testkit"]),
        .executable(name: "lienthong-flaky", targets: ["lienthong-flaky"]),
        .executable(name: "lienthong-fuzz", targets: ["lienthong-fuzz"]),
    ],
    dependencies: [
        // Pinned with `exact:`: the offline mirror carries only these versions and
        // Package.resolved is not committed.
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        // The desk (HTTP server and templates). Only the Desk module imports them.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
    ],
    targets: [
        // libsodium, through a system-library target. Only SodiumKit imports it.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // glibc's mallopt, for the daemon's allocator settings (Node's AllocatorTuning).
        .systemLibrary(name: "CAllocator", path: "Sources/CAllocator"),
        .target(name: "Diagnostics"),
        .target(name: "SodiumKit", dependencies: ["CSodium", "Diagnostics"]),
        .target(name: "Envelope", dependencies: ["SodiumKit", "Diagnostics"]),
        .target(name: "Topology", dependencies: ["Envelope", "SodiumKit", "Diagnostics"]),
        // The durable store. The only module that imports GRDB.
        .target(
            name: "Spool",
            dependencies: ["Envelope", "SodiumKit", "Diagnostics", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Link protocol: frames, handshake, session messages. NIOCore only, no sockets.
        .target(
            name: "Wire",
            dependencies: ["Envelope", "SodiumKit", "Diagnostics", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // The custody gate: the one way into the queue (checks, routing, custody transaction,
        // wake-ups and hints for the sessions). No sockets.
        .target(
            name: "Gate",
            dependencies: [
                "Wire", "Spool", "Topology", "Envelope", "SodiumKit", "Diagnostics",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Link sessions between neighbours over TCP, moving envelopes spool to spool.
        .target(
            name: "Link",
            dependencies: [
                "Gate", "Wire", "Spool", "Topology", "Envelope", "SodiumKit", "Diagnostics",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The operator's control protocol: request/response types and the bounded line codec.
        // Pure (Foundation and Diagnostics), so the daemon, the CLI and the fuzzers share one parser.
        .target(name: "Control", dependencies: ["Diagnostics"]),
        .target(name: "EdXML", dependencies: ["Diagnostics"]),
        // The node: daemon services (listener, uplinks, scheduler, janitor, control server) and
        // the operations the CLI runs through it.
        .target(
            name: "Node",
            dependencies: [
                "Control", "EdXML", "Gate", "Link", "Wire", "Spool", "Topology", "Envelope", "SodiumKit", "CAllocator",
                "Diagnostics",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The clerk's desk and the integration API: an HTTP server inside the daemon. The only
        // module that imports the HTTP server.
        .target(
            name: "Desk",
            dependencies: [
                "Node", "Control", "Diagnostics", "SodiumKit", "Spool", "Topology", "Envelope",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "LienThongCLI",
            dependencies: [
                "Desk", "Node", "Control", "Envelope", "Topology", "SodiumKit", "Spool", "Gate", "Diagnostics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "lienthong", dependencies: ["LienThongCLI"]),
        .executableTarget(name: "lienthongd", dependencies: ["LienThongCLI", "Node"]),
        .executableTarget(name: "lienthong-bench", dependencies: [
            "EdXML", "Envelope", "SodiumKit", "Spool", "Topology", "Link",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The flaky-link harness (tests, demo, benchmarks): seeded TCP proxies on loopback.
        .target(name: "FlakyLink", dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .executableTarget(name: "lienthong-flaky", dependencies: ["FlakyLink", .product(name: "NIOPosix", package: "swift-nio")]),
        // Fuzz targets (every untrusted-input parser and protocol state machine) and their
        // libFuzzer binary; Scripts/fuzz builds it with -sanitize=fuzzer,address.
        .target(name: "FuzzTargets", dependencies: [
            "Wire", "Link", "Spool", "Envelope", "SodiumKit", "Topology", "Control", "EdXML",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "lienthong-fuzz", dependencies: ["FuzzTargets"]),
        // Test support: helper processes the tests start and kill (never installed).
        .executableTarget(name: "lienthong-testkit", dependencies: ["Envelope", "SodiumKit", "Spool"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics"]),
        .testTarget(name: "SodiumKitTests", dependencies: ["SodiumKit"]),
        .testTarget(name: "EnvelopeTests", dependencies: ["Envelope", "SodiumKit"]),
        .testTarget(name: "TopologyTests", dependencies: ["Topology", "Envelope", "SodiumKit"]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Envelope", "SodiumKit", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "GateTests", dependencies: ["Gate", "Wire", "Spool", "Topology", "Envelope", "SodiumKit"]),
        .testTarget(name: "LinkTests", dependencies: ["Link", "Gate", "Wire", "Spool", "Topology", "Envelope", "SodiumKit", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                                                // To damage a stored chunk on purpose (the bad-chunk test).
                                                .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "Envelope", "SodiumKit", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "LienThongCLITests", dependencies: ["LienThongCLI", "Topology", "SodiumKit", "Spool", "Envelope"]),
        .testTarget(name: "ControlTests", dependencies: ["Control"]),
        .testTarget(name: "EdXMLTests", dependencies: ["EdXML"]),
        .testTarget(name: "DeskTests", dependencies: ["Desk"]),
        .testTarget(name: "FlakyLinkTests", dependencies: ["FlakyLink", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "Link", "Wire", "Envelope", "SodiumKit"]),
        // Real lienthongd processes on 127.0.0.1 (the executables are built first).
        .testTarget(name: "NodeTests", dependencies: ["Node", "EdXML", "Diagnostics", "Gate", "Link", "Control", "Spool", "Topology", "Envelope", "SodiumKit", "FlakyLink",
                                                // The hostile peer of the adversarial suite speaks the link protocol itself.
                                                "Wire", .product(name: "NIOCore", package: "swift-nio"),
                                                .product(name: "NIOPosix", package: "swift-nio")]),
    ],
    swiftLanguageModes: [.v6]
)
