import CSodium

/// An X25519 public key (32 bytes): what content keys are sealed to.
public struct BoxPublicKey: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    /// Bytes a sealed box adds to its plaintext (ephemeral public key + MAC).
    public static let sealOverhead = Int(lt_box_SEALBYTES)
    public let bytes: [UInt8]

    public init(bytes: some Collection<UInt8>) throws {
        let b = Array(bytes)
        guard b.count == Self.byteCount else {
            throw SodiumError(.invalidKeyLength, "an X25519 public key is \(Self.byteCount) bytes, got \(b.count)")
        }
        self.bytes = b
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// `crypto_box_seal`: anonymous encryption of `plaintext` to this key.
    public func seal(_ plaintext: UnsafeRawBufferPointer) -> [UInt8] {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: plaintext.count + Self.sealOverhead)
        _ = crypto_box_seal(
            &out, plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count), bytes)
        return out
    }

    public var fingerprint: String { Fingerprint.of(bytes) }
    public var description: String { "x25519:\(Base64.encode(bytes))" }
}

/// An X25519 key pair for sealed boxes. The secret half is zeroed on release.
public final class BoxKeyPair: Sendable {
    public let publicKey: BoxPublicKey
    let secret: SecretBytes

    public init() {
        Sodium.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: BoxPublicKey.byteCount)
        secret = SecretBytes(count: Int(lt_box_SECRETKEYBYTES)) { sk in
            _ = crypto_box_keypair(&pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        publicKey = BoxPublicKey(unchecked: pk)
    }

    /// Rebuilds a key pair from its 32-byte secret key.
    public init(secretKey: SecretBytes) throws {
        guard secretKey.count == Int(lt_box_SECRETKEYBYTES) else {
            throw SodiumError(
                .invalidKeyLength, "an X25519 secret key is \(lt_box_SECRETKEYBYTES) bytes, got \(secretKey.count)")
        }
        Sodium.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: BoxPublicKey.byteCount)
        secretKey.withUnsafeBytes { sk in
            _ = crypto_scalarmult_base(&pk, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        secret = secretKey
        publicKey = BoxPublicKey(unchecked: pk)
    }

    /// `crypto_box_seal_open`: opens a sealed box addressed to this key pair.
    /// The plaintext is returned in a `SecretBytes`, since it is usually a key.
    public func openSealed(_ ciphertext: some Collection<UInt8>) throws -> SecretBytes {
        let ct = Array(ciphertext)
        guard ct.count >= BoxPublicKey.sealOverhead else {
            throw SodiumError(
                .sealedBoxOpenFailed,
                "sealed box is \(ct.count) bytes, shorter than its \(BoxPublicKey.sealOverhead)-byte overhead")
        }
        return try SecretBytes(count: ct.count - BoxPublicKey.sealOverhead) { out in
            let rc = secret.withUnsafeBytes { sk in
                crypto_box_seal_open(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), ct, UInt64(ct.count), publicKey.bytes,
                    sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            guard rc == 0 else {
                throw SodiumError(
                    .sealedBoxOpenFailed,
                    "sealed box does not open with this key (not addressed to us, or tampered with)")
            }
        }
    }
}
