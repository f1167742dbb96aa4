import Envelope
import Foundation
import GRDB

/// A document's business identity (QCVN 102:2016 §5): what makes two envelopes the same document.
public struct DocumentIdentity: Sendable, Equatable, Codable {
    /// `DocumentId`: `{OrganId},{yyyy/MM/dd},{số}/{ký hiệu}`, when known.
    public var documentId: String?
    /// The issuing agency's OrganId.
    public var organId: String
    public var codeNumber: String?
    public var codeNotation: String?
    /// `yyyy-MM-dd`.
    public var promulgationDate: String?
    /// `BussinessDocType`: 0 new, 1 revocation, 2 update, 3 replacement.
    public var businessType: Int
    /// For types 1–3: the DocumentId of the document revoked, updated or replaced.
    public var refersTo: String?
    public var subject: String

    public init(
        documentId: String?, organId: String, codeNumber: String? = nil, codeNotation: String? = nil,
        promulgationDate: String? = nil, businessType: Int = 0, refersTo: String? = nil, subject: String = ""
    ) {
        self.documentId = documentId
        self.organId = organId
        self.codeNumber = codeNumber
        self.codeNotation = codeNotation
        self.promulgationDate = promulgationDate
        self.businessType = businessType
        self.refersTo = refersTo
        self.subject = subject
    }

    /// Whether the (issuer, số, ký hiệu, date) tuple is complete enough to recognise a duplicate by.
    var hasCode: Bool {
        [codeNumber, codeNotation, promulgationDate].allSatisfy { !($0 ?? "").isEmpty }
    }
}

/// What the spool knows of one document, sent or received.
public struct DocumentRecord: Sendable, Equatable {
    public enum Direction: String, Sendable, Codable { case sent, received }
    public let envelopeID: EnvelopeID
    public let direction: Direction
    public let identity: DocumentIdentity
    /// For a revocation, update or replacement: the received document it refers to.
    public let linkedTo: EnvelopeID?
    /// For a received duplicate: the earlier inbox entry it repeats.
    public let duplicateOf: EnvelopeID?
    /// The metadata kept when a recalled document's content was destroyed.
    public let keptMetadata: [UInt8]?
    public let contentDestroyedAt: Int64?
    public let recordedAt: Int64
}

extension Spool {
    // MARK: - Looking documents up

    /// The earlier new document this node sent that `identity` (a new document) is the same as:
    /// by DocumentId, or by issuer, số, ký hiệu and date.
    public func sentOriginal(of identity: DocumentIdentity) throws -> EnvelopeID? {
        try read { db in try Self.sentOriginal(db, of: identity) }
    }

    static func sentOriginal(_ db: Database, of identity: DocumentIdentity) throws -> EnvelopeID? {
        guard identity.businessType == 0 else { return nil }
        return try Self.original(
            db, of: identity,
            select: """
                SELECT d.envelope_id FROM document d WHERE d.direction = 'sent' AND d.business_type = 0 AND
                """, arguments: [])?.0
    }

    /// The received document, from `origin`, that `identity` (a new document) is the same as: in
    /// the inbox, not itself a duplicate, neither refused (02) nor recalled (13, 15) — a copy sent
    /// again after those is a new delivery. With its current status.
    public func receivedOriginal(of identity: DocumentIdentity, origin: NodeID) throws -> (EnvelopeID, ReceiptStatus)? {
        try read { db in try Self.receivedOriginal(db, of: identity, origin: origin) }
    }

    static func receivedOriginal(
        _ db: Database, of identity: DocumentIdentity, origin: NodeID
    )
        throws -> (EnvelopeID, ReceiptStatus)?
    {
        guard identity.businessType == 0 else { return nil }
        guard
            let (id, status) = try original(
                db, of: identity,
                select: """
                    SELECT d.envelope_id, i.status FROM document d JOIN inbox i ON i.envelope_id = d.envelope_id
                    WHERE d.direction = 'received' AND d.duplicate_of IS NULL AND d.business_type = 0 AND i.origin = ?
                      AND i.status != '02' AND (i.recall IS NULL OR i.recall = '16') AND
                    """, arguments: [origin.rawValue])
        else { return nil }
        guard let status, let parsed = ReceiptStatus(rawValue: status) else {
            throw SpoolError(.corrupt, "an inbox row has an unknown status")
        }
        return (id, parsed)
    }

    /// The received document from `origin` with this DocumentId, whatever its type: what a
    /// revocation, update or replacement refers to.
    public func receivedDocument(documentId: String, origin: NodeID) throws -> EnvelopeID? {
        try read { db in
            try Data.fetchOne(
                db,
                sql: """
                    SELECT d.envelope_id FROM document d JOIN inbox i ON i.envelope_id = d.envelope_id
                    WHERE d.direction = 'received' AND d.duplicate_of IS NULL AND d.document_id = ? AND i.origin = ?
                    ORDER BY d.business_type, d.recorded_at LIMIT 1
                    """, arguments: [documentId, origin.rawValue]
            ).map { try EnvelopeID(bytes: Array($0)) }
        }
    }

