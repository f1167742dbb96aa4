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
    ],
    dependencies: [
        // Pinned with `exact:`: the offline mirror carries only these versions and
        // Package.resolved is not committed.
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
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
        .target(
            name: "LienThongCLI",
            dependencies: [
                "Envelope", "Topology", "SodiumKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "lienthong", dependencies: ["LienThongCLI"]),
        .executableTarget(name: "lienthong-bench", dependencies: ["Envelope", "SodiumKit"]),
        .testTarget(name: "SodiumKitTests", dependencies: ["SodiumKit"]),
        .testTarget(name: "EnvelopeTests", dependencies: ["Envelope", "SodiumKit"]),
        .testTarget(name: "TopologyTests", dependencies: ["Topology", "Envelope", "SodiumKit"]),
        .testTarget(name: "LienThongCLITests", dependencies: ["LienThongCLI", "Topology", "SodiumKit"]),
    ],
    swiftLanguageModes: [.v6]
)
