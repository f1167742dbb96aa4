import Foundation
import Control

/// A real network of `lienthongd` processes on 127.0.0.1, provisioned from a topology file by
/// the real `lienthong` binary, and driven through the real CLI (control socket).
final class TestNetwork: @unchecked Sendable {
    let dir: String
    let binaries: String
    private var daemons: [String: Process] = [:]

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Provisions `topology` (default: the 7-node small tree) with short timers for tests.
    init(topology: String = "Topology/small.json", settings extra: [String: Any] = [:]) throws {
        dir = NSTemporaryDirectory() + "lt-node-\(UUID().uuidString.prefix(8))"
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path,
                          Self.repositoryRoot + "/.build/debug"]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0 + "/lienthongd") }) else {
            throw TestFailure("lienthongd is not built (run `swift build --build-tests`); looked in \(candidates)")
        }
        binaries = found
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try cli(["topology", "provision", topology.hasPrefix("/") ? topology : Self.repositoryRoot + "/" + topology, "--out", dir + "/net", "--base-port", "\(try Self.freePortBase(count: 16))"])
        for node in try FileManager.default.contentsOfDirectory(atPath: dir + "/net") where node.hasPrefix("0") {
            let path = home(node) + "/node.json"
            var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            var settings: [String: Any] = ["reconnectBaseMs": 100, "reconnectCapMs": 1000, "janitorIntervalMs": 200,
                                           "queuePollMs": 50, "retryBaseMs": 500, "keepaliveMs": 2000, "idleTimeoutMs": 15000]
            for (key, value) in extra { settings[key] = value }
            // Each node's desk on a port of its own, read back from `status --json`.
            settings["httpListen"] = "127.0.0.1:0"
            config["settings"] = settings
            try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
        }
    }

    private var flaky: Process?

    /// Puts each commune's link to its parent behind one `lienthong-flaky` proxy with `faults`
    /// (JSON as in docs/OPERATIONS.md), by pointing the commune's own topology copy at it.
    /// Call before starting the communes.
    func putCommunesBehindFlakyLinks(seed: UInt64, faults: (String) -> [String: Any]) throws {
        try putLinksBehindFlaky(children: nil, seed: seed, faults: faults)
    }

    /// The same for the uplinks of `children` (all communes when nil).
    func putLinksBehindFlaky(children: [String]?, seed: UInt64, faults: (String) -> [String: Any]) throws {
        let topology = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/net/topology.json"))) as? [String: Any] ?? [:]
        let nodes = topology["nodes"] as? [[String: Any]] ?? []
        let endpoint = Dictionary(uniqueKeysWithValues: nodes.compactMap { n in (n["endpoint"] as? String).map { (n["id"] as? String ?? "", $0) } })
        let communes = nodes.filter { n in children.map { $0.contains(n["id"] as? String ?? "") } ?? (n["level"] as? String == "commune") }
        let base = try Self.freePortBase(count: communes.count)
        var links: [[String: Any]] = []
        for (i, c) in communes.enumerated() {
            guard let id = c["id"] as? String, let parent = (c["parents"] as? [String])?.first, let up = endpoint[parent],
                  let port = Int(up.split(separator: ":").last ?? "") else { continue }
            links.append(["name": id, "listenPort": base + i, "upstreamHost": "127.0.0.1", "upstreamPort": port, "faults": faults(id)])
            // The commune's own copy points at the proxy, signed again by the network's authority.
            var own = topology
            own["nodes"] = nodes.map { n in
                var n = n
                if n["id"] as? String == parent { n["endpoint"] = "127.0.0.1:\(base + i)" }
                return n
            }
            let unsigned = dir + "/own-\(id).json"
            try JSONSerialization.data(withJSONObject: own).write(to: URL(fileURLWithPath: unsigned))
            try cli(["topology", "sign", unsigned, "--authority", dir + "/net/authority", "--version", "1",
                     "--out", home(id) + "/topology.json"])
        }
        let config = dir + "/flaky.json"
        try JSONSerialization.data(withJSONObject: ["seed": seed, "links": links]).write(to: URL(fileURLWithPath: config))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binaries + "/lienthong-flaky")
        p.arguments = [config]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        flaky = p
    }

    /// Whether `node`'s daemon is running (started by this network and not stopped).
    func isRunning(_ node: String) -> Bool { daemons[node] != nil }
    /// The daemon's process id, to read its memory from /proc.
    func pid(_ node: String) -> Int32? { daemons[node]?.processIdentifier }

    deinit {
        if let f = flaky, f.isRunning { f.terminate(); f.waitUntilExit() }
        for (_, p) in daemons where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        if ProcessInfo.processInfo.environment["LT_KEEP_TEST_NETWORK"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }

    func home(_ node: String) -> String { dir + "/net/" + node }

    /// A run of free consecutive TCP ports on 127.0.0.1 (checked by binding each one).
    static func freePortBase(count: Int) throws -> Int {
        // Outside the kernel's ephemeral range: a port checked free there can be taken by some
        // process's outgoing connection before the daemon binds it (seen once in the full suite:
        // a district never started). Scripts/lib/ports.py does the same.
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) } ?? []
        let (low, high) = range.count == 2 ? (range[0], range[1]) : (32_768, 60_999)
        let spans = [(10_000, low - count), (high + 1, 65_535 - count)].filter { $0.0 <= $0.1 }
        guard !spans.isEmpty else { throw TestFailure("no room for \(count) ports outside \(low)-\(high)") }
        for _ in 0..<50 {
            let span = spans[Int.random(in: 0..<spans.count)]
            let base = Int.random(in: span.0...span.1)
            if (base..<base + count).allSatisfy(portIsFree) { return base }
        }
        throw TestFailure("no run of \(count) free ports found")
    }

    static func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    // MARK: - Daemons

    func start(_ nodes: [String]) throws {
        for node in nodes {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binaries + "/lienthongd")
            p.arguments = ["--home", home(node)]
            let log = FileHandle(forWritingAtPath: try logFile(node))!
            log.seekToEndOfFile()
            p.standardOutput = log
            p.standardError = log
            try p.run()
            daemons[node] = p
        }
        // Ready when the control socket answers.
        for node in nodes {
            try waitUntil("\(node) answers on its control socket", timeout: 20) {
                (try? ControlClient(socketPath: home(node) + "/control.sock", timeoutSeconds: 2).call(.status))?.ok == true
            }
        }
    }

    func startAll() throws { try start(nodes) }

    var nodes: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/net")) ?? []).filter { $0.hasPrefix("0") }.sorted()
    }

    private func logFile(_ node: String) throws -> String {
        let path = dir + "/\(node).log"
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        return path
    }

    func log(_ node: String) -> String { (try? String(contentsOfFile: dir + "/\(node).log", encoding: .utf8)) ?? "" }

    /// SIGTERM (graceful) or SIGKILL, then wait for the process to end.
    @discardableResult
    func stop(_ node: String, signal: Int32 = SIGTERM) -> Int32 {
        guard let p = daemons[node] else { return -1 }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        daemons[node] = nil
        return p.terminationStatus
    }

    func stopAll() { for n in Array(daemons.keys) { stop(n) } }

    // MARK: - CLI

    /// Runs the real `lienthong` binary; returns stdout, throws with stderr on failure.
    @discardableResult
    func cli(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binaries + "/lienthong")
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw TestFailure("lienthong \(args.joined(separator: " ")) failed: \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    @discardableResult
    func cli(_ node: String, _ args: String...) throws -> String { try cli(args + ["--home", home(node)]) }

    func json<T: Decodable>(_ type: T.Type, _ node: String, _ args: String...) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(try cli(args + ["--home", home(node), "--json"]).utf8))
    }

    /// Sends a document; returns its id.
    func send(from node: String, to: String, subject: String = "Văn bản thử", files: [String] = [], extra: [String] = []) throws -> String {
        var args = ["send", "--home", home(node), "--to", to, "--subject", subject] + extra
        for f in files { args += ["--file", f] }
        return try cli(args).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func track(_ node: String, _ id: String) throws -> TrackReport { try json(TrackReport.self, node, "track", id) }

    func inbox(_ node: String) throws -> [InboxItem] { try json([InboxItem].self, node, "inbox", "list") }

    /// Writes `size` random bytes to a file in the test directory.
    func randomFile(_ name: String, size: Int) throws -> String {
        var bytes = [UInt8](repeating: 0, count: size)
        var rng = SystemRandomNumberGenerator()
        for i in stride(from: 0, to: size, by: 8) {
            let r = rng.next()
            for j in 0..<min(8, size - i) { bytes[i + j] = UInt8(truncatingIfNeeded: r >> (8 * UInt64(j))) }
        }
        let path = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Polls `condition` every 100 ms until it holds or `timeout` seconds pass.
func waitUntil(_ what: String, timeout: Double = 60, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    var lastError: (any Error)?
    while Date() < deadline {
        do { if try condition() { return } } catch { lastError = error }
        Thread.sleep(forTimeInterval: 0.1)
    }
    throw TestFailure("timed out after \(timeout) s waiting until \(what)\(lastError.map { "; last error: \($0)" } ?? "")")
}