    /// The first row of `select` (which ends in `AND`) matching `identity` by DocumentId, else by code.
    private static func original(
        _ db: Database, of identity: DocumentIdentity, select: String,
        arguments: StatementArguments
    ) throws -> (EnvelopeID, String?)? {
        var row: Row?
        if let documentId = identity.documentId {
            row = try Row.fetchOne(
                db, sql: select + " d.document_id = ? ORDER BY d.recorded_at LIMIT 1",
                arguments: arguments + [documentId])
        }
        if row == nil, identity.hasCode {
            row = try Row.fetchOne(
                db,
                sql: select + """
                     d.organ_id = ? AND d.code_number = ? AND d.code_notation = ? AND d.promulgation_date = ?
                    ORDER BY d.recorded_at LIMIT 1
                    """,
                arguments: arguments + [
                    identity.organId, identity.codeNumber, identity.codeNotation,
                    identity.promulgationDate,
                ])
        }
        guard let row else { return nil }
        return (try EnvelopeID(bytes: Array(row["envelope_id"] as Data)), row["status"])
    }

    /// The records of these envelopes (those the spool has).
    public func documentRecords(_ ids: [EnvelopeID]) throws -> [EnvelopeID: DocumentRecord] {
        try read { db in
            var out: [EnvelopeID: DocumentRecord] = [:]
            let statement = try db.cachedStatement(sql: Self.documentSelect + " WHERE envelope_id = ?")
            for id in ids {
                if let row = try Row.fetchOne(statement, arguments: [Data(id.bytes)]) {
                    out[id] = try Self.documentRecord(row)
                }
            }
            return out
        }
    }

    /// Received documents that refer to `id` (revocations, updates, replacements) or repeat it (duplicates).
    public func related(to id: EnvelopeID) throws -> [DocumentRecord] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: Self.documentSelect
                    + " WHERE linked_to = ?1 OR duplicate_of = ?1 ORDER BY recorded_at",
                arguments: [Data(id.bytes)]
            ).map(Self.documentRecord)
        }
    }

    // MARK: - Recording

    /// Records a document inside a custody or settlement transaction; a second record of the
    /// same envelope changes nothing.
    static func recordDocument(
        _ db: Database, _ id: EnvelopeID, _ direction: DocumentRecord.Direction,
        _ identity: DocumentIdentity, linkedTo: EnvelopeID? = nil,
        duplicateOf: EnvelopeID? = nil,
        now: Int64
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO document (envelope_id, direction, document_id, organ_id, code_number, \
                code_notation,
                  promulgation_date, business_type, refers_to, subject, linked_to, duplicate_of, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            Data(id.bytes), direction.rawValue, identity.documentId, identity.organId, identity.codeNumber,
            identity.codeNotation, identity.promulgationDate, identity.businessType, identity.refersTo,
            String(identity.subject.prefix(2000)), linkedTo.map { Data($0.bytes) },
            duplicateOf.map { Data($0.bytes) },
            now,
        ])
    }

    static let documentSelect = """
        SELECT envelope_id, direction, document_id, organ_id, code_number, code_notation, promulgation_date,
          business_type, refers_to, subject, linked_to, duplicate_of, metadata, content_destroyed_at, recorded_at
        FROM document
        """

    static func documentRecord(_ row: Row) throws -> DocumentRecord {
        guard let direction = DocumentRecord.Direction(rawValue: row["direction"]) else {
            throw SpoolError(.corrupt, "a document row has an unknown direction")
        }
        func id(_ column: String) throws -> EnvelopeID? {
            try (row[column] as Data?).map { try EnvelopeID(bytes: Array($0)) }
        }
        let identity = DocumentIdentity(
            documentId: row["document_id"], organId: row["organ_id"], codeNumber: row["code_number"],
            codeNotation: row["code_notation"], promulgationDate: row["promulgation_date"],
            businessType: row["business_type"], refersTo: row["refers_to"], subject: row["subject"])
        return DocumentRecord(
            envelopeID: try EnvelopeID(bytes: Array(row["envelope_id"] as Data)),
            direction: direction,
            identity: identity, linkedTo: try id("linked_to"), duplicateOf: try id("duplicate_of"),
            keptMetadata: (row["metadata"] as Data?).map { Array($0) },
            contentDestroyedAt: row["content_destroyed_at"], recordedAt: row["recorded_at"])
    }
}
