import Envelope
import Foundation
import SodiumKit
import Testing
import Topology

@testable import Node

/// Key-rotation state on a node home, without a network (issue 18 point 4): `keys rotate` makes
/// a pending pair; a topology pinning it puts it in force, the old keys kept only as allowed;
/// a crash half-way is completed at the next load; retired keys are erased once not needed.
@Suite struct NodeKeysTests {
    static let now: Int64 = 1_800_000_000_000

    func me(_ keys: NodeKeys) throws -> TopologyNode {
        TopologyNode(
            id: try NodeID(commune11), name: "Xã", level: .commune, parents: [try NodeID(district1)],
            signingKey: keys.signing.publicKey, encryptionKey: keys.box.publicKey)
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func theNewKeysComeIntoForceWithTheirTopologyAndTheOldOnesStayAsAllowed() throws {
        let net = try TestNetwork()
        let (home, _) = try NodeHome.open(net.home(commune11))
        let before = try NodeKeys(home: home)
        let (oldSign, oldBox) = (before.signing.publicKey, before.box.publicKey)
        let made = try NodeKeys.rotate(home: home)
        #expect(made.new)
        let again = try NodeKeys.rotate(home: home)
        #expect(!again.new && again.signing.publicKey == made.signing.publicKey)
        // A node loaded before the rotate (a running daemon) sees the pending pair.
        #expect(before.linkKeys.others.map(\.publicKey) == [made.signing.publicKey])
        #expect(before.openingKeys.map(\.publicKey) == [oldBox, made.box.publicKey])
        #expect(try mode(home.nextKeysPath + "/sign.key") == 0o600)
        #expect(try mode(home.nextKeysPath) == 0o700)

        // Loaded before the rotate (a running daemon): the pending pair is picked up from disk.
        let keys = try NodeKeys(home: home)
        var node = try me(keys)
        // Until a topology pins them, the old keys stay in force; the pending one may answer a
        // peer that already pins it.
        #expect(try keys.follow(node, now: Self.now) == nil)
        #expect(keys.signing.publicKey == oldSign && keys.linkKeys.others.map(\.publicKey) == [made.signing.publicKey])
        node.signingKey = made.signing.publicKey
        node.encryptionKey = made.box.publicKey
        node.previousSigningKey = oldSign
        node.previousKeyUntil = Self.now + 60_000
        #expect(keys.holds(node))
        let line = try keys.follow(node, now: Self.now)
        #expect(line?.contains("key rotation") == true)
        #expect(keys.signing.publicKey == made.signing.publicKey && keys.box.publicKey == made.box.publicKey)
        #expect(keys.openingKeys.map(\.publicKey) == [made.box.publicKey, oldBox])
        #expect(keys.linkKeys.others.map(\.publicKey) == [oldSign])
        #expect(try keys.follow(node, now: Self.now + 1) == nil)  // done once

        // The same after a restart, from the files alone.
        let loaded = try NodeKeys(home: home)
        #expect(loaded.signing.publicKey == made.signing.publicKey && loaded.next == nil)
        #expect(loaded.openingKeys.map(\.publicKey) == [made.box.publicKey, oldBox])
        #expect(loaded.linkKeys.others.map(\.publicKey) == [oldSign])
        #expect(!FileManager.default.fileExists(atPath: home.nextKeysPath))
        #expect(try mode(home.previousKeysPath + "/sign.key") == 0o600)
        let published = try String(contentsOfFile: home.publicKeysPath, encoding: .utf8)
        #expect(published.contains(Base64.encode(made.signing.publicKey.bytes)))

        // Sweeping: the old signing key goes when its grace ends; the old encryption key only
        // once it is old enough and nothing here is sealed to it.
        #expect(try loaded.sweep(node, now: Self.now + 59_000, keepFor: 10_000) { _ in true }.isEmpty)
        let atEnd = try loaded.sweep(node, now: Self.now + 60_000, keepFor: 120_000) { _ in false }
        #expect(atEnd.count == 1 && atEnd[0].contains("signing key"))
        #expect(loaded.linkKeys.others.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: home.previousKeysPath + "/sign.key"))
        #expect(try loaded.sweep(node, now: Self.now + 200_000, keepFor: 120_000) { _ in true }.isEmpty)
        #expect(loaded.openingKeys.count == 2)  // still needed
        let erased = try loaded.sweep(node, now: Self.now + 200_000, keepFor: 120_000) { _ in false }
        #expect(erased.count == 1 && erased[0].contains("encryption key"))
        #expect(loaded.openingKeys.map(\.publicKey) == [made.box.publicKey])
        #expect(try NodeKeys(home: home).openingKeys.count == 1)
    }

    @Test func aRevocationKeepsNoOldSigningKeyAndAnUnknownKeyIsRefused() throws {
        let net = try TestNetwork()
        let (home, _) = try NodeHome.open(net.home(commune11))
        let made = try NodeKeys.rotate(home: home)
        let keys = try NodeKeys(home: home)
        var node = try me(keys)
        node.signingKey = SigningKeyPair().publicKey  // a key this node never made
        #expect(!keys.holds(node))
        #expect { try keys.follow(node, now: Self.now) } throws: { ($0 as? NodeError)?.code == .homeKeyMismatch }
        node.signingKey = made.signing.publicKey
        node.encryptionKey = made.box.publicKey  // no previousSigningKey: the old one is revoked
        try keys.follow(node, now: Self.now)
        #expect(keys.linkKeys.others.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: home.previousKeysPath + "/sign.key"))
        #expect(keys.openingKeys.count == 2)  // what was sealed to the old encryption key still opens
    }

    @Test func aRotationInterruptedHalfWayIsCompletedAtTheNextLoad() throws {
        let net = try TestNetwork()
        let (home, _) = try NodeHome.open(net.home(commune11))
        let oldBox = try NodeKeys(home: home).box.publicKey
        let made = try NodeKeys.rotate(home: home)
        // A crash after the encryption key was moved into force (the old one kept), before the
        // signing key was.
        try FileManager.default.createDirectory(atPath: home.previousKeysPath, withIntermediateDirectories: true)
        #expect(
            copyfile(home.boxKeyPath, home.previousKeysPath + "/box.\(Self.now).key")
                && rename(home.nextKeysPath + "/box.key", home.boxKeyPath) == 0)
        // `keys rotate` now refuses to make another pair over the half in force.
        #expect { try NodeKeys.rotate(home: home) } throws: { ($0 as? NodeError)?.code == .keysRotate }
        let keys = try NodeKeys(home: home)
        var node = try me(keys)
        node.signingKey = made.signing.publicKey
        #expect(keys.box.publicKey == made.box.publicKey && keys.openingKeys.map(\.publicKey).last == oldBox)
        try keys.follow(node, now: Self.now)
        #expect(keys.signing.publicKey == made.signing.publicKey)
        #expect(try NodeKeys(home: home).signing.publicKey == made.signing.publicKey)
        #expect(try NodeKeys(home: home).openingKeys.map(\.publicKey) == [made.box.publicKey, oldBox])
    }

    func copyfile(_ from: String, _ to: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: from) else { return false }
        return FileManager.default.createFile(atPath: to, contents: data, attributes: [.posixPermissions: 0o600])
    }

    @Test func aRotateACrashInterruptedIsMadeAgainAndLeftoverTemporariesAreIgnored() throws {
        let net = try TestNetwork()
        let (home, _) = try NodeHome.open(net.home(commune11))
        let first = try NodeKeys.rotate(home: home)
        // Interrupted after the encryption key, before the signing key: made again, whole.
        try FileManager.default.removeItem(atPath: home.nextKeysPath + "/sign.key")
        FileManager.default.createFile(atPath: home.nextKeysPath + "/sign.key.tmp", contents: Data("# half".utf8))
        let again = try NodeKeys.rotate(home: home)
        #expect(again.new && again.box.publicKey != first.box.publicKey)
        let keys = try NodeKeys(home: home)
        #expect(keys.next?.signing.publicKey == again.signing.publicKey)
    }
}
