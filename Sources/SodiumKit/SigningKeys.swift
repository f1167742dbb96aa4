import CSodium

/// An Ed25519 public key (32 bytes): a node's identity as pinned in the topology.
public struct SigningPublicKey: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init(bytes: some Collection<UInt8>) throws {
        let b = Array(bytes)
        guard b.count == Self.byteCount else {
            throw SodiumError(.invalidKeyLength, "an Ed25519 public key is \(Self.byteCount) bytes, got \(b.count)")
        }
        self.bytes = b
    }

    /// Verifies a detached Ed25519 signature over `message`.
    public func isValidSignature(_ signature: some Collection<UInt8>, for message: UnsafeRawBufferPointer) -> Bool {
        Sodium.ensureInitialized()
        let sig = Array(signature)
        guard sig.count == Int(lt_sign_BYTES) else { return false }
        return sig.withUnsafeBufferPointer { s in
            bytes.withUnsafeBufferPointer { pk in
                crypto_sign_verify_detached(
                    s.baseAddress!, message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    UInt64(message.count), pk.baseAddress!) == 0
            }
        }
    }

    public func isValidSignature(_ signature: some Collection<UInt8>, for message: [UInt8]) -> Bool {
        message.withUnsafeBytes { isValidSignature(signature, for: $0) }
    }

    /// A short, human-comparable fingerprint: the first 16 bytes of BLAKE2b-256, hex, in groups.
    public var fingerprint: String { Fingerprint.of(bytes) }

    public var description: String { "ed25519:\(Base64.encode(bytes))" }
}

/// An Ed25519 key pair: the node's signing identity. The secret half is zeroed on release.
public final class SigningKeyPair: Sendable {
    public static let signatureByteCount = 64
    public let publicKey: SigningPublicKey
    let secret: SecretBytes

    /// A fresh random key pair.
    public init() {
        Sodium.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: SigningPublicKey.byteCount)
        secret = SecretBytes(count: Int(lt_sign_SECRETKEYBYTES)) { sk in
            _ = crypto_sign_keypair(&pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        // Force-unwrap-free: the length is right by construction.
        publicKey = SigningPublicKey(unchecked: pk)
    }

    /// Rebuilds a key pair from its 64-byte libsodium secret key (seed ‖ public key).
    public init(secretKey: SecretBytes) throws {
        guard secretKey.count == Int(lt_sign_SECRETKEYBYTES) else {
            throw SodiumError(
                .invalidKeyLength, "an Ed25519 secret key is \(lt_sign_SECRETKEYBYTES) bytes, got \(secretKey.count)")
        }
        Sodium.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: SigningPublicKey.byteCount)
        secretKey.withUnsafeBytes { sk in
            _ = crypto_sign_ed25519_sk_to_pk(&pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        secret = secretKey
        publicKey = SigningPublicKey(unchecked: pk)
    }

    /// A detached Ed25519 signature (64 bytes) over `message`.
    public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: Self.signatureByteCount)
        secret.withUnsafeBytes { sk in
            _ = crypto_sign_detached(
                &sig, nil, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return sig
    }

    public func sign(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { sign($0) }
    }
}

extension SigningPublicKey {
    init(unchecked bytes: [UInt8]) { self.bytes = bytes }
}
