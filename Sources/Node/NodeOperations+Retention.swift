import Control
import Envelope
import Foundation
import Spool

/// Retention (`retentionDays`, `archiveDir`) and the disk watermarks, as operations the daemon's
/// `RetentionService` runs and tests call with a clock of their own.
///
/// An inbox document older than the limit is opened (it was sealed to this node) and written out
/// as its files plus `document.json`; a sent document, sealed to its recipients only, is written
/// out as its sealed envelope (`envelope.lte`, which `lienthong envelope inspect` verifies and
/// its recipients can open) plus `tracking.json`. Each goes to a temporary directory first,
/// fsync'd and renamed, and only then is its content removed from the spool in one transaction
/// (`Spool.recordArchived`), so a crash between the two writes it out again, never loses it.
extension NodeOperations {
    /// Where archived documents go: `archiveDir`, relative to the home when not absolute.
    public var archiveRoot: String {
        let dir = settings.archiveDir ?? "archive"
        return dir.hasPrefix("/") ? dir : identity.home.path + "/" + dir
    }

    /// The disk watermark level of the spool's file system now.
    public func diskLevel() -> DiskWatermark.Level {
        DiskWatermark(settings).level(DiskWatermark.usage(identity.home.path))
    }

    /// Refuses a new local send under the refuse watermark, saying what to do.
    func refuseIfDiskFull() throws {
        let mark = DiskWatermark(settings)
        let usage = DiskWatermark.usage(identity.home.path)
        guard mark.level(usage) == .refusing else { return }
        throw NodeError(
            .sendDiskFull,
            """
            not sent: only \(mark.describe(usage, path: identity.home.path)). Documents from other nodes are \
            still received; send again once there is room
            """)
    }

    /// Erases the keys a rotation retired once nothing needs them (`NodeKeys.sweep`): an old
    /// encryption key after the network's longest lifetime since it was retired (nothing sealed
    /// to it can still be on its way) and when no document in the inbox is sealed to it only.
    /// Returns what was erased, also audited.
    @discardableResult
    public func sweepRetiredKeys() throws -> [String] {
        guard let me = identity.topology[identity.id] else { return [] }
        let now = clock()
        let current = identity.boxKeys
        let erased = try identity.keys.sweep(me, now: now, keepFor: gate.limitsNow.maxLifetimeMs) { old in
            var after: EnvelopeID?
            while true {
                let page = try spool.inboxHeaders(after: after, limit: 500)
                guard let last = page.last else { return false }
                for (_, header) in page {
                    guard let header else { return true }  // a row that does not parse: keep the key
                    guard let sealed = try? header.sealedKey(for: identity.id) else { continue }
                    if (try? current.openSealed(sealed)) == nil, (try? old.openSealed(sealed)) != nil { return true }
                }
                after = last.0
            }
        }
        for line in erased { try spool.recordTopology(detail: line, actor: "lienthong", now: now) }
        return erased
    }

    /// Archives up to `limit` documents older than `retentionDays` (by this operations' clock) and
    /// removes their content from the spool. Returns the directories written.
    @discardableResult
    public func applyRetention(limit: Int = 50) throws -> [String] {
        let now = clock()
        let days = Int64(settings.retentionDays ?? 365)
        let due = try spool.retentionCandidates(origin: identity.id, before: now - days * 86_400_000, limit: limit)
        var written: [String] = []
        for candidate in due {
            let target = archivePath(candidate)
            let partial = target + ".partial"
            let files = FileManager.default
            try? files.removeItem(atPath: partial)
            do {
                try files.createDirectory(atPath: partial, withIntermediateDirectories: true)
                let metadata = try writeArchive(candidate, into: partial)
                try? files.removeItem(atPath: target)  // an earlier pass that stopped before its commit
                guard rename(partial, target) == 0 else {
                    throw NodeError(.homeIo, "cannot rename \(partial): \(String(cString: strerror(errno)))")
                }
                Self.syncDirectory((target as NSString).deletingLastPathComponent)
                if try spool.recordArchived(candidate, path: target, metadata: metadata, now: now) {
                    written.append(target)
                }
            } catch {
                try? files.removeItem(atPath: partial)
                throw NodeError(
                    .homeIo,
                    """
                    cannot archive document \(candidate.envelopeID.hex.prefix(16)) to \(target); check \
                    archiveDir and free space (nothing was removed from the spool)
                    """, cause: "\(error)")
            }
        }
        return written
    }

