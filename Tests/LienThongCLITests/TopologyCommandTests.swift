import Foundation
import Testing
import Envelope
import Topology
@testable import LienThongCLI

@Suite struct TopologyCommandTests {
    @Test func validateAndRouteOnHoaBinh() throws {
        try lienthong("topology", "validate", hoaBinhTopology)
        try lienthong("topology", "route", hoaBinhTopology, "--from", "000.01.01.H27", "--to", "000.02.01.H27")
        #expect(errorText { try lienthong("topology", "route", hoaBinhTopology, "--from", "000.01.01.H27", "--to", "999.99.99.H27") } != nil)
        // A keyless tree is not a running network.
        #expect(errorText { try lienthong("topology", "validate", hoaBinhTopology, "--require-keys") }?.contains("TOPO-") == true)
    }

    @Test func provisionGivesEveryNodeAHomeKeysAndListeners() throws {
        let dir = try temporaryDirectory() + "/net"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try lienthong("topology", "provision", smallTopology, "--out", dir, "--base-port", "7300")
        let t = try Topology.load(path: dir + "/topology.json", requireKeys: true)
        #expect(t.nodes.count == 7)
        for n in t.nodes {
            let home = dir + "/" + n.id.rawValue
            #expect(try mode(home) == 0o710)  // the group reaches control.sock only
            #expect(try mode(home + "/keys") == 0o700)
            #expect(try mode(home + "/keys/sign.key") == 0o600)
            #expect(try mode(home + "/keys/box.key") == 0o600)
            // The topology every home holds is the provisioned one.
            #expect(FileManager.default.contents(atPath: home + "/topology.json") == FileManager.default.contents(atPath: dir + "/topology.signed.json"))
            // A node listens exactly when it has children to accept.
            #expect((n.endpoint != nil) == t.hasChildren(n.id))
        }
        let ports = t.nodes.compactMap { $0.endpoint?.port }
        #expect(Set(ports).count == ports.count)
        #expect(ports.allSatisfy { $0 >= 7300 })
        // Provisioning twice into the same place is refused.
        #expect(errorText { try lienthong("topology", "provision", smallTopology, "--out", dir) }?.contains("PROVISION-NOT-EMPTY") == true)
    }
}

@Suite struct InitAndKeysCommandTests {
    @Test func initCreatesAHomeOnceAndKeysShowReadsIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try lienthong("init", "--node", "000.00.01.H27", "--topology", hoaBinhTopology, "--home", dir + "/tu")
        #expect(try mode(dir + "/tu/keys/sign.key") == 0o600)
        #expect(FileManager.default.fileExists(atPath: dir + "/tu/node.json"))
        try lienthong("keys", "show", "--home", dir + "/tu")
        try lienthong("keys", "show", "--home", dir + "/tu", "--json")
        #expect(errorText { try lienthong("init", "--node", "000.00.01.H27", "--topology", hoaBinhTopology, "--home", dir + "/tu") }?.contains("HOME-EXISTS") == true)
        #expect(errorText { try lienthong("init", "--node", "000.99.99.H27", "--topology", hoaBinhTopology, "--home", dir + "/x") }?.contains("INIT-UNKNOWN-NODE") == true)
        #expect(errorText { try lienthong("keys", "show", "--home", dir + "/nowhere") }?.contains("HOME-MISSING") == true)
        // A key file others can read is refused, with the fix in the message.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir + "/tu/keys/sign.key")
        #expect(errorText { try lienthong("keys", "show", "--home", dir + "/tu") }?.contains("chmod 600") == true)
    }
}

@Suite struct EnvelopeCommandTests {
    @Test func sealInspectOpenAcrossAProvisionedNetwork() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try lienthong("topology", "provision", smallTopology, "--out", dir + "/net")
        let t = try Topology.load(path: dir + "/net/topology.json")
        let root = t.root.id
        let leaves = t.nodes.filter { t.children(of: $0.id).isEmpty }.map(\.id)
        let doc = dir + "/chi-thi.txt"
        try Data("Nội dung chỉ thị số 21".utf8).write(to: URL(fileURLWithPath: doc))
        try lienthong("envelope", "seal", "--home", dir + "/net/" + root.rawValue, "--to-subtree", root.rawValue,
                      "--subject", "Về chuyển đổi số", "--code-number", "21", "--code-notation", "CT/TU",
                      "--urgency", "hoa-toc", "--file", doc, "--out", dir + "/21.lte")
        try lienthong("envelope", "inspect", dir + "/21.lte", "--topology", dir + "/net/topology.json")
        let leaf = leaves[0].rawValue
        try lienthong("envelope", "open", dir + "/21.lte", "--home", dir + "/net/" + leaf, "--out", dir + "/out")
        #expect(FileManager.default.contents(atPath: dir + "/out/chi-thi.txt") == Data("Nội dung chỉ thị số 21".utf8))
        // The sender is not a recipient of its own subtree broadcast.
        #expect(errorText { try lienthong("envelope", "open", dir + "/21.lte", "--home", dir + "/net/" + root.rawValue, "--out", dir + "/o2") }?.contains("ENV-NOT-RECIPIENT") == true)
        // A secret document is refused and leaves no file.
        #expect(errorText {
            try lienthong("envelope", "seal", "--home", dir + "/net/" + root.rawValue, "--to", leaf, "--subject", "x",
                          "--secrecy", "Mật", "--out", dir + "/secret.lte")
        }?.contains("ENV-SECRECY") == true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/secret.lte"))
        // Unknown recipients and a missing file are named.
        #expect(errorText { try lienthong("envelope", "seal", "--home", dir + "/net/" + root.rawValue, "--to", "000.77.77.H27", "--subject", "x", "--out", dir + "/u.lte") }?.contains("RECIPIENT-UNKNOWN") == true)
        #expect(errorText { try lienthong("envelope", "seal", "--home", dir + "/net/" + root.rawValue, "--to", leaf, "--subject", "x", "--file", dir + "/missing.pdf", "--out", dir + "/m.lte") }?.contains("ENV-IO") == true)
        // Tampering is caught by a relay's inspection.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/21.lte"))
        bytes[bytes.count - 3] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: dir + "/bad.lte"))
        #expect(errorText { try lienthong("envelope", "inspect", dir + "/bad.lte", "--topology", dir + "/net/topology.json") }?.contains("ENV-CHUNK-DIGEST") == true)
    }
}
