import CSodium

/// `crypto_kx`: X25519 key exchange yielding a pair of session keys (one per direction).
/// Used by link sessions with ephemeral key pairs for forward secrecy.
public final class KXKeyPair: Sendable {
    public static let publicKeyByteCount = Int(lt_kx_PUBLICKEYBYTES)
    public static let sessionKeyByteCount = Int(lt_kx_SESSIONKEYBYTES)
    public let publicKey: [UInt8]
    let secret: SecretBytes

    /// A fresh (ephemeral) key pair.
    public init() {
        Sodium.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: Self.publicKeyByteCount)
        secret = SecretBytes(count: Int(lt_kx_SECRETKEYBYTES)) { sk in
            _ = crypto_kx_keypair(&pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        publicKey = pk
    }

    /// Session keys for the dialling side (`receive`, `transmit`).
    public func clientSessionKeys(serverPublicKey: [UInt8]) throws -> (receive: SecretBytes, transmit: SecretBytes) {
        try sessionKeys(peer: serverPublicKey, client: true)
    }

    /// Session keys for the accepting side (`receive`, `transmit`).
    public func serverSessionKeys(clientPublicKey: [UInt8]) throws -> (receive: SecretBytes, transmit: SecretBytes) {
        try sessionKeys(peer: clientPublicKey, client: false)
    }

    private func sessionKeys(peer: [UInt8], client: Bool) throws -> (receive: SecretBytes, transmit: SecretBytes) {
        guard peer.count == Self.publicKeyByteCount else {
            throw SodiumError(
                .invalidKeyLength, "a kx public key is \(Self.publicKeyByteCount) bytes, got \(peer.count)")
        }
        var rx = [UInt8](repeating: 0, count: Self.sessionKeyByteCount)
        var tx = [UInt8](repeating: 0, count: Self.sessionKeyByteCount)
        defer {
            rx.withUnsafeMutableBytes { Sodium.memzero($0) }
            tx.withUnsafeMutableBytes { Sodium.memzero($0) }
        }
        let rc = secret.withUnsafeBytes { sk in
            let s = sk.baseAddress!.assumingMemoryBound(to: UInt8.self)
            return client
                ? crypto_kx_client_session_keys(&rx, &tx, publicKey, s, peer)
                : crypto_kx_server_session_keys(&rx, &tx, publicKey, s, peer)
        }
        guard rc == 0 else { throw SodiumError(.keyExchangeFailed, "key exchange rejected the peer's public key") }
        return (SecretBytes(copying: rx), SecretBytes(copying: tx))
    }
}
