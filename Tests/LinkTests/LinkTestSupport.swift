import Foundation
import Gate
import Logging
import NIOCore
import NIOPosix
import Synchronization
import SodiumKit
import Envelope
import Spool
import Topology
import Wire
@testable import Link

let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func node(_ s: String) -> NodeID { try! NodeID(s) }

/// Captures log lines so tests can check that refusals are logged with their reason.
final class LogCapture: Sendable {
    let lines = Locked<[String]>([])
    func handler(label: String) -> any LogHandler { CapturingHandler(capture: self) }
    func contains(_ text: String) -> Bool { lines.withLock { $0.contains { $0.contains(text) } } }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.lines.withLock { $0.append("\(event.level) \(event.message) \(all)") }
        }
    }
}

/// Nodes of Topology/small.json with fresh keys, a spool each, one event loop group, one
/// blocking pool, on 127.0.0.1 only.
final class LinkTestNet: @unchecked Sendable {
    let dir: String
    let topology: Topology
    let signing: [NodeID: SigningKeyPair]
    let boxes: [NodeID: BoxKeyPair]
    // Shared for the whole test process and never shut down: sessions a test has cancelled may
    // still be winding down on them when the next test starts.
    let group = MultiThreadedEventLoopGroup.singleton
    let pool = NIOThreadPool.singleton
    let logs = LogCapture()
    var spools: [NodeID: Spool] = [:]
    /// One per node, shared by all its sessions (as in the daemon): a commit on one link wakes,
    /// and hands urgent entries to, the node's other links.
    var signals: [NodeID: QueueSignal] = [:]

    static let hub = node("000.00.00.H27"), district = node("000.01.00.H27"), commune = node("000.01.01.H27"), otherDistrict = node("000.02.00.H27")

    init(configure: (Topology) -> Topology = { $0 }) throws {
        dir = NSTemporaryDirectory() + "lt-link-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var t = try Topology.load(path: repositoryRoot + "/Topology/small.json")
        var s: [NodeID: SigningKeyPair] = [:], b: [NodeID: BoxKeyPair] = [:]
        for n in t.nodes {
            s[n.id] = SigningKeyPair()
            b[n.id] = BoxKeyPair()
            t = t.settingKeys(for: n.id, signing: s[n.id]!.publicKey, encryption: b[n.id]!.publicKey)
        }
        topology = configure(t)
        signing = s
        boxes = b
    }

    func spool(_ id: NodeID) throws -> Spool {
        if let s = spools[id] { return s }
        let s = try Spool(path: "\(dir)/\(id.rawValue).sqlite")
        spools[id] = s
        return s
    }

    func signal(_ id: NodeID) -> QueueSignal {
        if let s = signals[id] { return s }
        let s = QueueSignal()
        signals[id] = s
        return s
    }

    func context(_ id: NodeID, configuration: LinkConfiguration = LinkConfiguration(), keys: SigningKeyPair? = nil,
                 topology: Topology? = nil, replayGuard: ReplayGuard = ReplayGuard(), limits: EnvelopeLimits = .default) throws -> LinkContext {
        var logger = Logger(label: "link.\(id)", factory: logs.handler)
        logger.logLevel = .info
        logger[metadataKey: "node"] = "\(id)"
        return LinkContext(me: id, keys: keys ?? signing[id]!, topology: topology ?? self.topology, spool: try spool(id), blockingPool: pool,
                           configuration: configuration, logger: logger, replayGuard: replayGuard, queueSignal: signal(id), limits: limits)
    }

    /// Seals an envelope from `origin` to `recipients` and puts it in `origin`'s spool through the gate.
    @discardableResult
    func send(from origin: NodeID, to recipients: [NodeID], size: Int, urgency: Urgency = .thuong, chunkSize: Int = 65_536) throws -> EnvelopeID {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let params = SealParameters(kind: .document, urgency: urgency, origin: origin,
                                    recipients: recipients.map { SealRecipient(id: $0, encryptionKey: boxes[$0]!.publicKey) },
                                    createdAt: now, expiresAt: now + 3_600_000, chunkSize: chunkSize)
        let body = MemorySink()
        let sealed = try EnvelopeSealer.seal(params, signer: signing[origin]!, payloadSize: UInt64(size), source: MemorySource(Sodium.randomBytes(size)), body: body)
        let layout = sealed.header.layout
        let chunks = layout.split(body: body.bytes)
        let gate = CustodyGate(me: origin, topology: topology, spool: try spool(origin), signal: signal(origin))
        try gate.check(sealed.header, now: now)
        let incoming = IncomingEnvelope(verifier: try ChunkVerifier(header: sealed.header, table: sealed.table), chunks: chunks, from: "local",
                                        custody: try gate.custody(for: sealed.header, from: "local"))
        try gate.accept([incoming], now: now)
        return sealed.id
    }

    /// Starts `id`'s listener on 127.0.0.1 (port chosen by the system); returns the port and the task.
    func listen(_ id: NodeID, configuration: LinkConfiguration = LinkConfiguration(), sessions: SessionLog? = nil,
                topology: Topology? = nil, limits: EnvelopeLimits = .default) async throws -> (Int, Task<Void, any Error>) {
        let ctx = try context(id, configuration: configuration, topology: topology, limits: limits)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = self.group
        let task = Task {
            try await LinkEndpoints.listen(host: "127.0.0.1", port: 0, context: ctx, group: group, onBound: { continuation.yield($0) },
                                           onSession: { sessions?.record($0) })
        }
        var it = ports.makeAsyncIterator()
        guard let port = await it.next() else { throw WireError(.timeout, "listener did not bind") }
        return (port, task)
    }

    func dial(_ from: NodeID, to target: NodeID, port: Int, configuration: LinkConfiguration = LinkConfiguration(),
              keys: SigningKeyPair? = nil) throws -> Task<SessionSummary, any Error> {
        let ctx = try context(from, configuration: configuration, keys: keys)
        let group = self.group
        return Task { try await LinkEndpoints.dial(target, at: try Endpoint(host: "127.0.0.1", port: port), context: ctx, group: group) }
    }

    /// Keeps a session from `from` to `target` up (dialling again whenever it ends) until
    /// `condition` holds; returns how many sessions it took.
    func redialUntil(_ from: NodeID, to target: NodeID, port: Int, maxSessions: Int, timeout: Duration = .seconds(120),
                     _ condition: () throws -> Bool) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var sessions = 0
        var current: Task<SessionSummary, any Error>?
        let ended = Counter()
        while try !condition() && ContinuousClock.now < deadline {
            if current == nil || ended.value.load(ordering: .relaxed) == sessions {
                guard sessions < maxSessions else { break }
                sessions += 1
                let task = try dial(from, to: target, port: port)
                current = task
                Task { _ = await task.result; ended.value.wrappingAdd(1, ordering: .relaxed) }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        current?.cancel()
        _ = await current?.result
        return sessions
    }

    /// Polls `condition` until it holds or `timeout` passes.
    func waitUntil(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }

    func shutdown() {
        try? FileManager.default.removeItem(atPath: dir)
    }
}

final class Counter: Sendable { let value = Atomic<Int>(0) }

/// How accepted connections ended.
final class SessionLog: Sendable {
    let results = Locked<[Result<SessionSummary, any Error>]>([])
    func record(_ r: Result<SessionSummary, any Error>) { results.withLock { $0.append(r) } }
    var errors: [String] { results.withLock { $0.compactMap { if case .failure(let e) = $0 { "\(e)" } else { nil } } } }
}
