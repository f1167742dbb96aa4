import Control
import Envelope
import Foundation
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
    ///
    /// The issuer is always the signed origin: a DocumentId or OrganId naming another agency (which
    /// the sender controls) is not taken, so no node can pass its document off as another's.
    public func identity(origin: String) -> DocumentIdentity {
        let organ = origin
        let claimed = edxml?.organId == origin ? edxml?.documentId : nil
        return DocumentIdentity(
            documentId: claimed
                ?? DocumentEdXMLInfo.documentId(
                    organId: organ, date: promulgationDate, codeNumber: codeNumber, codeNotation: codeNotation),
            organId: organ, codeNumber: codeNumber, codeNotation: codeNotation, promulgationDate: promulgationDate,
            businessType: edxml?.businessDocType ?? 0, refersTo: edxml?.refersTo, subject: subject)
    }
}

extension NodeOperations {
    /// At the origin: a new document already sent is refused unless `resend`. Matched by
    /// DocumentId or by issuer, số, ký hiệu and date, as recipients match.
    func refuseDuplicate(_ metadata: DocumentMetadata, resend: Bool?) throws {
        let identity = metadata.identity(origin: self.identity.id.rawValue)
        guard resend != true, let earlier = try spool.sentOriginal(of: identity) else { return }
        let code = "\(identity.codeNumber ?? "")/\(identity.codeNotation ?? "")"
        let what = identity.documentId.map { "DocumentId \($0)" } ?? "số/ký hiệu \(code)"
        throw NodeError(
            .edxmlDuplicate,
            "a document with \(what) was already sent as envelope \(earlier.hex.prefix(16))… "
                + "(see `lienthong track \(earlier.hex.prefix(16))`); nothing was sent. Send it again with "
                + "--resend only if it must go a second time; a changed document needs its own số, or, as "
                + "an edXML package, BussinessDocType 2 (update) or 3 (replacement)")
    }

    /// The gate's custody for a document sealed here, with its identity to record in the same commit.
    func custody(for header: EnvelopeHeader, metadata: DocumentMetadata, resend: Bool?) throws -> Custody {
        var custody = try gate.custody(for: header, from: "local")
        custody.document = metadata.identity(origin: identity.id.rawValue)
        custody.resend = resend == true
        custody.submittedBy = actorName
        return custody
    }