    /// ARCHIVE/YYYY/MM/{received,sent}/ID, by the document's own date.
    func archivePath(_ c: RetentionCandidate) -> String {
        let date = Date(timeIntervalSince1970: Double(c.at) / 1000)
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        let month = String(format: "%04d/%02d", parts.year ?? 1970, parts.month ?? 1)
        return "\(archiveRoot)/\(month)/\(c.direction.rawValue)/\(c.envelopeID.hex)"
    }

    /// Writes one document's archive into `dir`; returns the metadata to keep in the spool.
    private func writeArchive(_ c: RetentionCandidate, into dir: String) throws -> [UInt8]? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        switch c.direction {
        case .received:
            let view = try show(c.envelopeID.hex)
            let writer = try DirectoryPayloadWriter(directory: dir + "/files")
            try DeliveredEnvelope.open(c.envelopeID, spool: spool, identity: identity, into: writer, checkExpiry: false)
            try Self.durableWrite(try encoder.encode(view), to: dir + "/document.json")
            for name in writer.fileNames { try Self.syncFile(dir + "/files/" + name) }
            return writer.metadataBytes
        case .sent:
            guard let head = try spool.envelopeFileHead(c.envelopeID) else { return nil }
            let path = dir + "/envelope.lte"
            FileManager.default.createFile(atPath: path, contents: nil)
            guard let out = FileHandle(forWritingAtPath: path) else {
                throw NodeError(.homeIo, "cannot create \(path)")
            }
            defer { try? out.close() }
            try out.write(contentsOf: head)
            var next = 0
            while true {
                let chunks = try spool.chunks(of: c.envelopeID, from: next, limit: 64)
                if chunks.isEmpty { break }
                for chunk in chunks { try out.write(contentsOf: chunk) }
                next += chunks.count
            }
            try out.synchronize()
            try Self.durableWrite(try encoder.encode(try track(c.envelopeID.hex)), to: dir + "/tracking.json")
            return nil
        }
    }

    static func durableWrite(_ data: Data, to path: String) throws {
        try data.write(to: URL(fileURLWithPath: path))
        try syncFile(path)
    }

    static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NodeError(.homeIo, "cannot open \(path) to flush it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw NodeError(.homeIo, "cannot flush \(path); check free space") }
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// `inbox show` of a document whose content was archived: its kept metadata and where it went.
    func archivedView(_ id: EnvelopeID, _ entry: InboxEntry) throws -> DocumentView? {
        guard let record = try spool.archived(id) else { return nil }
        var view: DocumentView
        if let bytes = record.metadata,
            let metadata = try? JSONDecoder().decode(DocumentMetadata.self, from: Data(bytes))
        {
            view = Self.view(item(entry), metadata, files: [])
        } else {
            view = DocumentView(item: item(entry), subject: "", reference: nil, documentType: nil, files: [])
        }
        view.archivedAt = record.at
        view.archivedTo = record.path
        try annotate(&view, id)
        return view
    }

    /// Export of an archived document is refused with where to find it.
    func refuseIfArchived(_ id: EnvelopeID) throws {
        guard let record = try spool.archived(id) else { return }
        throw NodeError(
            .inboxArchived,
            """
            document \(id.hex.prefix(16))… is older than the retention limit: its content was archived on \
            \(Self.today(record.at)) to \(record.path) and removed from the spool; read it there
            """)
    }
}
