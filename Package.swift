// swift-tools-version: 6.0
// LienThong — store-and-forward exchange of official documents.
// Module layering (see docs/ARCHITECTURE.md): dependencies point one way, downwards.
import PackageDescription

let package = Package(
    name: "LienThong",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lienthong", targets: ["lienthong"]),
        .executable(name: "lienthong-bench", targets: ["lienthong-bench"]),
        .executable(name: "lienthong-testkit", targets: ["lienthong-testkit"]),
    ],
    dependencies: [
        // Pinned with `exact:`: the offline mirror carries only these versions and
        // Package.resolved is not committed.
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        // libsodium, through a system-library target. Only SodiumKit imports it.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "SodiumKit", dependencies: ["CSodium"]),
        .target(name: "Envelope", dependencies: ["SodiumKit"]),
        .target(name: "Topology", dependencies: ["Envelope", "SodiumKit"]),
        // The durable store. The only module that imports GRDB.
        .target(
            name: "Spool",
            dependencies: ["Envelope", "SodiumKit", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "LienThongCLI",
            dependencies: [
                "Envelope", "Topology", "SodiumKit", "Spool",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "lienthong", dependencies: ["LienThongCLI"]),
        .executableTarget(name: "lienthong-bench", dependencies: ["Envelope", "SodiumKit", "Spool"]),
        // Test support: helper processes the tests start and kill (never installed).
        .executableTarget(name: "lienthong-testkit", dependencies: ["Envelope", "SodiumKit", "Spool"]),
        .testTarget(name: "SodiumKitTests", dependencies: ["SodiumKit"]),
        .testTarget(name: "EnvelopeTests", dependencies: ["Envelope", "SodiumKit"]),
        .testTarget(name: "TopologyTests", dependencies: ["Topology", "Envelope", "SodiumKit"]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "Envelope", "SodiumKit", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "LienThongCLITests", dependencies: ["LienThongCLI", "Topology", "SodiumKit", "Spool", "Envelope"]),
    ],
    swiftLanguageModes: [.v6]
)
