import FlakyLink
// The flaky-link harness: `lienthong-flaky CONFIG.json [--stats FILE]` runs one seeded proxy per
// link until SIGTERM/SIGINT. With --stats it rewrites FILE twice a second with each link's
// counters: {"<name>": {"connections": n, "cuts": n, "bytesUp": n, "bytesDown": n}}.
import Foundation
import NIOPosix

let args = CommandLine.arguments
guard args.count >= 2, let data = FileManager.default.contents(atPath: args[1]) else {
    FileHandle.standardError.write(
        Data("usage: lienthong-flaky CONFIG.json [--stats FILE]   (format: docs/OPERATIONS.md, \"Flaky links\")\n".utf8)
    )
    exit(2)
}
let statsPath: String? = args.firstIndex(of: "--stats").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
let config: FlakyConfig
do { config = try JSONDecoder().decode(FlakyConfig.self, from: data) } catch {
    FileHandle.standardError.write(
        Data("lienthong-flaky: \(args[1]) is not a flaky-link configuration: \(error)\n".utf8))
    exit(2)
}
signal(SIGPIPE, SIG_IGN)
var seeds = SeededRandom(seed: config.seed)
let proxies = config.links.map { FlakyProxy(spec: $0, seed: seeds.next()) }
let group = MultiThreadedEventLoopGroup.singleton

/// Writes every link's counters to `path` (atomically), for benchmarks to read.
func writeStats(to path: String) {
    var out: [String: [String: Int]] = [:]
    for p in proxies {
        out[p.spec.name] = [
            "connections": p.stats.connections.load(ordering: .relaxed), "cuts": p.stats.cuts.load(ordering: .relaxed),
            "bytesUp": p.stats.bytesUp.load(ordering: .relaxed),
            "bytesDown": p.stats.bytesDown.load(ordering: .relaxed),
        ]
    }
    if let json = try? JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]) {
        try? json.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

await withThrowingTaskGroup(of: Void.self) { tasks in
    for p in proxies {
        tasks.addTask { try await p.run(group: group) }
    }
    if let statsPath {
        tasks.addTask {
            while true {
                writeStats(to: statsPath)
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
    FileHandle.standardOutput.write(Data("lienthong-flaky: \(proxies.count) link(s) up (seed \(config.seed))\n".utf8))
    do {
        while try await tasks.next() != nil {}
    } catch {
        FileHandle.standardError.write(Data("lienthong-flaky: \(error)\n".utf8))
        exit(1)
    }
}
