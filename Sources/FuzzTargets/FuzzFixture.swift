import Envelope
import Foundation
import SodiumKit
import Wire

/// The fixed world every fuzz target runs in: two neighbours of the small test network with
/// fixed keys, and a fixed clock, so seeds recorded in one process are valid in the next.
///
/// Security note: these keys are public (they are in this file) and belong to no real node; no
/// topology anyone deploys may contain them.
public enum FuzzFixture {
    public static let network = "hoa-binh-small"
    /// The hub: acceptor of the handshake, recipient of envelopes.
    public static let hub = fixedID("000.00.00.H27")
    /// A district: dialler of the handshake, origin of envelopes.
    public static let district = fixedID("000.01.00.H27")
    /// The clock every target uses (2026-06-01), in milliseconds.
    public static let now: Int64 = 1_780_272_000_000

    static let hubSigning = signingKeys(
        "cZt3AZnHg0S86ut3YRmev6LjiDur+m8fIKRwpMyP0wuASjo3/X80pKD1wO7dc0dwpwfy+W6EjGixHfa2SSzYiA==")
    static let hubBox = boxKeys("QGWEMPkciJKeGVT02Gw8RBDC4Tt16zgjClPAIKydKUM=")
    static let districtSigning = signingKeys(
        "KK03Vur9Luhx2J1AFQO72QbUzXoujis6DJuVUJb5wGwnoY8BZmY6ti2P7xg3CfBPd38p5aSZwQQAjgW/JOmvnA==")
    static let districtBox = boxKeys("mqyzJGNPfa3Rb+U2O+uPCHOSgmYK5ba2S6Vhn8DUi1U=")

    /// The hub's view of the handshake: the district is its only neighbour.
    static func acceptorIdentity() -> AcceptorIdentity {
        let key = districtSigning.publicKey
        let district = district
        return AcceptorIdentity(
            network: network, me: hub, keys: hubSigning,
            neighbourKey: { $0 == district ? key : nil }, replayGuard: ReplayGuard())
    }

    /// The district dialling the hub.
    static func diallerIdentity() -> DiallerIdentity {
        DiallerIdentity(
            network: network, me: district, keys: districtSigning, target: hub, targetKey: hubSigning.publicKey)
    }

    /// The signing key of a known origin.
    static func originKey(_ id: NodeID) -> SigningPublicKey? {
        switch id {
        case district: districtSigning.publicKey
        case hub: hubSigning.publicKey
        default: nil
        }
    }

    /// A real document envelope from the district to the hub, sealed now (for seeds).
    static func sealDocument(
        subject: String, fileBytes: Int, chunkSize: Int, urgency: Urgency = .thuong
    ) throws -> (SealedEnvelope, chunks: [[UInt8]]) {
        let parameters = SealParameters(
            kind: .document, urgency: urgency, origin: district,
            recipients: [SealRecipient(id: hub, encryptionKey: hubBox.publicKey)],
            createdAt: now - 60_000, expiresAt: now + 365 * 86_400_000, chunkSize: chunkSize)
        let metadata = DocumentMetadata(
            subject: subject, codeNumber: "12", codeNotation: "BC-UBND", documentType: "Báo cáo")
        let file = AttachedFile(
            name: "bao-cao.txt", mediaType: "text/plain",
            content: .bytes((0..<fileBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
        return try DocumentEnvelope.sealInMemory(
            metadata: metadata, files: [file], parameters: parameters, signer: districtSigning)
    }

    // The literals above are valid by construction; a bad one is a bug in this file, caught by
    // the first test that runs any target.
    private static func fixedID(_ s: String) -> NodeID {
        guard let id = try? NodeID(s) else { preconditionFailure("fuzz fixture: bad node id \(s)") }
        return id
    }
    private static func secret(_ base64: String) -> SecretBytes {
        guard let data = Data(base64Encoded: base64) else { preconditionFailure("fuzz fixture: bad base64 key") }
        return SecretBytes(count: data.count) { $0.copyBytes(from: data) }
    }
    private static func signingKeys(_ base64: String) -> SigningKeyPair {
        guard let k = try? SigningKeyPair(secretKey: secret(base64)) else {
            preconditionFailure("fuzz fixture: bad signing key")
        }
        return k
    }
    private static func boxKeys(_ base64: String) -> BoxKeyPair {
        guard let k = try? BoxKeyPair(secretKey: secret(base64)) else {
            preconditionFailure("fuzz fixture: bad box key")
        }
        return k
    }
}
