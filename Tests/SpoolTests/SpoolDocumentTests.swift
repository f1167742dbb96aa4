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

    @Test func aSentDocumentIsRecordedInItsCustodyCommit() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let doc = try f.envelope()
        var incoming = try f.incoming(doc, from: "local", track: true)
        incoming.custody.document = identity
        _ = try spool.accept(incoming, now: SpoolFixture.now)
        #expect(try spool.sentDocument(documentId: identity.documentId!) == doc.0.header.id)
        #expect(try spool.sentDocument(documentId: "000.00.01.H27,2026/12/01,13/QĐ-UBND") == nil)
        // A revocation with the same DocumentId is not "the same document sent again".
        var revocation = identity
        revocation.businessType = 1
        let other = try f.envelope(size: 200)
        var second = try f.incoming(other, from: "local", track: true)
        second.custody.document = revocation
        _ = try spool.accept(second, now: SpoolFixture.now + 1)
        #expect(try spool.sentDocument(documentId: identity.documentId!) == doc.0.header.id)
    }

    @Test func theSameDocumentIsFoundByItsIdOrByItsCode() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let first = try deliver(f, spool, identity: identity)
        #expect(try spool.receivedOriginal(of: identity)?.0 == first)
        var byCode = identity
        byCode.documentId = nil
        #expect(try spool.receivedOriginal(of: byCode)?.0 == first)
        var otherDate = byCode
        otherDate.promulgationDate = "2026-12-02"
        #expect(try spool.receivedOriginal(of: otherDate) == nil)

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
        #expect(try spool.receivedOriginal(of: identity)?.0 == first)  // the duplicate is never the original
        #expect(try spool.storedEnvelope(dup.0.header.id) == nil)  // its body is not kept
    }

    @Test func aRecallComesOnlyFromTheOriginAndIsAnsweredOnlyAfter13() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let id = try deliver(f, spool, identity: identity)
        #expect(throws: SpoolError.self) {  // no 13 yet
            try spool.answerRecall(id, accept: true, reason: nil, identity: identity, metadata: [1],
                                   actor: "operator:t",
                                   now: 1, receipt: try receipt(f))
        }
        let notice = try f.envelope(size: 120)
        _ = try spool.accept(try f.incoming(notice, hops: [:], local: true), now: SpoolFixture.now)
        try spool.settle([.tracking(notice.0.header.id, updates: [
            .init(envelopeID: id, recipient: node("000.02.01.H27"), status: .recalled, reason: "forged", at: 2),
        ])], now: SpoolFixture.now)
        #expect(try spool.inboxEntry(id)?.status == .arrived)  // not the origin: ignored
        let real = try f.envelope(size: 121)
        _ = try spool.accept(try f.incoming(real, hops: [:], local: true), now: SpoolFixture.now)
        try spool.settle([.tracking(real.0.header.id, updates: [
            .init(envelopeID: id, recipient: f.originID, status: .recalled, reason: "Ban hành nhầm", at: 3),
        ])], now: SpoolFixture.now)
        #expect(try spool.inboxEntry(id)?.status == .recalled && spool.inboxEntry(id)?.reason == "Ban hành nhầm")
        // A clerk's status no longer moves it.
        #expect(try spool.setInboxStatus(id, .done, reason: nil, actor: "operator:t", now: 4,
                                         receipt: try receipt(f)) == false)
        try spool.answerRecall(id, accept: true, reason: nil, identity: identity, metadata: Array("{}".utf8),
                               actor: "operator:t", now: 5, receipt: try receipt(f))
        #expect(try spool.inboxEntry(id)?.status == .recallAccepted)
        #expect(try spool.chunks(of: id, from: 0, limit: 100).isEmpty)
        let record = try spool.documentRecords([id])[id]
        #expect(record?.keptMetadata == Array("{}".utf8) && record?.contentDestroyedAt == 5)
        #expect(try spool.auditRecords(limit: 100).contains { $0.event == .destroyed && $0.envelopeID == id })
        #expect(try spool.verifyAudit().ok)
    }

    @Test func contentStillCarriedOnwardIsDestroyedWhenItsLastEntryLeaves() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        // This node is a recipient and also relays the document to a child.
        let id = try deliver(f, spool, identity: identity, hops: ["000.01.00.H27": ["000.01.01.H27"]])
        let notice = try f.envelope(size: 120)
        _ = try spool.accept(try f.incoming(notice, hops: [:], local: true), now: SpoolFixture.now)
        try spool.settle([.tracking(notice.0.header.id, updates: [
            .init(envelopeID: id, recipient: f.originID, status: .recalled, reason: nil, at: 3),
        ])], now: SpoolFixture.now)
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
