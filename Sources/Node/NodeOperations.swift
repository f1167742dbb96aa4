import Control
import Envelope
import Foundation
import Gate
import Link
import Logging
import NIOConcurrencyHelpers
import SodiumKit
import Spool
import Topology

/// What operators do to a node: the control server runs these for the CLI, and the CLI runs
/// them itself with `--offline` when the daemon is down. Either way they go through the same
/// gate (`CustodyGate`) and the same spool transactions as link traffic.
///
/// Security note: requests come from the node's owner (the control socket is 0600 in a 0700
/// home). Paths they name are read (attachments) or created (exports) with the daemon's rights;
/// envelope ids and statuses are parsed strictly; secrets never appear in results.
public struct NodeOperations: Sendable {
    public let identity: NodeIdentity
    public let spool: Spool
    /// The one way into the queue, with the running node's sessions to wake (none offline).
    public let gate: CustodyGate
    public let notices: Notices
    public let clock: @Sendable () -> Int64
    /// Live link state (nil offline).
    public let monitor: LinkMonitor?
    /// When the daemon started (nil offline).
    public let startedAt: Int64?
    /// The daemon's logger (nil offline): what a request could not finish after its commit.
    public let logger: Logger?
    /// Where the running node's desk listens (nil offline).
    public let desk: DeskAddress?
    /// Who the audit log names for what these operations do (`acting(as:)`); the Unix user when nil.
    var actorName: String?
    /// The running daemon's settings as `SIGHUP` left them (nil offline: node.json's).
    var live: LiveSettings?
    /// Called after a topology update is in force (the daemon re-dials a changed parent).
    var onTopologyChange: (@Sendable () -> Void)?
    /// The settings in force.
    public var settings: NodeSettings { live?.current ?? identity.settings }

    public init(
        identity: NodeIdentity, spool: Spool, limits: EnvelopeLimits = .default, monitor: LinkMonitor? = nil,
        startedAt: Int64? = nil,
        queueSignal: QueueSignal? = nil, logger: Logger? = nil, desk: DeskAddress? = nil,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.identity = identity
        self.spool = spool
        var gate = CustodyGate(
            me: identity.id, live: identity.liveTopology, spool: spool, limits: limits, signal: queueSignal,
            logger: logger)
        gate.adoptedKeys = Set(identity.adoptedBoxKeys.keys)
        self.gate = gate
        self.notices = Notices(identity: identity, gate: gate)
        self.monitor = monitor
        self.startedAt = startedAt
        self.logger = logger
        self.desk = desk
        self.clock = clock
    }

    /// The same operations on behalf of an account of the desk: the audit log names it
    /// (`desk:NAME`) instead of the daemon's Unix user.
    public func acting(as account: String) -> NodeOperations {
        var copy = self
        copy.actorName = "desk:\(account)"
        return copy
    }

    /// The same operations on behalf of `actor` as the audit log writes it (`operator:NAME` for a
    /// control-socket caller, from the kernel's SO_PEERCRED).
    public func acting(actor: String) -> NodeOperations {
        var copy = self
        copy.actorName = actor
        return copy
    }

    /// Who is acting, for the audit log.
    var actor: String {
        if let actorName { return actorName }
        let env = ProcessInfo.processInfo.environment
        return "operator:\(env["SUDO_USER"] ?? env["USER"] ?? "unknown")"
    }

