import Foundation
import SodiumKit
@testable import Envelope

/// A node with fresh keys.
final class Party: Sendable {
    let id: NodeID
    let sign = SigningKeyPair()
    let box = BoxKeyPair()
    init(_ id: String) { self.id = try! NodeID(id) }
}

/// An origin and `n` recipients, with helpers to seal and open raw payloads in memory.
struct Fixture {
    static let now: Int64 = 1_764_000_000_000
    let origin = Party("000.00.01.H27")
    let recipients: [Party]

    init(recipients n: Int = 1) {
        recipients = (0..<n).map { Party(String(format: "000.%02d.%02d.H27", $0 / 100, $0 % 100)) }
    }

    func parameters(chunkSize: Int = SealParameters.defaultChunkSize, urgency: Urgency = .khan,
                    kind: EnvelopeKind = .document) -> SealParameters {
        SealParameters(kind: kind, urgency: urgency, origin: origin.id,
                       recipients: recipients.map { SealRecipient(id: $0.id, encryptionKey: $0.box.publicKey) },
                       createdAt: Self.now, expiresAt: Self.now + 86_400_000, chunkSize: chunkSize)
    }

    func seal(_ payload: [UInt8], chunkSize: Int = SealParameters.defaultChunkSize) throws -> (SealedEnvelope, [UInt8]) {
        let sink = MemorySink()
        let sealed = try EnvelopeSealer.seal(parameters(chunkSize: chunkSize), signer: origin.sign,
                                             payloadSize: UInt64(payload.count), source: MemorySource(payload), body: sink)
        return (sealed, sink.bytes)
    }

    func open(_ sealed: SealedEnvelope, body: [UInt8], as party: Party? = nil, now: Int64 = Fixture.now) throws -> [UInt8] {
        let me = party ?? recipients[0]
        let opener = try EnvelopeOpener(header: sealed.header, table: sealed.table, originKey: origin.sign.publicKey,
                                        recipient: me.id, keys: me.box, now: now)
        let sink = MemorySink()
        try opener.open(body: MemorySource(body), into: sink)
        return sink.bytes
    }
}

func randomPayload(_ n: Int) -> [UInt8] {
    var g = SystemRandomNumberGenerator()
    return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
}

func code(of error: any Error) -> EnvelopeError.Code? { (error as? EnvelopeError)?.code }

func temporaryDirectory() throws -> String {
    let d = NSTemporaryDirectory() + "lt-env-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}