    /// `lienthong recall ID --reason TEXT`: 13 to every recipient of a document this node sent
    /// (those without a recall yet), each notice signed, queued with the tracking change.
    public func recall(_ text: String, reason: String) throws -> Int {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw NodeError(.recallReason, "a recall needs a reason (--reason TEXT): the recipients' clerks read it")
        }
        let report = try track(text)
        let id = try EnvelopeID(hex: report.id)
        let now = clock()
        let targets = try report.entries.filter { $0.recall == nil }.map { try NodeID($0.recipient) }
        guard !targets.isEmpty else {
            throw NodeError(
                .recallDone,
                "every recipient of \(report.id.prefix(16))… was already sent the "
                    + "recall (13); see their answers with `lienthong track \(report.id.prefix(16))`")
        }
        // A retired recipient's copy is at its successor: the recall goes there (once for both).
        let topology = identity.topology
        let holders = Set(targets.map { topology.successor(of: $0) ?? $0 }).sorted()
        let notices = try holders.map {
            try self.notices.receipt(for: id, origin: $0, status: .recalled, reason: reason, now: now)
        }
        return try spool.recallSent(id, to: targets, receipts: notices, reason: reason, actor: actor, now: now)
    }

    /// `lienthong inbox recall accept|reject ID`: 15 or 16, only after the sender's 13. On 15 the
    /// content is destroyed; the metadata stays for `inbox show`.
    public func answerRecall(_ text: String, accept: Bool, reason: String?) throws -> Bool {
        let (id, entry) = try inboxID(text)
        guard entry.recall == .recalled else {
            let state =
                entry.recall.map { "has its recall answered already (\($0.displayName))" }
                ?? "has not been recalled by its sender"
            throw NodeError(
                .inboxRecallState,
                "document \(id.hex.prefix(16))… \(state); a recall is answered "
                    + "once, after its sender recalled it (13)")
        }
        let listing = ListingPayload()
        try DeliveredEnvelope.open(id, spool: spool, identity: identity, into: listing, checkExpiry: false)
        let metadata = try JSONDecoder().decode(DocumentMetadata.self, from: Data(listing.metadataBytes))
        let now = clock()
        let status: ReceiptStatus = accept ? .recallAccepted : .recallRefused
        // The answer also covers copies sent again that were recorded as duplicates of this one.
        let duplicates = try spool.related(to: id).filter { $0.duplicateOf == id }.map(\.envelopeID)
        let receipt = try notices.receipt(
            for: [id] + duplicates.prefix(ReceiptBody.maxItems - 1),
            origin: entry.origin, status: status, reason: reason, now: now)
        try spool.answerRecall(
            id, accept: accept, reason: reason,
            identity: metadata.identity(origin: entry.origin.rawValue),
            metadata: listing.metadataBytes, actor: actor, now: now, receipt: receipt)
        return true
    }

    /// Export of a document whose content was destroyed after a recall: a clear refusal.
    func refuseIfDestroyed(_ id: EnvelopeID) throws {
        try refuseIfArchived(id)
        guard let record = try spool.documentRecords([id])[id], record.keptMetadata != nil else { return }
        let content =
            record.contentDestroyedAt.map { "its content was destroyed on " + Self.today($0) }
            ?? "its content is destroyed as soon as this node has passed it on to the other recipients"
        throw NodeError(
            .inboxRecalled,
            "document \(id.hex.prefix(16))… was recalled by its sender and the clerk agreed (15): "
                + "\(content); it is no longer exported. `lienthong inbox show` still shows its metadata")
    }

    /// The list item with the recorded identity (one spool read for the whole list).
    func items(_ entries: [InboxEntry]) throws -> [InboxItem] {
        let records = try spool.documentRecords(entries.map(\.envelopeID))
        return entries.map { entry in
            var item = self.item(entry)
            if let identity = records[entry.envelopeID]?.identity { Self.annotate(&item, identity) }
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
            .init(
                id: $0.envelopeID.hex,
                relation: $0.duplicateOf == id ? "duplicate" : names[max(0, min(3, $0.identity.businessType))],
                receivedAt: $0.recordedAt)
        }
    }

    /// `inbox show` of a document whose content was destroyed: from the kept metadata.
    func destroyedView(_ id: EnvelopeID, _ entry: InboxEntry) throws -> DocumentView? {
        guard let record = try spool.documentRecords([id])[id], let kept = record.keptMetadata,
            record.contentDestroyedAt != nil
        else { return nil }
        let metadata = try JSONDecoder().decode(DocumentMetadata.self, from: Data(kept))
        var view = Self.view(item(entry), metadata, files: [])
        view.documentId = view.documentId ?? record.identity.documentId
        try annotate(&view, id)
        return view
    }

    /// What `inbox show` prints of a document's metadata (its edXML header fields included).
    static func view(_ item: InboxItem, _ metadata: DocumentMetadata, files: [DocumentView.FileEntry]) -> DocumentView {
        var view = DocumentView(
            item: item, subject: metadata.subject, reference: metadata.reference,
            documentType: metadata.documentType, files: files)
        view.documentId = metadata.edxml?.documentId
        view.businessDocType = metadata.edxml?.businessDocType
        view.promulgationDate = metadata.promulgationDate
        view.promulgationPlace = metadata.promulgationPlace
        view.dueDate = metadata.dueDate
        view.steeringType = metadata.steeringType
        view.signerInfo = metadata.signerInfo
        view.organName = metadata.organName
        return view
    }
}