    /// Runs one control request.
    public func perform(_ request: ControlRequest) throws -> ControlResult {
        defer {
            switch request {
            case .inboxSetStatus, .inboxStatusEdXML, .inboxRecall, .recall, .queue, .topologyPublish:
                gate.notify()
            case .send, .envelopeImport: break  // the gate's commit wakes the senders that need it
            case .status, .peers, .inboxList, .inboxShow, .inboxExport, .inboxExportEdXML, .track,
                .trackEdXMLStatus:
                break
            }
        }
        switch request {
        case .status: return .status(try status())
        case .peers: return .peers(try peers())
        case .send(let r): return .sent(try send(r))
        case .inboxList(let limit): return .inbox(try inbox(limit: limit))
        case .inboxShow(let id): return .document(try show(id))
        case .inboxExport(let id, let out): return .exported(try export(id, to: out))
        case .inboxExportEdXML(let id, let out): return .exported(try exportEdXML(id, to: out))
        case .inboxSetStatus(let id, let status, let reason):
            return .statusChanged(changed: try setStatus(id, status, reason: reason))
        case .inboxStatusEdXML(let id, let file): return .statusChanged(changed: try applyStatusPackage(id, file: file))
        case .inboxRecall(let id, let accept, let reason):
            return .statusChanged(changed: try answerRecall(id, accept: accept, reason: reason))
        case .trackEdXMLStatus(let id, let out): return .exported(try writeStatusPackages(id, to: out))
        case .recall(let id, let reason): return .recalled(recipients: try recall(id, reason: reason))
        case .track(let id?, _): return .tracking(try track(id))
        case .track(nil, let limit): return .sentList(try sentList(limit: limit ?? 200))
        case .queue(let action): return .queueChanged(count: try queue(action))
        case .topologyPublish(let file):
            let bytes = try Topology.readFile(file, limit: Topology.maxFileSize * 2)
            switch try topologyUpdater.apply(bytes, from: actor) {
            case .applied(let version, let neighbours, _):
                onTopologyChange?()
                return .topologyApplied(version: version, neighbours: neighbours)
            case .alreadyHave(let current): return .topologyApplied(version: current, neighbours: 0)
            }
        case .envelopeImport(let file, let from):
            let (header, result, custody) = try gate.acceptFile(file, from: from ?? "local", now: clock())
            return .imported(
                ImportReport(
                    id: header.id.hex, accepted: result == .accepted,
                    nextHops: custody.nextHops.reduce(into: [:]) { $0[$1.key.rawValue] = $1.value.count },
                    deliveredHere: custody.deliverLocally))
        }
    }

    /// Applies signed topology updates for this node.
    public var topologyUpdater: TopologyUpdater {
        TopologyUpdater(identity: identity, spool: spool, notices: notices, logger: logger, clock: clock)
    }

    // MARK: - Sending

    public func send(_ r: SendRequest) throws -> SentReport {
        try refuseIfDiskFull()
        if let package = r.edxml { return try sendEdXML(r, package: package) }
        let topology = identity.topology
        guard !r.to.isEmpty else {
            throw NodeError(.sendNoRecipient, "give at least one recipient (--to ID[,ID…] or --to-subtree ID)")
        }
        let recipients = try Array(Set(r.to.map { try NodeID($0) })).sorted()
        let sealRecipients = try recipients.map { id -> SealRecipient in
            guard let key = topology[id]?.encryptionKey else {
                throw NodeError(
                    .sendUnknownRecipient,
                    """
                    recipient \(id) is not in the topology or has no encryption key; check it with `lienthong \
                    topology validate`
                    """
                )
            }
            return SealRecipient(id: id, encryptionKey: key)
        }
        guard let urgency = Urgency(parsing: r.urgency) else {
            throw NodeError(
                .sendUrgency,
                "unknown urgency '\(r.urgency)'; use thuong, khan, thuong-khan, hoa-toc or hoa-toc-hen-gio")
        }
        guard
            let secrecy = SecrecyLevel(rawValue: r.secrecy)
                ?? SecrecyLevel.allCases.first(where: { "\($0)" == r.secrecy })
        else {
            throw NodeError(
                .sendSecrecy,
                "unknown secrecy level '\(r.secrecy)'; use Thường, Mật, Tối mật or Tuyệt mật")
        }
        try checkExpiry(r.expiresInMs)
        for path in r.files where !FileManager.default.isReadableFile(atPath: path) {
            throw NodeError(
                .sendFile, "cannot read \(path); give a readable file (an absolute path when the daemon runs elsewhere)"
            )
        }
        let now = clock()
        let files = r.files.map {
            AttachedFile(name: ($0 as NSString).lastPathComponent, mediaType: MediaType.guess($0), content: .path($0))
        }
        var metadata = DocumentMetadata(
            subject: r.subject, codeNumber: r.codeNumber, codeNotation: r.codeNotation,
            documentType: r.documentType, promulgationDate: Self.today(now), secrecyLevel: secrecy,
            organName: identity.name)
        if let due = r.dueDate {
            guard Self.isDate(due) else {
                throw NodeError(.sendDueDate, "the due date '\(due.prefix(40))' is not a date; give it as YYYY-MM-DD")
            }
            metadata.dueDate = due
        }
        let params = SealParameters(
            kind: .document, urgency: urgency, origin: identity.id, recipients: sealRecipients,
            createdAt: now, expiresAt: now + r.expiresInMs)
        try refuseDuplicate(metadata, resend: r.resend)
        if r.eachFile == true {
            return try sendEach(files, metadata: metadata, parameters: params, recipients: recipients.count, now: now)
        }
        return try sealAndQueue(
            metadata: metadata, files: files, parameters: params, recipients: recipients.count,
            now: now, resend: r.resend)
    }

