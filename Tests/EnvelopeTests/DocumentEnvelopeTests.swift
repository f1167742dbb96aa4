import Foundation
import Testing
import SodiumKit
@testable import Envelope

@Suite struct DocumentEnvelopeTests {
    let metadata = DocumentMetadata(
        subject: "Về tăng cường chuyển đổi số trong các cơ quan Đảng", codeNumber: "21", codeNotation: "CT/TU",
        documentType: "Chỉ thị", promulgationDate: "2026-11-25", promulgationPlace: "Hòa Bình", dueDate: "2026-12-31",
        steeringType: 1, signerInfo: "Bí thư Tỉnh ủy", organName: "Tỉnh ủy Hòa Bình")

    @Test func sealsAndOpensDocumentWithFilesThroughAFile() throws {
        let f = Fixture(recipients: 3)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let scan = randomPayload(300_001)
        _ = FileManager.default.createFile(atPath: dir + "/scan.pdf", contents: Data(scan))
        let files = [
            AttachedFile(name: "21-CT-TU.pdf", mediaType: "application/pdf", content: .path(dir + "/scan.pdf")),
            AttachedFile(name: "phụ lục.txt", mediaType: "text/plain", content: .bytes(Array("Phụ lục kèm theo".utf8))),
            AttachedFile(name: "empty.bin", mediaType: "application/octet-stream", content: .bytes([])),
        ]
        let sealed = try DocumentEnvelope.seal(metadata: metadata, files: files, parameters: f.parameters(),
                                               signer: f.origin.sign, to: dir + "/env.lte")
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/env.lte")
        #expect(attrs[.size] as? UInt64 == UInt64(sealed.header.encoded.count + sealed.table.bytes.count) + sealed.header.layout.bodySize)
        for r in f.recipients {
            let out = MemoryPayload()
            let header = try DocumentEnvelope.open(path: dir + "/env.lte", originKey: { _ in f.origin.sign.publicKey },
                                                   recipient: r.id, keys: r.box, now: Fixture.now, into: out)
            #expect(header.id == sealed.id)
            #expect(try out.metadata() == metadata)
            #expect(out.kind == .document)
            #expect(out.files.map(\.name) == ["21-CT-TU.pdf", "phụ lục.txt", "empty.bin"])
            #expect(out.files[0].bytes == scan)
            #expect(out.files[1].bytes == Array("Phụ lục kèm theo".utf8))
            #expect(out.files[2].bytes.isEmpty)
        }
        // Into a directory, as `inbox export` will.
        let outDir = dir + "/out"
        let writer = try DirectoryPayloadWriter(directory: outDir)
        try DocumentEnvelope.open(path: dir + "/env.lte", originKey: { _ in f.origin.sign.publicKey },
                                  recipient: f.recipients[1].id, keys: f.recipients[1].box, now: Fixture.now, into: writer)
        #expect(FileManager.default.contents(atPath: outDir + "/21-CT-TU.pdf") == Data(scan))
        #expect(FileManager.default.fileExists(atPath: outDir + "/metadata.json"))
    }

    @Test(arguments: [SecrecyLevel.mat, .toiMat, .tuyetMat])
    func secretDocumentsAreRefusedAtSealing(level: SecrecyLevel) throws {
        let f = Fixture()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var m = metadata
        m.secrecyLevel = level
        #expect {
            try DocumentEnvelope.seal(metadata: m, files: [], parameters: f.parameters(), signer: f.origin.sign, to: dir + "/x.lte")
        } throws: {
            guard let e = $0 as? EnvelopeError else { return false }
            return e.code == .secrecyRefused && e.message.contains(level.rawValue)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.lte"))
    }

    @Test func sealFailureLeavesNoFile() throws {
        let f = Fixture()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = [AttachedFile(name: "a.pdf", mediaType: "application/pdf", content: .path(dir + "/missing.pdf"))]
        #expect { try DocumentEnvelope.seal(metadata: metadata, files: files, parameters: f.parameters(), signer: f.origin.sign, to: dir + "/x.lte") }
            throws: { code(of: $0) == .io }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.lte"))
    }
}

@Suite struct PayloadCodecTests {
    func encode(_ files: [AttachedFile], metadata: [UInt8] = Array("{}".utf8)) throws -> [UInt8] {
        let e = try PayloadEncoder(kind: .document, metadata: metadata, files: files)
        let bytes = try e.readExactly(Int(e.totalSize), what: "payload")
        #expect(try e.readExactly(0, what: "end").isEmpty)
        return bytes
    }

