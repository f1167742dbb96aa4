// The flaky-link harness: `lienthong-flaky CONFIG.json` runs one seeded proxy per link until
// SIGTERM/SIGINT, printing each link's counters every `--report-seconds` (default 0: never).
import Foundation
import FlakyLink
import NIOPosix

let args = CommandLine.arguments
guard args.count >= 2, let data = FileManager.default.contents(atPath: args[1]) else {
    FileHandle.standardError.write(Data("usage: lienthong-flaky CONFIG.json   (format: docs/OPERATIONS.md, \"Flaky links\")\n".utf8))
    exit(2)
}
let config: FlakyConfig
do { config = try JSONDecoder().decode(FlakyConfig.self, from: data) } catch {
    FileHandle.standardError.write(Data("lienthong-flaky: \(args[1]) is not a flaky-link configuration: \(error)\n".utf8))
    exit(2)
}
signal(SIGPIPE, SIG_IGN)
var seeds = SeededRandom(seed: config.seed)
let proxies = config.links.map { FlakyProxy(spec: $0, seed: seeds.next()) }
let group = MultiThreadedEventLoopGroup.singleton
await withThrowingTaskGroup(of: Void.self) { tasks in
    for p in proxies {
        tasks.addTask { try await p.run(group: group) }
    }
    FileHandle.standardOutput.write(Data("lienthong-flaky: \(proxies.count) link(s) up (seed \(config.seed))\n".utf8))
    do {
        while try await tasks.next() != nil {}
    } catch {
        FileHandle.standardError.write(Data("lienthong-flaky: \(error)\n".utf8))
        exit(1)
    }
}
