import Foundation
import Testing
import Envelope
@testable import Spool

/// Documents by identity in the spool: recorded with custody or settlement, duplicates recorded
/// and not delivered, recall requests only from the origin, answers only after 13, content
/// destroyed once nothing carries it onward.
@Suite struct SpoolDocumentTests {
    let parent = "000.00.00.H27"
    let identity = DocumentIdentity(documentId: "000.00.01.H27,2026/12/01,12/QĐ-UBND", organId: "000.00.01.H27",
                                    codeNumber: "12", codeNotation: "QĐ-UBND", promulgationDate: "2026-12-01",
                                    subject: "Quyết định")

    /// A delivered document, settled with `identity`.
    func deliver(_ f: SpoolFixture, _ spool: Spool, identity: DocumentIdentity?, hops: [String: [String]] = [:])
        throws -> EnvelopeID {
        let doc = try f.envelope(size: 150_000)
        _ = try spool.accept(try f.incoming(doc, hops: hops, local: true), now: SpoolFixture.now)
        try spool.settle([.document(doc.0.header.id, receipt: nil, identity: identity)], now: SpoolFixture.now)
        return doc.0.header.id
    }

    func receipt(_ f: SpoolFixture, size: Int = 100) throws -> IncomingEnvelope {
        try f.incoming(try f.envelope(size: size), from: "local", hops: [parent: [parent]])
    }

    /// A notice applying `status` from `from` to document `id`, settled.
    func notice(_ f: SpoolFixture, _ spool: Spool, _ id: EnvelopeID, _ status: ReceiptStatus, from: NodeID,
                reason: String? = nil) throws {
        let n = try f.envelope(size: 120 + Int.random(in: 0..<1000))
        _ = try spool.accept(try f.incoming(n, hops: [:], local: true), now: SpoolFixture.now)
        try spool.settle([.tracking(n.0.header.id, updates: [
            .init(envelopeID: id, recipient: from, status: status, reason: reason, at: 3),
        ])], now: SpoolFixture.now)
    }

