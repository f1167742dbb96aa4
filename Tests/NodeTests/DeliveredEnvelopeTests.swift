import Foundation
import Testing
import Envelope
import Node
import Spool

/// Opening a delivered envelope from a head read in a batch (`Spool.storedHeads`) gives the same
/// payload as reading it all from the spool, also when the metadata runs past the first chunk.
@Suite struct DeliveredEnvelopeTests {
    final class Collect: PayloadReceiver {
        struct Enough: Error {}
        var metadata: [UInt8] = []
        var bytes: [UInt8] = []
        let stopAfterMetadata: Bool
        init(stopAfterMetadata: Bool) { self.stopAfterMetadata = stopAfterMetadata }
        func receive(kind: EnvelopeKind, metadata: [UInt8]) throws {
            self.metadata = metadata
            if stopAfterMetadata { throw Enough() }
        }
        func beginFile(name: String, mediaType: String, size: UInt64) throws {}
        func fileBytes(_ b: UnsafeRawBufferPointer) throws { bytes += b }
        func endFile() throws {}
    }

    @Test func aHeadFromTheBatchOpensLikeTheSpoolItself() throws {
        let net = try TestNetwork()
        let sender = try NodeIdentity(home: net.home(commune11))
        let receiver = try NodeIdentity(home: net.home(commune21))
        // Metadata of about 40 KiB in 16 KiB chunks (the smallest the gate takes for an envelope
        // of several): the probe must read on past the head's chunk.
        let metadata = DocumentMetadata(subject: String(repeating: "Báo cáo tình hình ", count: 2000), secrecyLevel: .none)
        let content = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let encoder = try PayloadEncoder(kind: .document, metadata: Array(try JSONEncoder().encode(metadata)),
                                         files: [AttachedFile(name: "a.bin", mediaType: "application/octet-stream", content: .bytes(content))])
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var params = SealParameters(kind: .document, urgency: .thuong, origin: sender.id,
                                    recipients: [SealRecipient(id: receiver.id, encryptionKey: try #require(sender.topology[receiver.id]?.encryptionKey))],
                                    createdAt: now, expiresAt: now + 3_600_000)
        params.chunkSize = 16 << 10
        let file = net.dir + "/doc.lte"
        let sealed = try EnvelopeFile.seal(params, signer: sender.signingKeys, payloadSize: encoder.totalSize, source: encoder, to: file)
        _ = try net.cli(commune21, "envelope", "import", file, "--offline")

        let spool = try Spool(path: receiver.home.spoolPath)
        let head = try #require(try spool.storedHeads([sealed.id], maxBodyBytes: 1 << 20)[sealed.id])
        let viaHead = Collect(stopAfterMetadata: false), direct = Collect(stopAfterMetadata: false)
        try DeliveredEnvelope.open(sealed.id, spool: spool, identity: receiver, into: viaHead, checkExpiry: false, head: head)
        try DeliveredEnvelope.open(sealed.id, spool: spool, identity: receiver, into: direct, checkExpiry: false)
        #expect(viaHead.bytes == content)
        #expect(viaHead.metadata == direct.metadata && viaHead.bytes == direct.bytes)
        #expect(try JSONDecoder().decode(DocumentMetadata.self, from: Data(viaHead.metadata)).subject == metadata.subject)

        // The delivery probe's way: one chunk at a time, stopping after the metadata.
        let probe = Collect(stopAfterMetadata: true)
        #expect(throws: Collect.Enough.self) {
            try DeliveredEnvelope.open(sealed.id, spool: spool, identity: receiver, into: probe, checkExpiry: false, prefixOnly: true, head: head)
        }
        #expect(probe.metadata == direct.metadata)

        // The head's chunk is really used, and still checked against the signed table.
        var bad = head.firstChunk
        bad[bad.count / 2] ^= 0x01
        let tampered = StoredHead(header: head.header, table: head.table, firstChunk: bad)
        #expect(throws: EnvelopeError.self) {
            try DeliveredEnvelope.open(sealed.id, spool: spool, identity: receiver, into: Collect(stopAfterMetadata: false),
                                       checkExpiry: false, head: tampered)
        }
        // Another envelope's head is ignored: the envelope is read from the spool instead.
        let otherFile = net.dir + "/other.lte"
        let otherEncoder = try PayloadEncoder(kind: .document, metadata: Array(try JSONEncoder().encode(metadata)), files: [])
        let other = try EnvelopeFile.seal(params, signer: sender.signingKeys, payloadSize: otherEncoder.totalSize, source: otherEncoder, to: otherFile)
        _ = try net.cli(commune21, "envelope", "import", otherFile, "--offline")
        let otherHead = try #require(try spool.storedHeads([other.id], maxBodyBytes: 1 << 20)[other.id])
        let viaOther = Collect(stopAfterMetadata: false)
        try DeliveredEnvelope.open(sealed.id, spool: spool, identity: receiver, into: viaOther, checkExpiry: false, head: otherHead)
        #expect(viaOther.bytes == content)
    }
}