    @Test func decodesWhateverTheSlicing() throws {
        let files = [AttachedFile(name: "a.txt", mediaType: "text/plain", content: .bytes(randomPayload(1000))),
                     AttachedFile(name: "b", mediaType: "x/y", content: .bytes([]))]
        let bytes = try encode(files)
        for step in [1, 3, 64, bytes.count] {
            let out = MemoryPayload()
            let d = PayloadDecoder(receiver: out)
            for start in stride(from: 0, to: bytes.count, by: step) {
                try bytes[start..<min(bytes.count, start + step)].withUnsafeBytes { try d.write($0) }
            }
            try d.finish()
            #expect(out.files.count == 2)
            #expect(out.files[0].bytes.count == 1000)
            #expect(out.metadataBytes == Array("{}".utf8))
        }
    }

    @Test func refusesHostileFileNames() throws {
        for name in ["../etc/passwd", "a/b", ".hidden", "..", "bad\u{1}name", ""] {
            #expect { try PayloadEncoder(kind: .document, metadata: [], files: [AttachedFile(name: name, mediaType: "a/b", content: .bytes([]))]) }
                throws: { code(of: $0) == .payloadMalformed }
        }
        // A crafted payload (as a hostile origin could seal it) is refused by the decoder too.
        var bytes = try encode([AttachedFile(name: "xxxxxxxxx", mediaType: "a/b", content: .bytes([1]))])
        let at = bytes.count - 1 - 8 - 1 - 3 - 9
        bytes.replaceSubrange(at..<(at + 9), with: Array("../passwd".utf8))
        let d = PayloadDecoder(receiver: MemoryPayload())
        #expect { try bytes.withUnsafeBytes { try d.write($0) } } throws: { code(of: $0) == .payloadMalformed }
    }

    @Test func refusesTruncatedAndTrailingBytes() throws {
        let bytes = try encode([AttachedFile(name: "a", mediaType: "a/b", content: .bytes([1, 2, 3]))])
        let short = PayloadDecoder(receiver: MemoryPayload())
        try bytes.dropLast().withUnsafeBytes { try short.write($0) }
        #expect { try short.finish() } throws: { code(of: $0) == .payloadMalformed }
        let long = PayloadDecoder(receiver: MemoryPayload())
        #expect { try (bytes + [0]).withUnsafeBytes { try long.write($0) } } throws: { code(of: $0) == .payloadMalformed }
        var huge = bytes
        huge[6] = 0x7f  // metadata length ~2 GiB: refused before buffering
        let d = PayloadDecoder(receiver: MemoryPayload())
        #expect { try huge.withUnsafeBytes { try d.write($0) } } throws: { code(of: $0) == .tooLarge }
    }

    /// Payload v2 carries edXML metadata; v1 (older nodes' documents) still opens; v3 is refused.
    @Test func payloadVersionsOneAndTwoOpen() throws {
        var metadata = DocumentMetadata(subject: "Chỉ thị", codeNumber: "21", codeNotation: "CT-TU")
        let plain = try DocumentEnvelope.payload(metadata, [], Fixture().parameters())
        metadata.edxml = DocumentEdXMLInfo(documentId: "000.00.01.H27,2016/08/15,21/CT-TU",
                                           organId: "000.00.01.H27", package: true)
        let edxml = try DocumentEnvelope.payload(metadata, [], Fixture().parameters())
        for (encoder, version) in [(plain, UInt8(1)), (edxml, UInt8(2))] {
            var bytes = try encoder.readExactly(Int(encoder.totalSize), what: "payload")
            #expect(bytes[4] == version)
            let out = MemoryPayload()
            let decoder = PayloadDecoder(receiver: out)
            try bytes.withUnsafeBytes { try decoder.write($0) }
            try decoder.finish()
            #expect(try out.metadata().edxml == (version == 2 ? metadata.edxml : nil))
            bytes[4] = 3
            let refusing = PayloadDecoder(receiver: MemoryPayload())
            #expect { try bytes.withUnsafeBytes { try refusing.write($0) } } throws: {
                code(of: $0) == .unsupportedVersion
            }
        }
        #expect(DocumentEdXMLInfo.documentId(organId: "000.01.01.H27", date: "2026-12-04", codeNumber: "12",
                                             codeNotation: "BC-UBND") == "000.01.01.H27,2026/12/04,12/BC-UBND")
        #expect(DocumentEdXMLInfo.documentId(organId: "x", date: "2026-12-04", codeNumber: nil,
                                             codeNotation: "A") == nil)
    }
}