    @Test func aSentDocumentIsRecordedInItsCustodyCommitAndRefusedTwice() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        // A revocation with the DocumentId is not "the same document sent again".
        var revocation = identity
        revocation.businessType = 1
        var first = try f.incoming(try f.envelope(size: 200), from: "local", track: true)
        first.custody.document = revocation
        _ = try spool.accept(first, now: SpoolFixture.now)
        #expect(try spool.sentOriginal(of: identity) == nil)
        let doc = try f.envelope()
        var incoming = try f.incoming(doc, from: "local", track: true)
        incoming.custody.document = identity
        _ = try spool.accept(incoming, now: SpoolFixture.now + 1)
        #expect(try spool.sentOriginal(of: identity) == doc.0.header.id)
        var byCode = identity
        byCode.documentId = "another id, the same số, ký hiệu and date"
        #expect(try spool.sentOriginal(of: byCode) == doc.0.header.id)
        // The same identity again is refused inside the commit, unless resent on purpose.
        var again = try f.incoming(try f.envelope(size: 300), from: "local", track: true)
        again.custody.document = identity
        #expect(throws: SpoolError.self) { _ = try spool.accept(again, now: SpoolFixture.now + 2) }
        #expect(try spool.storedEnvelope(again.header.id) == nil)
        again.custody.resend = true
        _ = try spool.accept(again, now: SpoolFixture.now + 3)
        #expect(try spool.storedEnvelope(again.header.id) != nil)
    }

    @Test func theSameDocumentIsFoundByItsIdOrByItsCodeFromItsOriginOnly() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let first = try deliver(f, spool, identity: identity)
        #expect(try spool.receivedOriginal(of: identity, origin: f.originID)?.0 == first)
        #expect(try spool.receivedOriginal(of: identity, origin: node("000.02.01.H27")) == nil)
        var byCode = identity
        byCode.documentId = nil
        #expect(try spool.receivedOriginal(of: byCode, origin: f.originID)?.0 == first)
        var otherDate = byCode
        otherDate.promulgationDate = "2026-12-02"
        #expect(try spool.receivedOriginal(of: otherDate, origin: f.originID) == nil)

        // Recorded as a duplicate: out of the inbox, its receipt queued, the record kept.
        let dup = try f.envelope(size: 300)
        _ = try spool.accept(try f.incoming(dup, hops: [:], local: true), now: SpoolFixture.now)
        let r = try receipt(f)
        try spool.settle([.duplicate(dup.0.header.id, of: first, identity: identity, receipt: r)],
                         now: SpoolFixture.now)
        #expect(try spool.inboxDocuments().map(\.envelopeID) == [first])
        #expect(try spool.queueEntries().map(\.envelopeID) == [r.header.id])
        #expect(try spool.related(to: first).map(\.envelopeID) == [dup.0.header.id])
        #expect(try spool.documentRecords([dup.0.header.id])[dup.0.header.id]?.duplicateOf == first)
        #expect(try spool.storedEnvelope(dup.0.header.id) == nil)  // its body is not kept

        // Refused (02), it is no longer the original: a copy sent again is a new delivery.
        #expect(try spool.setInboxStatus(first, .rejected, reason: "nhầm", actor: "operator:t", now: 4,
                                         receipt: try receipt(f, size: 101)))
        #expect(try spool.receivedOriginal(of: identity, origin: f.originID) == nil)
    }

    @Test func aRecallComesOnlyFromTheOriginAndIsAnsweredOnceAfter13() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let id = try deliver(f, spool, identity: identity)
        #expect(throws: SpoolError.self) {  // no 13 yet
            try spool.answerRecall(id, accept: true, reason: nil, identity: identity, metadata: [1],
                                   actor: "operator:t", now: 1, receipt: try receipt(f))
        }
        try notice(f, spool, id, .recalled, from: node("000.02.01.H27"), reason: "forged")
        #expect(try spool.inboxEntry(id)?.recall == nil)  // not the origin: ignored
        try notice(f, spool, id, .recalled, from: f.originID, reason: "Ban hành nhầm")
        let entry = try spool.inboxEntry(id)
        #expect(entry?.recall == .recalled && entry?.recallReason == "Ban hành nhầm" && entry?.status == .arrived)
        // The processing status is kept apart: a clerk's status still moves it.
        #expect(try spool.setInboxStatus(id, .accepted, reason: nil, actor: "operator:t", now: 4,
                                         receipt: try receipt(f)))
        try spool.answerRecall(id, accept: true, reason: nil, identity: identity, metadata: Array("{}".utf8),
                               actor: "operator:t", now: 5, receipt: try receipt(f))
        #expect(try spool.inboxEntry(id)?.recall == .recallAccepted && spool.inboxEntry(id)?.status == .accepted)
        #expect(throws: SpoolError.self) {  // answered once
            try spool.answerRecall(id, accept: false, reason: nil, identity: identity, metadata: [1],
                                   actor: "operator:t", now: 6, receipt: try receipt(f))
        }
        #expect(throws: SpoolError.self) {  // no longer handled here
            try spool.setInboxStatus(id, .done, reason: nil, actor: "operator:t", now: 7, receipt: try receipt(f))
        }
        #expect(try spool.chunks(of: id, from: 0, limit: 100).isEmpty)
        let record = try spool.documentRecords([id])[id]
        #expect(record?.keptMetadata == Array("{}".utf8) && record?.contentDestroyedAt == 5)
        #expect(try spool.auditRecords(limit: 100).contains { $0.event == .destroyed && $0.envelopeID == id })
        #expect(try spool.verifyAudit().ok)
    }

    @Test func aRecallThatOvertakesItsDocumentWaitsForIt() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let doc = try f.envelope(size: 150_000)
        let id = doc.0.header.id
        try notice(f, spool, id, .recalled, from: f.originID, reason: "Ban hành nhầm")  // before the document
        _ = try spool.accept(try f.incoming(doc, hops: [:], local: true), now: SpoolFixture.now)
        try spool.settle([.document(id, receipt: nil, identity: identity)], now: SpoolFixture.now)
        let entry = try spool.inboxEntry(id)
        #expect(entry?.recall == .recalled && entry?.recallReason == "Ban hành nhầm")
    }

    @Test func theOriginKeepsEachRecipientsStatusBesideTheRecall() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let sent = try f.envelope(recipients: ["000.01.01.H27", "000.02.01.H27"])
        _ = try spool.accept(try f.incoming(sent, from: "local", track: true), now: SpoolFixture.now)
        let id = sent.0.header.id
        try notice(f, spool, id, .processing, from: node("000.01.01.H27"))
        #expect(try spool.recallSent(id, to: [node("000.01.01.H27"), node("000.02.01.H27")],
                                     receipts: [try receipt(f)], reason: "nhầm", actor: "operator:t", now: 5) == 2)
        #expect(try spool.recallSent(id, to: [node("000.01.01.H27")], receipts: [try receipt(f, size: 99)],
                                     reason: "nhầm", actor: "operator:t", now: 6) == 0)  // once
        try notice(f, spool, id, .recallRefused, from: node("000.01.01.H27"), reason: "đã thi hành")
        try notice(f, spool, id, .done, from: node("000.01.01.H27"))  // 16: the handling goes on
        let rows = Dictionary(uniqueKeysWithValues: try spool.tracking(id).map { ($0.recipient.rawValue, $0) })
        #expect(rows["000.01.01.H27"]?.status == .done && rows["000.01.01.H27"]?.recall == .recallRefused)
        #expect(rows["000.02.01.H27"]?.status == .pending && rows["000.02.01.H27"]?.recall == .recalled)
    }

    @Test func contentStillCarriedOnwardIsDestroyedWhenItsLastEntryLeaves() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        // This node is a recipient and also relays the document to a child.
        let id = try deliver(f, spool, identity: identity, hops: ["000.01.00.H27": ["000.01.01.H27"]])
        try notice(f, spool, id, .recalled, from: f.originID)
        try spool.answerRecall(id, accept: true, reason: nil, identity: identity, metadata: [7], actor: "operator:t",
                               now: 5, receipt: try receipt(f))
        #expect(try !spool.chunks(of: id, from: 0, limit: 100).isEmpty)  // the child still needs it
        #expect(try spool.destroyRecalledContent(now: 6) == 0)
        #expect(try spool.delete(.envelopes([id], peer: node("000.01.00.H27")), actor: "operator:t", reason: "test",
                                 now: 7) == 1)
        #expect(try spool.destroyRecalledContent(now: 8) == 1)
        #expect(try spool.chunks(of: id, from: 0, limit: 100).isEmpty)
        #expect(try spool.documentRecords([id])[id]?.contentDestroyedAt == 8)
    }
}