    /// `YYYY-MM-DD` with a real month and day.
    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return false }
        return (1900...9999).contains(y) && (1...12).contains(m) && (1...31).contains(d)
    }

    /// An expiry a `send` may ask for: in the future and within the network's maximum lifetime,
    /// checked before any arithmetic on it.
    func checkExpiry(_ ms: Int64) throws {
        let maximum = gate.limits.maxLifetimeMs
        guard ms > 0, ms <= maximum else {
            throw NodeError(
                .sendExpiry,
                "the expiry must be in the future and at most \(maximum / 86_400_000) days "
                    + "(the network's maximum lifetime); give e.g. --expires 30d")
        }
    }

    /// Seals one document and queues it: in memory and one transaction when small, else into the spool.
    func sealAndQueue(
        metadata: DocumentMetadata, files: [AttachedFile], parameters params: SealParameters,
        recipients: Int, now: Int64, resend: Bool? = nil
    ) throws -> SentReport {
        if Self.totalSize(files) <= Self.inMemorySendBytes {
            // Sealed in memory and accepted in one transaction (one fsync), instead of a scratch
            // file taken in by begin / chunks / complete: an urgent note reaches the link sooner.
            let incoming = try sealChecked(
                metadata: metadata, files: files, parameters: params, now: now,
                resend: resend)
            try gate.accept([incoming], now: now)
            return SentReport(
                id: incoming.header.id.hex, recipients: recipients, payloadBytes: incoming.header.layout.payloadSize,
                nextHops: incoming.custody.nextHops.keys.sorted().map(\.rawValue))
        }
        let (header, custody) = try sealIntoSpool(
            metadata: metadata, files: files, parameters: params, now: now,
            resend: resend)
        return SentReport(
            id: header.id.hex, recipients: recipients, payloadBytes: header.layout.payloadSize,
            nextHops: custody.nextHops.keys.sorted().map(\.rawValue))
    }

    /// Chunks per staging transaction: 4 MiB of 64 KiB chunks, as a link's large envelopes.
    static let stagingBatch = 64

    /// Seals a large document straight into the spool, a batch of chunks per transaction, and
    /// accepts it through the gate once its header is signed (`Spool.beginStaging`). Nothing is
    /// kept if sealing or the gate fails.
    func sealIntoSpool(
        metadata: DocumentMetadata, files: [AttachedFile], parameters: SealParameters,
        now: Int64, resend: Bool? = nil
    ) throws -> (EnvelopeHeader, Custody) {
        let staged = try spool.beginStaging(parameters, now: now)
        do {
            let splitter = ChunkSplitter(chunkSize: parameters.chunkSize, batchSize: Self.stagingBatch) {
                [spool] first, chunks in
                try spool.appendStaged(staged, first: first, chunks: chunks)
            }
            let sealed = try DocumentEnvelope.seal(
                metadata: metadata, files: files, parameters: parameters,
                signer: identity.signingKeys, body: splitter)
            try splitter.finish()
            try gate.check(sealed.header, now: now, sealedHere: true)
            let custody = try self.custody(for: sealed.header, metadata: metadata, resend: resend)
            let verifier = try ChunkVerifier(header: sealed.header, table: sealed.table)
            _ = try gate.commit([(sealed.header, sealed.table, custody)], now: now) { custodies in
                [try spool.completeStaged(staged, as: verifier, custody: custodies[0], now: now)]
            }
            return (sealed.header, custody)
        } catch {
            try? spool.dropStaged(staged)
            throw error
        }
    }

    /// Largest batch `--each-file` holds in memory before its one transaction.
    static let maxBatchBytes: UInt64 = 256 << 20
    /// Documents up to this size are sealed in memory; larger ones are sealed into the spool.
    static let inMemorySendBytes: UInt64 = 4 << 20

    /// Total size of the files (unreadable ones count as zero: sealing reports them).
    static func totalSize(_ files: [AttachedFile]) -> UInt64 {
        files.reduce(0) { total, file in
            guard case .path(let path) = file.content, let size = try? FileSource(path: path).size() else {
                return total
            }
            return total + size
        }
    }

    /// Seals one document in memory and passes it through the gate: ready for the spool.
    func sealChecked(
        metadata: DocumentMetadata, files: [AttachedFile], parameters: SealParameters, now: Int64,
        resend: Bool? = nil
    ) throws -> IncomingEnvelope {
        let (sealed, chunks) = try DocumentEnvelope.sealInMemory(
            metadata: metadata, files: files, parameters: parameters, signer: identity.signingKeys)
        try gate.check(sealed.header, now: now, sealedHere: true)
        return IncomingEnvelope(
            verifier: try ChunkVerifier(header: sealed.header, table: sealed.table), chunks: chunks, from: "local",
            custody: try custody(for: sealed.header, metadata: metadata, resend: resend))
    }

    /// One document per file, sealed in parallel, accepted together in one transaction (one
    /// fsync for the batch): through the same gate as every other envelope. Not committed in
    /// smaller groups on purpose: measured, groups of 64 cost every node more CPU (more
    /// transactions, more receipts) than the overlap gained (docs/BENCHMARKS.md).
    func sendEach(
        _ files: [AttachedFile], metadata: DocumentMetadata, parameters: SealParameters, recipients: Int, now: Int64
    ) throws -> SentReport {
        guard !files.isEmpty else { throw NodeError(.sendNoFile, "--each-file needs at least one --file") }
        guard metadata.codeNumber == nil || metadata.codeNotation == nil else {
            // The same số/ký hiệu makes documents the same document: recipients would keep one.
            throw NodeError(
                .sendEachFileCode,
                "--each-file makes one document per file, and documents with the "
                    + "same số and ký hiệu are one document; drop --code-number/--code-notation, "
                    + "or send the files together as one document")
        }
        guard Self.totalSize(files) <= Self.maxBatchBytes else {
            throw NodeError(
                .sendBatchTooLarge,
                """
                a batch sent with --each-file is held in memory up to \(Self.maxBatchBytes >> 20) MiB; send \
                large files one by one
                """
            )
        }
        let batch = try Self.inParallel(files.count) { i -> IncomingEnvelope in
            var m = metadata
            m.subject = metadata.subject + " — " + files[i].name
            return try self.sealChecked(metadata: m, files: [files[i]], parameters: parameters, now: now)
        }
        try gate.accept(batch, now: now)
        return SentReport(
            id: batch[0].header.id.hex, ids: batch.map(\.header.id.hex), recipients: recipients,
            payloadBytes: batch.reduce(0) { $0 + $1.header.layout.payloadSize },
            nextHops: batch[0].custody.nextHops.keys.sorted().map(\.rawValue))
    }

    /// `body(0..<count)` on as many threads as Dispatch gives (one per core), results in
    /// order; the first error is thrown, and items not yet started are skipped after it.
    static func inParallel<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        let results = NIOLockedValueBox([T?](repeating: nil, count: count))
        let failure = NIOLockedValueBox<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            guard failure.withLockedValue({ $0 == nil }) else { return }
            do {
                let r = try body(i)
                results.withLockedValue { $0[i] = r }
            } catch {
                failure.withLockedValue { if $0 == nil { $0 = error } }
            }
        }
        if let error = failure.withLockedValue({ $0 }) { throw error }
        return results.withLockedValue { $0.compactMap { $0 } }  // all set: nothing failed
    }

    static func today(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
