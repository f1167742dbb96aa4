import Foundation
import Testing
import Envelope
@testable import FuzzTargets
import Link

/// The fuzz targets outside libFuzzer: the checked-in corpora and every input that once broke a
/// target must run clean, and the seeds recorded from the real code must reach past the parsers.
@Suite struct FuzzTargetsTests {
    static let fuzzDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz").path

    @Test(arguments: FuzzTarget.allCases)
    func checkedInCorpusRunsClean(target: FuzzTarget) throws {
        let corpus = FuzzEntry.files(at: "\(Self.fuzzDir)/corpus/\(target.rawValue)")
        #expect(corpus.count >= 3, "the \(target.rawValue) corpus is missing (run Scripts/fuzz)")
        for file in corpus + FuzzEntry.files(at: "\(Self.fuzzDir)/regressions/\(target.rawValue)") {
            let data = try #require(FileManager.default.contents(atPath: file))
            #expect(throws: Never.self, "\(file)") { try target.run(Array(data)) }
        }
    }

    @Test func freshSeedsRunClean() throws {
        let seeds = try FuzzSeeds.make()
        for target in FuzzTarget.allCases where target != .topology {
            #expect(!(seeds[target] ?? []).isEmpty)
            for seed in seeds[target] ?? [] {
                #expect(throws: Never.self, "\(target) \(seed.name)") { try target.run(seed.bytes) }
            }
        }
    }

    /// The recorded handshake is a real one: it completes between the fixture's two nodes.
    @Test func recordedHandshakeIsReal() throws {
        let h = try FuzzSeeds.recordHandshake()
        #expect(h.hello.first == 0x01 && h.reply.first == 0x02 && h.auth.first == 0x03 && h.stream.first == 0x05 && h.refusal.first == 0x04)
    }

    /// The invariant checks can fire: a stream cut differently must decode the same, so a frame
    /// over the limit is refused however it arrives, and an envelope with a byte changed in its
    /// signed header does not open.
    @Test func targetsRefuseWithoutFindings() throws {
        var stream: [UInt8] = [0x11] + Array("LTLK".utf8) + [1, 0, 0, 0]
        stream += [0, 0, 0x10, 0] + [UInt8](repeating: 7, count: 100)  // declares 4,096 bytes, limit 1,024
        #expect(throws: Never.self) { try FuzzTarget.frame.run(stream) }
        let seeds = try FuzzSeeds.make()
        var envelope = try #require(seeds[.envelope]?.first?.bytes)
        envelope[40] ^= 1
        #expect(throws: Never.self) { try FuzzTarget.envelope.run(envelope) }
    }

    /// The receiving seeds get envelopes all the way to the custody commit, and the invariants
    /// can fire: an ACK before the commit, STORED beyond what the spool holds.
    @Test func inboundSeedsReachTheCommitAndItsChecksCanFire() throws {
        let seeds = try #require(try FuzzSeeds.make()[.inbound])
        let committed = try seeds.map { try InboundFuzzer.drive($0.bytes).committed.count }
        #expect(committed == [1, 2, 1, 0, 1], "\(seeds.map(\.name))")
        let (sealed, _) = try FuzzFixture.sealDocument(subject: "x", fileBytes: 10, chunkSize: 1024)
        let verifiers = [sealed.id: try ChunkVerifier(header: sealed.header, table: sealed.table)]
        #expect(throws: FuzzFinding.self) {
            try InboundFuzzer.check(.ack([sealed.id]), verifiers: verifiers, spool: .init(), limits: .init())
        }
        #expect(throws: FuzzFinding.self) {
            try InboundFuzzer.check(.stored(sealed.id, 1), verifiers: verifiers, spool: .init(), limits: .init())
        }
        var spool = InboundFuzzer.Spool()
        spool.committed = [sealed.id]
        #expect(throws: Never.self) {
            try InboundFuzzer.check(.ack([sealed.id]), verifiers: verifiers, spool: spool, limits: .init())
        }
    }
}
