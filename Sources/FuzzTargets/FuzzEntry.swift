import Foundation

/// The entry points of `lienthong-fuzz`: libFuzzer's per-input call, and the plain command line
/// (replaying inputs, writing seeds) of a build without libFuzzer.
public enum FuzzEntry {
    /// The target libFuzzer drives, named by `LIENTHONG_FUZZ_TARGET` (one process, one target).
    static let selected: FuzzTarget? = ProcessInfo.processInfo.environment["LIENTHONG_FUZZ_TARGET"].flatMap(
        FuzzTarget.init(rawValue:))

    /// libFuzzer's `LLVMFuzzerTestOneInput`: a finding aborts, so libFuzzer saves the input.
    public static func runOne(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let target = selected else {
            FileHandle.standardError.write(
                Data(
                    """
                    set LIENTHONG_FUZZ_TARGET to one of: \
                    \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n
                    """
                    .utf8))
            exit(2)
        }
        do {
            try target.run(Array(bytes))
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            abort()
        }
        return 0
    }

    /// `lienthong-fuzz replay TARGET FILE|DIR…`, `lienthong-fuzz seeds DIR [TOPOLOGY.json…]`,
    /// `lienthong-fuzz list`. Returns the exit status.
    public static func command(_ arguments: [String]) -> Int32 {
        let args = Array(arguments.dropFirst())
        switch args.first {
        case "list":
            for t in FuzzTarget.allCases { print("\(t.rawValue)\t\(t.maxInputLength)") }
            return 0
        case "replay" where args.count >= 3:
            guard let target = FuzzTarget(rawValue: args[1]) else { return usage("unknown target '\(args[1])'") }
            var count = 0
            var findings = 0
            for path in args.dropFirst(2) {
                for file in files(at: path) {
                    guard let data = FileManager.default.contents(atPath: file) else {
                        return usage("cannot read \(file)")
                    }
                    count += 1
                    do { try target.run(Array(data)) } catch {
                        findings += 1
                        print("\(file): \(error)")
                    }
                }
            }
            print("\(target.rawValue): \(count) inputs, \(findings) findings")
            return findings == 0 ? 0 : 1
        case "seeds" where args.count >= 2:
            let dir = args[1]
            do {
                let topologies = try args.dropFirst(2).map { path -> (name: String, bytes: [UInt8]) in
                    guard let data = FileManager.default.contents(atPath: path) else {
                        throw CocoaError(.fileReadNoSuchFile)
                    }
                    return ((path as NSString).lastPathComponent, Array(data))
                }
                for (target, seeds) in try FuzzSeeds.make(topologyFiles: topologies) {
                    let targetDir = (dir as NSString).appendingPathComponent(target.rawValue)
                    try FileManager.default.createDirectory(atPath: targetDir, withIntermediateDirectories: true)
                    for seed in seeds {
                        try Data(seed.bytes).write(
                            to: URL(
                                fileURLWithPath: (targetDir as NSString).appendingPathComponent("seed-" + seed.name)))
                    }
                    print("\(target.rawValue): \(seeds.count) seeds")
                }
                return 0
            } catch {
                return usage("cannot write seeds: \(error)")
            }
        default:
            return usage(nil)
        }
    }

    /// The regular files at `path`: itself, or those directly in it, sorted.
    public static func files(at path: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return [] }
        guard isDir.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { (path as NSString).appendingPathComponent($0) }
    }

    private static func usage(_ problem: String?) -> Int32 {
        if let problem { FileHandle.standardError.write(Data("lienthong-fuzz: \(problem)\n".utf8)) }
        FileHandle.standardError.write(
            Data(
                """
                usage: lienthong-fuzz list
                       lienthong-fuzz replay TARGET FILE|DIR…     run inputs through a target (no libFuzzer)
                       lienthong-fuzz seeds DIR [TOPOLOGY.json…]  write seed inputs recorded from the real code
                Fuzzing itself: Scripts/fuzz [seconds] (a libFuzzer build of this program).

                """.utf8))
        return 2
    }
}
