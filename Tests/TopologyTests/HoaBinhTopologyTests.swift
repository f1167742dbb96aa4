import Envelope
import Foundation
import Testing
@testable import Topology

@Suite("The Hòa Bình province topology file")
struct HoaBinhTopologyTests {
    @Test("167 nodes: 6 province-level (hub + 5 bodies), 10 districts, 151 communes; depth 2")
    func counts() throws {
        let t = try loadHoaBinh()
        #expect(t.network == "hoa-binh-2020")
        #expect(t.nodes.count == 167)
        #expect(t.countByLevel == [.province: 6, .district: 10, .commune: 151])
        #expect(t.maxDepth == 2)
        #expect(t.root.id == id("000.00.00.H27"))
        #expect(t.children(of: t.root.id).count == 15)
        for d in t.nodes where d.level == .district {
            #expect(t.primaryParent(of: d.id) == t.root.id)
            #expect(!t.children(of: d.id).isEmpty)
        }
        for c in t.nodes where c.level == .commune { #expect(t.depth(of: c.id) == 2) }
        #expect(t.nodes.allSatisfy { !$0.hasKeys && $0.endpoint == nil })
    }

    @Test("Vietnamese names keep their diacritics")
    func names() throws {
        let t = try loadHoaBinh()
        #expect(t.root.name == "Trục liên thông tỉnh Hòa Bình")
        #expect(t[id("000.00.01.H27")]?.name == "Tỉnh ủy Hòa Bình (Ban Thường vụ)")
        #expect(t[id("000.00.04.H27")]?.name == "Ủy ban MTTQ Việt Nam tỉnh Hòa Bình")
        #expect(t[id("000.02.00.H27")]?.name == "Huyện Đà Bắc")
        #expect(t[id("000.01.08.H27")]?.name == "Xã Yên Mông")
        #expect(t[id("000.02.00.H27")]?.gso == "150")
        let bodies = t.children(of: t.root.id).compactMap { t[$0] }.filter { $0.level == .province }.map(\.name)
        #expect(bodies == ["Tỉnh ủy Hòa Bình (Ban Thường vụ)", "Ban Tuyên giáo Tỉnh ủy", "UBND tỉnh Hòa Bình",
                           "Ủy ban MTTQ Việt Nam tỉnh Hòa Bình", "Sở Thông tin và Truyền thông"])
    }

    @Test("the note says the codes are illustrative and names the source")
    func note() throws {
        let note = try #require(try loadHoaBinh().note)
        #expect(note.contains("illustrative") && note.contains("NOT the official"))
        #expect(note.contains("hoa-binh-units-2020.tsv"))
    }

    @Test("gso codes are unique where present")
    func gsoUnique() throws {
        let codes = try loadHoaBinh().nodes.compactMap(\.gso)
        #expect(codes.count == 162 && Set(codes).count == 162)
    }

    static let tsv = repoRoot.appendingPathComponent("../shared/data/hoa-binh-units-2020.tsv").standardizedFileURL.path

    @Test("the generator script reproduces hoa-binh.json",
          .enabled(if: FileManager.default.fileExists(atPath: tsv) && FileManager.default.fileExists(atPath: "/usr/bin/python3")))
    func generatorReproduces() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("hoa-binh.json").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [repoRoot.appendingPathComponent("Scripts/make-hoa-binh-topology").path, Self.tsv, "--out", out]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let generated = try Data(contentsOf: URL(fileURLWithPath: out))
        let committed = try Data(contentsOf: URL(fileURLWithPath: topologyFile("hoa-binh.json")))
        #expect(generated == committed)
    }
}
