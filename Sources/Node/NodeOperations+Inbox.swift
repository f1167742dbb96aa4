import Control
import Envelope
import Foundation
import Link
import Logging
import SodiumKit
import Spool
import Topology

/// The inbox, tracking and queue operations of `NodeOperations` (its sending half is in
/// NodeOperations.swift).
extension NodeOperations {
    // MARK: - Inbox

    public func inbox(limit: Int) throws -> [InboxItem] {
        let topology = identity.topology  // once, not under the topology's lock per document
        return try spool.inboxListing(limit: max(1, min(limit, 100_000))).map { entry, record in
            var item = self.item(entry, topology: topology)
            if let record { Self.annotate(&item, record) }
            return item
        }
    }

    /// The edXML identity's fields of a list entry.
    static func annotate(_ item: inout InboxItem, _ identity: DocumentIdentity) {
        item.documentId = identity.documentId
        item.reference =
            DocumentMetadata(subject: "", codeNumber: identity.codeNumber, codeNotation: identity.codeNotation)
            .reference
        item.businessDocType = identity.businessType
        item.subject = identity.subject
    }

    func item(_ e: InboxEntry, topology: Topology? = nil) -> InboxItem {
        var item = InboxItem(
            id: e.envelopeID.hex, origin: e.origin.rawValue,
            originName: (topology ?? identity.topology)[e.origin]?.name ?? "?", urgency: e.urgency.cliName,
            receivedAt: e.receivedAt, status: e.status.rawValue, statusAt: e.statusAt,
            payloadBytes: e.payloadSize)
        item.recall = e.recall?.rawValue
        return item
    }

    func inboxID(_ text: String) throws -> (EnvelopeID, InboxEntry) {
        let candidates = text.count == 64 ? [try EnvelopeID(hex: text)] : try spool.envelopeIDs(matchingPrefix: text)
        let found = try candidates.compactMap { id in
            try spool.inboxEntry(id).flatMap { $0.kind == .document ? (id, $0) : nil }
        }
        switch found.count {
        case 1: return found[0]
        case 0:
            throw NodeError(
                .inboxNotFound, "no document in this node's inbox has id \(text); see `lienthong inbox list`")
        default: throw NodeError(.inboxAmbiguous, "\(text) matches \(found.count) documents; give more of the id")
        }
    }

    public func show(_ text: String) throws -> DocumentView {
        let (id, entry) = try inboxID(text)
        if let destroyed = try destroyedView(id, entry) { return destroyed }
        if let archived = try archivedView(id, entry) { return archived }
        let listing = ListingPayload()
        try DeliveredEnvelope.open(id, spool: spool, identity: identity, into: listing, checkExpiry: false)
        let metadata = try JSONDecoder().decode(DocumentMetadata.self, from: Data(listing.metadataBytes))
        var view = Self.view(
            item(entry), metadata,
            files: listing.files.map { .init(name: $0.name, mediaType: $0.mediaType, size: $0.size) })
        view.edxmlPackage = metadata.edxml?.package
        try annotate(&view, id)
        return view
    }

    public func export(_ text: String, to out: String) throws -> ExportReport {
        let (id, _) = try inboxID(text)
        try refuseIfDestroyed(id)
        if let decoded = try exportEdXMLAttachments(id, to: out) { return decoded }
        let writer = try DirectoryPayloadWriter(directory: out)
        try DeliveredEnvelope.open(id, spool: spool, identity: identity, into: writer, checkExpiry: false)
        return ExportReport(id: id.hex, directory: out, files: writer.fileNames)
    }

    /// A clerk's status (03, 04, 05, 06, or 02 with a reason); the receipt goes to the origin in
    /// the same transaction. Returns false when the document is already at or past that status.
    public func setStatus(_ text: String, _ statusText: String, reason: String?) throws -> Bool {
        guard let status = ReceiptStatus(rawValue: statusText),
            [.rejected, .accepted, .assigned, .processing, .done].contains(status)
        else {
            throw NodeError(
                .inboxStatus,
                "'\(statusText)' is not a status a clerk sets; use 02 (reject, with a reason), 03, 04, 05 or 06")
        }
        if status == .rejected && (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw NodeError(.inboxReason, "a rejection (02 từ chối) needs a reason: --reason TEXT")
        }
        let (id, entry) = try inboxID(text)
        let now = clock()
        let receipt = try notices.receipt(for: id, origin: entry.origin, status: status, reason: reason, now: now)
        return try spool.setInboxStatus(id, status, reason: reason, actor: actor, now: now, receipt: receipt)
    }

