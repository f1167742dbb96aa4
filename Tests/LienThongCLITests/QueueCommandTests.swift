import Foundation
import Testing
import Envelope
import Spool
import Topology
@testable import LienThongCLI

@Suite struct QueueCommandTests {
    @Test func importQueueSteerAndAuditOnAProvisionedNetwork() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try lienthong("topology", "provision", smallTopology, "--out", dir + "/net")
        let t = try Topology.load(path: dir + "/net/topology.json")
        let hub = t.root.id.rawValue
        let districts = t.children(of: t.root.id).map(\.rawValue)
        let doc = dir + "/bao-cao.txt"
        try Data(repeating: 0x41, count: 200_000).write(to: URL(fileURLWithPath: doc))
        try lienthong("envelope", "seal", "--home", "\(dir)/net/\(hub)", "--to-subtree", hub, "--subject", "Báo cáo",
                      "--urgency", "hoa-toc", "--file", doc, "--out", dir + "/e.lte")

        // The hub takes custody: one entry per district (one copy per next hop), tracked as origin.
        try lienthong("envelope", "import", dir + "/e.lte", "--home", "\(dir)/net/\(hub)", "--offline")
        var spool = try Spool(path: "\(dir)/net/\(hub)/spool.sqlite")
        let entries = try spool.queueEntries()
        #expect(entries.map(\.peer.rawValue).sorted() == districts.sorted())
        let id = entries[0].envelopeID
        #expect(try spool.tracking(id).count == 6)  // every node below the hub
        try lienthong("envelope", "import", dir + "/e.lte", "--home", "\(dir)/net/\(hub)", "--offline")  // duplicate: nothing changes
        #expect(try spool.queueEntries().count == 2)

        // Operators steer it, by short id prefix.
        let prefix = String(id.hex.prefix(10))
        try lienthong("queue", "list", "--home", "\(dir)/net/\(hub)")
        try lienthong("queue", "list", "--home", "\(dir)/net/\(hub)", "--state", "ready", "--json")
        try lienthong("queue", "show", prefix, "--home", "\(dir)/net/\(hub)")
        try lienthong("queue", "shape", "--home", "\(dir)/net/\(hub)", "--json")
        try lienthong("queue", "hold", "--offline", prefix, "--peer", districts[0], "--home", "\(dir)/net/\(hub)")
        spool = try Spool(path: "\(dir)/net/\(hub)/spool.sqlite")
        #expect(try spool.queueEntries(state: .held).map(\.peer.rawValue) == [districts[0]])
        try lienthong("queue", "release", "--offline", "--all", "--home", "\(dir)/net/\(hub)")
        #expect(try spool.queueEntries(state: .ready).count == 2)
        try lienthong("queue", "retry", "--offline", "--all", "--home", "\(dir)/net/\(hub)")
        // Delete without --yes and without a terminal is refused; with --yes it is audited.
        if isatty(0) == 0 {
            #expect(errorText { try lienthong("queue", "delete", "--offline", prefix, "--home", "\(dir)/net/\(hub)") }?.contains("QUEUE-CONFIRM") == true)
        }
        try lienthong("queue", "delete", "--offline", prefix, "--peer", districts[1], "--yes", "--reason", "test", "--home", "\(dir)/net/\(hub)")
        #expect(try spool.queueEntries().count == 1)
        let last = try #require(try spool.auditRecords().last)
        #expect(last.event == .deleted && last.actor.hasPrefix("operator:") && last.detail == "test")
        try lienthong("audit", "verify", "--home", "\(dir)/net/\(hub)")
        try lienthong("audit", "list", "--home", "\(dir)/net/\(hub)", "--envelope", prefix)
        #expect(errorText { try lienthong("queue", "hold", "--offline", "--home", "\(dir)/net/\(hub)") } != nil)  // neither ids nor --all
        #expect(errorText { try lienthong("queue", "show", "ffffffff", "--home", "\(dir)/net/\(hub)") }?.contains("QUEUE-NOT-FOUND") == true)

        // A district receiving it from the hub queues it for its communes only, never back up.
        let d = districts[0]
        try lienthong("envelope", "import", dir + "/e.lte", "--home", "\(dir)/net/\(d)", "--from", hub, "--offline")
        let dspool = try Spool(path: "\(dir)/net/\(d)/spool.sqlite")
        #expect(Set(try dspool.queueEntries().map(\.peer)) == Set(t.children(of: try NodeID(d))))
        #expect(try dspool.inbox().count == 1)  // the district is itself a recipient of the subtree broadcast

        // Tampering on the way is refused before anything is stored.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/e.lte"))
        bytes[bytes.count - 100] ^= 1
        try bytes.write(to: URL(fileURLWithPath: dir + "/bad.lte"))
        let c = t.children(of: try NodeID(d))[0].rawValue
        #expect(errorText { try lienthong("envelope", "import", dir + "/bad.lte", "--home", "\(dir)/net/\(c)", "--from", d, "--offline") }?.contains("SPOOL-CHUNK-REJECTED") == true)
        #expect(try Spool(path: "\(dir)/net/\(c)/spool.sqlite").inbox().isEmpty)
    }
}
