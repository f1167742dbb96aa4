import Foundation
import Testing
@testable import SodiumKit

@Suite struct SigningKeysTests {
    @Test func signAndVerifyDetached() throws {
        let k = SigningKeyPair()
        let msg = Array("chỉ thị 21-CT/TU".utf8)
        let sig = k.sign(msg)
        #expect(sig.count == 64)
        #expect(k.publicKey.isValidSignature(sig, for: msg))
        var bad = msg; bad[0] ^= 1
        #expect(!k.publicKey.isValidSignature(sig, for: bad))
        #expect(!SigningKeyPair().publicKey.isValidSignature(sig, for: msg))
        #expect(!k.publicKey.isValidSignature(sig.prefix(63), for: msg))
    }

    @Test func publicKeyLengthChecked() {
        #expect(throws: SodiumError.self) { try SigningPublicKey(bytes: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: SodiumError.self) { try BoxPublicKey(bytes: [UInt8](repeating: 0, count: 33)) }
    }

    @Test func fingerprintIsStable() {
        let k = SigningKeyPair()
        #expect(k.publicKey.fingerprint == k.publicKey.fingerprint)
        #expect(k.publicKey.fingerprint.split(separator: ":").count == 8)
    }
}

@Suite struct BoxKeysTests {
    @Test func sealedBoxRoundTrip() throws {
        let k = BoxKeyPair()
        let sealed = [UInt8](repeating: 7, count: 32).withUnsafeBytes { k.publicKey.seal($0) }
        #expect(sealed.count == 32 + BoxPublicKey.sealOverhead)
        let opened = try k.openSealed(sealed)
        opened.withUnsafeBytes { #expect(Array($0) == [UInt8](repeating: 7, count: 32)) }
        #expect(throws: SodiumError.self) { try BoxKeyPair().openSealed(sealed) }
        var tampered = sealed; tampered[40] ^= 0x80
        #expect(throws: SodiumError.self) { try k.openSealed(tampered) }
        #expect(throws: SodiumError.self) { try k.openSealed([1, 2, 3]) }
    }
}

@Suite struct SecretStreamTests {
    @Test func pushPullChunksInOrder() throws {
        let key = SecretStream.makeKey()
        let pusher = try SecretStreamPusher(key: key)
        let chunks: [[UInt8]] = [Array("một".utf8), [], Array(repeating: 9, count: 70_000)]
        let cts = try chunks.enumerated().map { try pusher.push($1, isFinal: $0 == chunks.count - 1) }
        let puller = try SecretStreamPuller(key: key, header: pusher.header)
        for (i, ct) in cts.enumerated() {
            let r = try puller.pull(ct)
            #expect(r.plaintext == chunks[i])
            #expect(r.isFinal == (i == cts.count - 1))
        }
        #expect(throws: SodiumError.self) { _ = try puller.pull(cts[0]) }  // nothing after final
    }

    @Test func reorderedOrTamperedChunkFails() throws {
        let key = SecretStream.makeKey()
        let pusher = try SecretStreamPusher(key: key)
        let a = try pusher.push([1, 2, 3], isFinal: false), b = try pusher.push([4, 5], isFinal: true)
        let p1 = try SecretStreamPuller(key: key, header: pusher.header)
        #expect(throws: SodiumError.self) { _ = try p1.pull(b) }
        let p2 = try SecretStreamPuller(key: key, header: pusher.header)
        var t = a; t[t.count - 1] ^= 1
        #expect(throws: SodiumError.self) { _ = try p2.pull(t) }
        #expect(throws: SodiumError.self) { _ = try SecretStreamPuller(key: SecretStream.makeKey(), header: pusher.header).pull(a) }
    }
}

@Suite struct Blake2bTests {
    @Test func knownAnswer() {
        // BLAKE2b-256("") from the BLAKE2 reference implementation.
        #expect(Hex.encode(Blake2b.hash([])) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
        // BLAKE2b-512("abc") from RFC 7693 appendix A.
        #expect(Hex.encode(Blake2b.hash(Array("abc".utf8), outputLength: 64)).hasPrefix("ba80a53f981c4d0d6a2797b69f12f6e9"))
    }

    @Test func incrementalMatchesOneShot() {
        let data = (0..<100_000).map { UInt8($0 % 251) }
        let h = Blake2bHasher()
        h.update(Array(data[0..<12_345]))
        h.update(Array(data[12_345...]))
        #expect(h.finalize() == Blake2b.hash(data))
    }
}

@Suite struct KeyExchangeTests {
    @Test func bothSidesDeriveMatchingKeys() throws {
        let client = KXKeyPair(), server = KXKeyPair()
        let c = try client.clientSessionKeys(serverPublicKey: server.publicKey)
        let s = try server.serverSessionKeys(clientPublicKey: client.publicKey)
        let ctx = c.transmit.withUnsafeBytes { Array($0) }, srx = s.receive.withUnsafeBytes { Array($0) }
        let crx = c.receive.withUnsafeBytes { Array($0) }, stx = s.transmit.withUnsafeBytes { Array($0) }
        #expect(ctx == srx)
        #expect(crx == stx)
        #expect(ctx != crx)
        #expect(throws: SodiumError.self) { _ = try client.clientSessionKeys(serverPublicKey: [1, 2]) }
    }
}

@Suite struct UtilityTests {
    @Test func constantTimeCompare() {
        #expect(Sodium.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Sodium.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Sodium.constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(Sodium.constantTimeEqual([UInt8](), []))
    }

    @Test func randomBytesDiffer() {
        #expect(Sodium.randomBytes(32) != Sodium.randomBytes(32))
        #expect(Sodium.randomBytes(0).isEmpty)
    }

    @Test func base64AndHexRoundTrip() {
        let b = Sodium.randomBytes(77)
        #expect(Base64.decode(Base64.encode(b)) == b)
        #expect(Base64.decode("not base64!!") == nil)
        #expect(Hex.decode(Hex.encode(b)) == b)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}

@Suite struct KeyFileTests {
    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "lt-keyfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func writesOwnerOnlyAndReloads() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let k = SigningKeyPair(), b = BoxKeyPair()
        try k.write(to: dir + "/sign.key")
        try b.write(to: dir + "/box.key")
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/sign.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try SigningKeyPair(keyFile: dir + "/sign.key").publicKey == k.publicKey)
        #expect(try BoxKeyPair(keyFile: dir + "/box.key").publicKey == b.publicKey)
        // Never overwrites an existing key.
        #expect(throws: SodiumError.self) { try SigningKeyPair().write(to: dir + "/sign.key") }
        // The wrong kind of key is named.
        #expect { try BoxKeyPair(keyFile: dir + "/sign.key") } throws: { ($0 as? SodiumError)?.code == .keyFileMalformed }
    }

    @Test func refusesGroupOrWorldReadable() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try SigningKeyPair().write(to: dir + "/sign.key")
        for mode in [0o640, 0o604, 0o660] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: dir + "/sign.key")
            #expect { try SigningKeyPair(keyFile: dir + "/sign.key") } throws: {
                guard let e = $0 as? SodiumError else { return false }
                return e.code == .keyFilePermissions && e.message.contains("chmod 600")
            }
        }
    }

    @Test func refusesGarbage() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/x.key", contents: Data("hello\n".utf8), attributes: [.posixPermissions: 0o600])
        #expect { try SigningKeyPair(keyFile: dir + "/x.key") } throws: { ($0 as? SodiumError)?.code == .keyFileMalformed }
        #expect { try SigningKeyPair(keyFile: dir + "/missing.key") } throws: { ($0 as? SodiumError)?.code == .keyFileIO }
    }
}
