import Foundation
import Testing

/// `/metrics` on real daemons: every state of every neighbour from the start, a stopped child
/// seen down by its parent, a waiting envelope counted with its age; `promtool check metrics`
/// accepts the output.
@Suite(.serialized) struct MetricsTests {
    let province = "000.00.00.H27"
    let district = "000.01.00.H27"
    let commune = "000.01.01.H27"

    /// Samples by series (`name{labels}` as printed) → value.
    func scrape(_ base: String, dir: String) throws -> (text: String, samples: [String: Double]) {
        let answer = try DeskClient(base: base, dir: dir).call("GET", "/metrics")
        guard answer.status == 200 else { throw TestFailure("/metrics answered \(answer.status)") }
        var samples: [String: Double] = [:]
        for line in answer.text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return (answer.text, samples)
    }

    @Test func aParentWatchesItsChildrenAndEveryStateIsExported() throws {
        let net = try TestNetwork()
        try net.start([province, district, commune])
        defer { net.stopAll() }
        let base = try net.deskURL(district)
        let (text, fresh) = try scrape(base, dir: net.dir)
        for peer in [province, commune] {
            for state in ["ready", "inflight", "deferred", "held", "quarantined"] {
                #expect(fresh["lienthong_queue_entries{peer=\"\(peer)\",state=\"\(state)\"}"] == 0, "\(peer) \(state)")
            }
            #expect(fresh["lienthong_queue_oldest_age_seconds{peer=\"\(peer)\"}"] == 0)
        }
        #expect(fresh["lienthong_envelopes_total{event=\"forwarded\"}"] == 0)
        #expect((fresh["lienthong_disk_free_bytes"] ?? 0) > 0)
        try waitUntil("the district sees its commune up") {
            try scrape(base, dir: net.dir).samples["lienthong_link_up{peer=\"\(commune)\",role=\"child\"}"] == 1
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let file = net.dir + "/metrics.txt"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "promtool check metrics < \(file)"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let said = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "promtool: \(said)")
        } else {
            Issue.record("promtool is not installed (Debian's prometheus package; Scripts/test installs it)")
        }

        // The commune stops: its district shows it down, and a document for it waits, counted.
        _ = net.stop(commune)
        try waitUntil("the district sees its commune down", timeout: 60) {
            try scrape(base, dir: net.dir).samples["lienthong_link_up{peer=\"\(commune)\",role=\"child\"}"] == 0
        }
        _ = try net.send(from: province, to: commune)
        try waitUntil("the document waits at the district") {
            try scrape(base, dir: net.dir).samples["lienthong_queue_entries{peer=\"\(commune)\",state=\"ready\"}"] == 1
        }
        let after = try scrape(base, dir: net.dir).samples
        #expect((after["lienthong_envelopes_total{event=\"accepted\"}"] ?? 0) >= 1)
        #expect((after["lienthong_link_received_bytes_total{peer=\"\(province)\"}"] ?? 0) > 0)
        // A stranger's garbage on the district's link port is a refused handshake, counted by reason.
        let topology = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: net.dir + "/net/topology.json"))) as? [String: Any]
        let endpoint = ((topology?["nodes"] as? [[String: Any]])?.first { $0["id"] as? String == district })?["endpoint"] as? String
        let port = try #require(endpoint?.split(separator: ":").last.map(String.init))
        let junk = Process()
        junk.executableURL = URL(fileURLWithPath: "/bin/bash")
        junk.arguments = ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port); head -c 4096 /dev/urandom >&3; sleep 1; exec 3>&-"]
        try junk.run()
        junk.waitUntilExit()
        try waitUntil("the refusal is counted") {
            try scrape(base, dir: net.dir).samples.contains { $0.key.hasPrefix("lienthong_refused_total{reason=\"handshake-") && $0.value >= 1 }
        }
        // From the same machine no account is needed; the rest of the desk still needs one.
        #expect(try DeskClient(base: base, dir: net.dir).call("GET", "/api/v1/node").status == 401)
    }
}
