import Foundation
import Gate
import Envelope
import SodiumKit
import Spool
import Synchronization
import Topology

let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func node(_ s: String) -> NodeID { try! NodeID(s) }

final class Counter: Sendable {
    let value = Atomic<Int>(0)
    func add() { value.wrappingAdd(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// Nodes of Topology/small.json with fresh keys and a spool each: no network, no sessions.
final class GateTestNet: @unchecked Sendable {
    let dir: String
    let topology: Topology
    let signing: [NodeID: SigningKeyPair]
    let boxes: [NodeID: BoxKeyPair]
    var spools: [NodeID: Spool] = [:]

    static let hub = node("000.00.00.H27"), district = node("000.01.00.H27"), commune = node("000.01.01.H27")
    static let otherDistrict = node("000.02.00.H27"), otherCommune = node("000.02.01.H27")

    init() throws {
        dir = NSTemporaryDirectory() + "lt-gate-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var t = try Topology.load(path: repositoryRoot + "/Topology/small.json")
        var s: [NodeID: SigningKeyPair] = [:]
        var b: [NodeID: BoxKeyPair] = [:]
        for n in t.nodes {
            s[n.id] = SigningKeyPair()
            b[n.id] = BoxKeyPair()
            t = t.settingKeys(for: n.id, signing: s[n.id]!.publicKey, encryption: b[n.id]!.publicKey)
        }
        topology = t
        signing = s
        boxes = b
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func spool(_ id: NodeID) throws -> Spool {
        if let s = spools[id] { return s }
        let s = try Spool(path: "\(dir)/\(id.rawValue).sqlite")
        spools[id] = s
        return s
    }

    func gate(_ id: NodeID, signal: QueueSignal? = nil) throws -> CustodyGate {
        CustodyGate(me: id, topology: topology, spool: try spool(id), signal: signal)
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// An envelope sealed by `origin`, its chunks, not yet anywhere.
    func seal(
        from origin: NodeID, to recipients: [NodeID], size: Int, urgency: Urgency = .thuong
    ) throws -> (header: EnvelopeHeader, table: ChunkTable, chunks: [[UInt8]], body: [UInt8]) {
        let now = Self.now
        let params = SealParameters(
            kind: .document, urgency: urgency, origin: origin,
            recipients: recipients.map { SealRecipient(id: $0, encryptionKey: boxes[$0]!.publicKey) },
            createdAt: now, expiresAt: now + 3_600_000)
        let body = MemorySink()
        let sealed = try EnvelopeSealer.seal(
            params, signer: signing[origin]!, payloadSize: UInt64(size), source: MemorySource(Sodium.randomBytes(size)),
            body: body)
        return (sealed.header, sealed.table, sealed.header.layout.split(body: body.bytes), body.bytes)
    }

    /// Seals and accepts an envelope at `origin` through its gate; returns its id.
    @discardableResult
    func send(
        from origin: NodeID, to recipients: [NodeID], size: Int, urgency: Urgency = .thuong,
        signal: QueueSignal? = nil
    ) throws -> EnvelopeID {
        let e = try seal(from: origin, to: recipients, size: size, urgency: urgency)
        let gate = try gate(origin, signal: signal)
        try gate.check(e.header, now: Self.now)
        let incoming = IncomingEnvelope(
            verifier: try ChunkVerifier(header: e.header, table: e.table), chunks: e.chunks, from: "local",
            custody: try gate.custody(for: e.header, from: "local"))
        try gate.accept([incoming], now: Self.now)
        return e.header.id
    }
}
