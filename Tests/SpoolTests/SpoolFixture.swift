import Foundation
import SodiumKit
import Envelope
@testable import Spool

/// A temporary spool file and envelopes sealed by a real origin key.
final class SpoolFixture {
    let dir: String
    let path: String
    let origin = SigningKeyPair()
    let originID = try! NodeID("000.00.01.H27")
    let recipientKey = BoxKeyPair()
    static let now: Int64 = 1_764_000_000_000

    init() throws {
        dir = NSTemporaryDirectory() + "lt-spool-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = dir + "/spool.sqlite"
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func open() throws -> Spool { try Spool(path: path) }

    /// A sealed envelope (header verified) and its ciphertext chunks.
    func envelope(size: Int = 4096, chunkSize: Int = 65_536, urgency: Urgency = .thuong, recipients: [String] = ["000.01.01.H27"],
                  createdAt: Int64 = SpoolFixture.now, lifetime: Int64 = 86_400_000) throws -> (ChunkVerifier, [[UInt8]]) {
        let params = SealParameters(kind: .document, urgency: urgency, origin: originID,
                                    recipients: try recipients.map { SealRecipient(id: try NodeID($0), encryptionKey: recipientKey.publicKey) },
                                    createdAt: createdAt, expiresAt: createdAt + lifetime, chunkSize: chunkSize)
        let body = MemorySink()
        let sealed = try EnvelopeSealer.seal(params, signer: origin, payloadSize: UInt64(size), source: MemorySource(Sodium.randomBytes(size)), body: body)
        try sealed.header.verifySignature(originKey: origin.publicKey)
        let layout = sealed.header.layout
        let chunks = layout.split(body: body.bytes)
        return (try ChunkVerifier(header: sealed.header, table: sealed.table), chunks)
    }

    func incoming(_ e: (ChunkVerifier, [[UInt8]]), from: String = "000.00.00.H27", hops: [String: [String]] = ["000.01.00.H27": ["000.01.01.H27"]],
                  local: Bool = false, track: Bool = false) throws -> IncomingEnvelope {
        var nextHops: [NodeID: [NodeID]] = [:]
        for (k, v) in hops { nextHops[try NodeID(k)] = try v.map { try NodeID($0) } }
        return IncomingEnvelope(verifier: e.0, chunks: e.1, from: from, custody: Custody(nextHops: nextHops, deliverLocally: local, trackAsOrigin: track))
    }
}

func code(of error: any Error) -> SpoolError.Code? { (error as? SpoolError)?.code }
func node(_ s: String) -> NodeID { try! NodeID(s) }