    // MARK: - Tracking

    public func track(_ text: String) throws -> TrackReport {
        let ids = text.count == 64 ? [try EnvelopeID(hex: text)] : try spool.trackedIDs(matchingPrefix: text)
        guard ids.count == 1, let id = ids.first else {
            throw NodeError(
                ids.isEmpty ? .trackNotFound : .trackAmbiguous,
                ids.isEmpty
                    ? "this node sent no document with id \(text); see `lienthong track`"
                    : "\(text) matches \(ids.count) documents; give more of the id")
        }
        let rows = try spool.tracking(id)
        guard !rows.isEmpty else {
            throw NodeError(.trackNotFound, "this node sent no document with id \(text); see `lienthong track`")
        }
        var counts: [String: Int] = [:]
        for r in rows {
            counts[r.status.rawValue, default: 0] += 1
            if let recall = r.recall { counts[recall.rawValue, default: 0] += 1 }
        }
        return TrackReport(
            id: id.hex, recipients: rows.count, counts: counts,
            entries: rows.map { row in
                var entry = TrackReport.Entry(
                    recipient: row.recipient.rawValue,
                    name: identity.topology[row.recipient]?.name ?? "?",
                    status: row.status.rawValue, statusName: row.status.displayName,
                    reason: row.reason, updatedAt: row.updatedAt)
                entry.recall = row.recall?.rawValue
                entry.recallName = row.recall?.displayName
                entry.recallReason = row.recallReason
                return entry
            })
    }

    /// The newest `limit` documents this node sent (1…100,000), with their counts: one query.
    public func sentList(limit: Int = 200) throws -> [TrackSummary] {
        try spool.sentSummaries(limit: max(1, min(limit, 100_000))).map { s in
            var summary = TrackSummary(id: s.id.hex, sentAt: s.sentAt, recipients: s.recipients, arrived: s.arrived)
            if s.recorded {
                summary.subject = (s.subject ?? "").isEmpty ? nil : s.subject
                summary.reference =
                    DocumentMetadata(subject: "", codeNumber: s.codeNumber, codeNotation: s.codeNotation).reference
            }
            return summary
        }
    }

    // MARK: - Queue

    public func queue(_ a: QueueAction) throws -> Int {
        let peer = try a.peer.map { try NodeID($0) }
        let selector: QueueSelector
        if a.all {
            selector = .all(peer: peer)
        } else {
            guard !a.ids.isEmpty else { throw NodeError(.queueSelect, "name envelope ids (or prefixes), or --all") }
            selector = .envelopes(try a.ids.map(resolveQueued), peer: peer)
        }
        let now = clock()
        switch a.verb {
        case .hold: return try spool.hold(selector, actor: a.actor, now: now)
        case .release: return try spool.release(selector, actor: a.actor, now: now)
        case .retry: return try spool.retry(selector, actor: a.actor, now: now)
        case .delete:
            guard let reason = a.reason, !reason.isEmpty else {
                throw NodeError(.queueReason, "deleting needs a reason (--reason TEXT): it goes into the audit log")
            }
            // Partial envelopes (still being received) have no queue entry: deleted as such.
            guard case .envelopes(let ids, let peer) = selector else {
                return try spool.delete(selector, actor: a.actor, reason: reason, now: now)
            }
            let partial = try ids.filter { try !spool.partialEnvelopes(peer: peer?.rawValue, envelope: $0).isEmpty }
            let dropped = try spool.deletePartials(partial, actor: a.actor, reason: reason, now: now)
            let queued = ids.filter { !partial.contains($0) }
            return try dropped
                + (queued.isEmpty
                    ? 0
                    : spool.delete(
                        .envelopes(queued, peer: peer), actor: a.actor,
                        reason: reason, now: now))
        }
    }

    func resolveQueued(_ text: String) throws -> EnvelopeID {
        if text.count == 64 { return try EnvelopeID(hex: text) }
        let matches = try spool.envelopeIDs(matchingPrefix: text)
        switch matches.count {
        case 1: return matches[0]
        case 0: throw NodeError(.queueNotFound, "no envelope in the spool starts with \(text)")
        default: throw NodeError(.queueAmbiguous, "\(text) matches \(matches.count) envelopes; give more of the id")
        }
    }
}
