import Foundation
import Gate
import Testing
import Envelope
import Link
import Node
import Spool

/// Receipts and undeliverable notices, sealed by one node and read by another (no network).
@Suite struct NoticesTests {
    @Test func aReceiptSpeaksOnlyForItsSignerAndAnUndeliverableNoticeNamesTheMissing() throws {
        let net = try TestNetwork()  // provisioned homes only; no daemon is started
        let province = try NodeIdentity(home: net.home(hub))
        let commune = try NodeIdentity(home: net.home(commune21))
        let district = try NodeIdentity(home: net.home(district2))
        let spool = try Spool(path: net.dir + "/hub-spool.sqlite")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let document = try EnvelopeID(bytes: Array(repeating: 7, count: 32))

        func deliverToProvince(_ e: IncomingEnvelope) throws -> UnsettledDelivery {
            let here = IncomingEnvelope(verifier: e.verifier, chunks: e.chunks, from: district2, custody: Custody(nextHops: [:], deliverLocally: true))
            _ = try spool.accept(here, now: now)
            return try #require(try spool.unsettledDeliveries(limit: 10).first { $0.envelopeID == e.header.id })
        }
        let communeNotices = Notices(identity: commune, gate: CustodyGate(me: commune.id, topology: commune.topology, spool: spool))
        let receipt = try communeNotices.receipt(for: document, origin: province.id, status: .rejected, reason: "Sai thẩm quyền", now: now)
        #expect(receipt.header.kind == .receipt && receipt.header.recipientIDs == [province.id])
        #expect(receipt.custody.nextHops.keys.map(\.rawValue) == [district2])  // routed up the tree
        let provinceNotices = Notices(identity: province, gate: CustodyGate(me: province.id, topology: province.topology, spool: spool))
        let updates = try provinceNotices.read(try deliverToProvince(receipt), spool: spool)
        #expect(updates == [Spool.ReceiptUpdate(envelopeID: document, recipient: commune.id, status: .rejected, reason: "Sai thẩm quyền", at: receipt.header.createdAt)])

        let districtNotices = Notices(identity: district, gate: CustodyGate(me: district.id, topology: district.topology, spool: spool))
        let event = UndeliverableEvent(envelopeID: document, origin: province.id, kind: .document, peer: commune.id,
                                       recipients: [commune.id, try NodeID(commune22)], expiresAt: now)
        let notice = try districtNotices.undeliverable(event, now: now)
        #expect(notice.header.kind == .control && notice.header.origin == district.id)
        let missing = try provinceNotices.read(try deliverToProvince(notice), spool: spool)
        #expect(missing.map(\.recipient.rawValue) == [commune21, commune22] && missing.allSatisfy { $0.status == .undeliverable })

        // A node that is not a recipient cannot read them (sealed to the province only).
        let districtReads = Notices(identity: district, gate: CustodyGate(me: district.id, topology: district.topology, spool: spool))
        #expect(throws: (any Error).self) { _ = try districtReads.read(UnsettledDelivery(envelopeID: receipt.header.id, kind: .receipt, origin: commune.id), spool: spool) }
    }
}
