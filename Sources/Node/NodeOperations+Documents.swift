import Foundation
import Control
import Envelope
import Link
import Spool

/// Documents by business identity (QCVN 102:2016 §5): duplicates refused at the origin, the
/// identity recorded with the custody commit, recall (13) and the clerk's answer (15, 16).
///
/// Security note: a recall is applied only to documents of the node that signed it (`Spool`
/// checks the inbox entry's origin); destroying content keeps the metadata and the audit trail.
extension DocumentMetadata {
    /// The identity LienThong records: the DocumentId carried in edXML terms, or the standard one
    /// built from số and ký hiệu (a document sent with `--file`); `origin` issues it otherwise.
    public func identity(origin: String) -> DocumentIdentity {
        let organ = edxml?.organId ?? origin
        return DocumentIdentity(
            documentId: edxml?.documentId ?? DocumentEdXMLInfo.documentId(
                organId: organ, date: promulgationDate, codeNumber: codeNumber, codeNotation: codeNotation),
            organId: organ, codeNumber: codeNumber, codeNotation: codeNotation, promulgationDate: promulgationDate,
            businessType: edxml?.businessDocType ?? 0, refersTo: edxml?.refersTo, subject: subject)
    }
}

extension NodeOperations {
    /// At the origin: a new document whose DocumentId was already sent is refused unless `resend`.
    func refuseDuplicate(_ metadata: DocumentMetadata, resend: Bool?) throws {
        let identity = metadata.identity(origin: self.identity.id.rawValue)
        guard resend != true, identity.businessType == 0, let documentId = identity.documentId,
              let earlier = try spool.sentDocument(documentId: documentId) else { return }
        throw NodeError("EDXML-DUPLICATE",
                        "a document with DocumentId \(documentId) was already sent as envelope "
                        + "\(earlier.hex.prefix(16))… "
                        + "(see `lienthong track \(earlier.hex.prefix(16))`); nothing was sent. Send it again with "
                        + "--resend only if it must go a second time, or send an update (BussinessDocType 2)")
    }

    /// The gate's custody for a document sealed here, with its identity to record in the same commit.
    func custody(for header: EnvelopeHeader, metadata: DocumentMetadata) throws -> Custody {
        var custody = try ingress.custody(for: header, from: "local")
        custody.document = metadata.identity(origin: identity.id.rawValue)
        return custody
    }

    /// `lienthong recall ID --reason TEXT`: 13 to every recipient of a document this node sent
    /// (those not already at 13 or beyond), each notice signed, queued with the tracking change.
    public func recall(_ text: String, reason: String) throws -> Int {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw NodeError("RECALL-REASON", "a recall needs a reason (--reason TEXT): the recipients' clerks read it")
        }
        let report = try track(text)
        let id = try EnvelopeID(hex: report.id)
        let now = clock()
        let targets = try report.entries.compactMap { entry -> NodeID? in
            guard let status = ReceiptStatus(rawValue: entry.status), status.rank < ReceiptStatus.recalled.rank
            else { return nil }
            return try NodeID(entry.recipient)
        }
        guard !targets.isEmpty else {
            throw NodeError("RECALL-DONE", "every recipient of \(report.id.prefix(16))… is already at 13 or has "
                            + "answered; see `lienthong track \(report.id.prefix(16))`")
        }
        let notices = try targets.map {
            try self.notices.receipt(for: id, origin: $0, status: .recalled, reason: reason, now: now)
        }
        return try spool.recallSent(id, to: targets, receipts: notices, reason: reason, actor: Self.actor(), now: now)
    }

    /// `lienthong inbox recall accept|reject ID`: 15 or 16, only after the sender's 13. On 15 the
    /// content is destroyed; the metadata stays for `inbox show`.
    public func answerRecall(_ text: String, accept: Bool, reason: String?) throws -> Bool {
        let (id, entry) = try inboxID(text)
        guard entry.status == .recalled else {
            throw NodeError("INBOX-RECALL-STATE", "document \(id.hex.prefix(16))… is at \(entry.status.displayName); "
                            + "a recall can be answered only after its sender recalled it (13)")
        }
        let listing = ListingPayload()
        try DeliveredEnvelope.open(id, spool: spool, identity: identity, into: listing, checkExpiry: false)
        let metadata = try JSONDecoder().decode(DocumentMetadata.self, from: Data(listing.metadataBytes))
        let now = clock()
        let status: ReceiptStatus = accept ? .recallAccepted : .recallRefused
        let receipt = try notices.receipt(for: id, origin: entry.origin, status: status, reason: reason, now: now)
        try spool.answerRecall(id, accept: accept, reason: reason,
                               identity: metadata.identity(origin: entry.origin.rawValue),
                               metadata: listing.metadataBytes, actor: Self.actor(), now: now, receipt: receipt)
        return true
    }

    /// Export of a document whose content was destroyed after a recall: a clear refusal.
    func refuseIfDestroyed(_ id: EnvelopeID) throws {
        guard let record = try spool.documentRecords([id])[id], record.keptMetadata != nil else { return }
        let when = record.contentDestroyedAt.map { " on " + Self.today($0) } ?? ""
        throw NodeError("INBOX-RECALLED",
                        "document \(id.hex.prefix(16))… was recalled by its sender and the clerk agreed (15)\(when): "
                        + "its content was destroyed. `lienthong inbox show` still shows its metadata")
    }

    /// The list item with the recorded identity (one spool read for the whole list).
    func items(_ entries: [InboxEntry]) throws -> [InboxItem] {
        let records = try spool.documentRecords(entries.map(\.envelopeID))
        return entries.map { entry in
            var item = self.item(entry)
            if let identity = records[entry.envelopeID]?.identity {
                item.documentId = identity.documentId
                item.reference = DocumentMetadata(subject: "", codeNumber: identity.codeNumber,
                                                  codeNotation: identity.codeNotation).reference
                item.businessDocType = identity.businessType
                item.subject = identity.subject
            }
            return item
        }
    }

    /// What `inbox show` adds from the record: the link, the later related documents, destruction.
    func annotate(_ view: inout DocumentView, _ id: EnvelopeID) throws {
        let record = try spool.documentRecords([id])[id]
        view.refersToEnvelope = record?.linkedTo?.hex
        view.contentDestroyedAt = record?.contentDestroyedAt
        let related = try spool.related(to: id)
        guard !related.isEmpty else { return }
        let names = ["new", "revocation", "update", "replacement"]
        view.related = related.map {
            .init(id: $0.envelopeID.hex,
                  relation: $0.duplicateOf == id ? "duplicate" : names[max(0, min(3, $0.identity.businessType))],
                  receivedAt: $0.recordedAt)
        }
    }

    /// `inbox show` of a document whose content was destroyed: from the kept metadata.
    func destroyedView(_ id: EnvelopeID, _ entry: InboxEntry) throws -> DocumentView? {
        guard let record = try spool.documentRecords([id])[id], let kept = record.keptMetadata,
              record.contentDestroyedAt != nil else { return nil }
        let metadata = try JSONDecoder().decode(DocumentMetadata.self, from: Data(kept))
        var view = DocumentView(item: item(entry), subject: metadata.subject, reference: metadata.reference,
                                documentType: metadata.documentType, files: [])
        view.documentId = metadata.edxml?.documentId ?? record.identity.documentId
        view.businessDocType = metadata.edxml?.businessDocType
        try annotate(&view, id)
        return view
    }
}
