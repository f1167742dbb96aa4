import Envelope
import Foundation
import NIOConcurrencyHelpers
import SodiumKit
import Topology
import Wire

/// The node's key pairs while it runs, and their rotation (docs/TOPOLOGY.md §Key rotation).
///
/// `keys rotate` puts new pairs in `keys/next/`; they come into force when the topology in force
/// pins them for this node (`follow`), without a restart: the old encryption key moves to
/// `keys/previous/box.MS.key` (MS: when it was retired) so what was sealed to it still opens,
/// and the old signing key to `keys/previous/sign.key` for as long as the topology's grace period
/// lets peers that have not heard of the change authenticate this node by it. `sweep` erases
/// them once they are no longer needed. Every step is a rename or a new file written before the
/// rename that depends on it, so a crash anywhere leaves keys `follow` completes at the next start.
///
/// Security note: holds secret keys (`SecretBytes`, zeroed on release); files are 0600 in 0700
/// directories. It never writes a secret to a log, and uses a key only when the topology in
/// force (authority-signed) pins it for this node.
public final class NodeKeys: Sendable {
    struct State {
        var signing: SigningKeyPair
        var box: BoxKeyPair
        var previousSigning: SigningKeyPair?
        /// Retired encryption keys, with when each was retired (ms).
        var previousBox: [(key: BoxKeyPair, retiredAt: Int64)]
        var nextSigning: SigningKeyPair?
        var nextBox: BoxKeyPair?
    }
    private let state: NIOLockedValueBox<State>
    let home: NodeHome

    public init(home: NodeHome) throws {
        self.home = home
        let next = home.nextKeysPath
        let previous = home.previousKeysPath
        var retired: [(key: BoxKeyPair, retiredAt: Int64)] = []
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: previous)) ?? []).sorted() {
            let parts = name.split(separator: ".")
            guard parts.count == 3, parts[0] == "box", parts[2] == "key", let at = Int64(parts[1]) else { continue }
            retired.append((try BoxKeyPair(keyFile: previous + "/" + name), at))
        }
        state = NIOLockedValueBox(
            State(
                signing: try SigningKeyPair(keyFile: home.signingKeyPath),
                box: try BoxKeyPair(keyFile: home.boxKeyPath),
                previousSigning: try Self.optional(previous + "/sign.key", SigningKeyPair.init(keyFile:)),
                previousBox: retired,
                nextSigning: try Self.optional(next + "/sign.key", SigningKeyPair.init(keyFile:)),
                nextBox: try Self.optional(next + "/box.key", BoxKeyPair.init(keyFile:))))
    }

    private static func optional<T>(_ path: String, _ load: (String) throws -> T) throws -> T? {
        FileManager.default.fileExists(atPath: path) ? try load(path) : nil
    }

    /// Loads a pending pair `keys rotate` wrote while the daemon runs (one `stat` when there is
    /// none; a half-written pair is not taken).
    private func refreshPending(_ s: inout State) {
        guard s.nextSigning == nil || s.nextBox == nil else { return }
        let next = home.nextKeysPath
        guard access(next + "/sign.key", F_OK) == 0, access(next + "/box.key", F_OK) == 0,
            let sign = try? SigningKeyPair(keyFile: next + "/sign.key"),
            let box = try? BoxKeyPair(keyFile: next + "/box.key")
        else { return }
        s.nextSigning = sign
        s.nextBox = box
    }

    /// The signing key in force: documents, notices and links are signed with it.
    public var signing: SigningKeyPair { state.withLockedValue { $0.signing } }
    /// The encryption key in force (the one the topology pins).
    public var box: BoxKeyPair { state.withLockedValue { $0.box } }
    /// Every encryption key this node opens with: the one in force first, then retired ones,
    /// then the pending one (a neighbour that already has the topology pinning it seals the
    /// update itself to it).
    public var openingKeys: [BoxKeyPair] {
        state.withLockedValue { s in
            refreshPending(&s)
            return [s.box] + s.previousBox.map(\.key) + [s.nextBox].compactMap { $0 }
        }
    }
    /// Retired encryption keys still kept, with when each was retired.
    public var retiredBoxKeys: [(key: BoxKeyPair, retiredAt: Int64)] { state.withLockedValue { $0.previousBox } }
    /// The pending pair from `keys rotate`, if any.
    public var next: (signing: SigningKeyPair, box: BoxKeyPair)? {
        state.withLockedValue { s in s.nextSigning.flatMap { n in s.nextBox.map { (n, $0) } } }
    }
    /// For link handshakes: the key in force, and the others a peer may still pin for this node
    /// (the previous one in its grace period, the pending one before its topology arrives).
    public var linkKeys: LinkKeys {
        state.withLockedValue { s in
            refreshPending(&s)
            return LinkKeys(s.signing, others: [s.previousSigning, s.nextSigning].compactMap { $0 })
        }
    }

    /// Whether this node holds the keys `node` pins for it: the ones in force or the pending ones.
    public func holds(_ node: TopologyNode) -> Bool {
        state.withLockedValue { s in
            refreshPending(&s)
            let signing = [s.signing.publicKey, s.nextSigning?.publicKey].compactMap { $0 }
            let box = [s.box.publicKey, s.nextBox?.publicKey].compactMap { $0 }
            return node.signingKey.map(signing.contains) ?? true && node.encryptionKey.map(box.contains) ?? true
        }
    }

    /// Brings the keys in line with `node` (this node in the topology in force): puts the pending
    /// pair in force when it is pinned, keeping the old signing key only when the topology gives
    /// it a grace period. Returns a line for the audit when something changed.
    @discardableResult
    public func follow(_ node: TopologyNode, now: Int64) throws -> String? {
        try state.withLockedValue { s in
            refreshPending(&s)
            var changed: [String] = []
            // A later version that revokes the kept old key (no grace, or another key): dropped now.
            if let kept = s.previousSigning, node.previousSigningKey != kept.publicKey {
                try? FileManager.default.removeItem(atPath: home.previousKeysPath + "/sign.key")
                s.previousSigning = nil
                changed.append("the previous signing key \(kept.publicKey.fingerprint) revoked")
            }
            // The encryption key first: `keys/next/sign.key` alone then means half in force (`rotate`).
            if let pinned = node.encryptionKey, pinned != s.box.publicKey {
                guard let next = s.nextBox, next.publicKey == pinned else { throw mismatch("encryption", node) }
                let old = s.box
                try ensureDirectory(home.previousKeysPath)
                if !s.previousBox.contains(where: { $0.key.publicKey == old.publicKey }) {
                    // Durable (file and directory) before the rename below replaces the only other copy.
                    try Self.writeDurably(to: home.previousKeysPath + "/box.\(now).key") { try old.write(to: $0) }
                    s.previousBox.append((old, now))
                }
                try rename(home.nextKeysPath + "/box.key", to: home.boxKeyPath)
                s.box = next
                s.nextBox = nil
                changed.append("encryption key \(next.publicKey.fingerprint) in force, the old one kept to open")
            }
            if let pinned = node.signingKey, pinned != s.signing.publicKey {
                guard let next = s.nextSigning, next.publicKey == pinned else { throw mismatch("signing", node) }
                let old = s.signing
                try ensureDirectory(home.previousKeysPath)
                let kept = home.previousKeysPath + "/sign.key"
                try? FileManager.default.removeItem(atPath: kept)
                s.previousSigning = nil
                if node.previousSigningKey == old.publicKey, let until = node.previousKeyUntil, now < until {
                    try Self.writeDurably(to: kept) { try old.write(to: $0) }
                    s.previousSigning = old
                }
                try rename(home.nextKeysPath + "/sign.key", to: home.signingKeyPath)
                s.signing = next
                s.nextSigning = nil
                changed.append("signing key \(next.publicKey.fingerprint) in force")
            }
            guard !changed.isEmpty else { return nil }
            try? FileManager.default.removeItem(atPath: home.nextKeysPath)  // only once both are in force
            try? writePublic(s, node: node.id)
            return "key rotation: " + changed.joined(separator: "; ")
        }
    }

    /// Erases retired keys that are no longer needed: the old signing key once its grace period
    /// is over (or the topology no longer names it), an old encryption key once `keepFor` ms
    /// have passed since it was retired (envelopes sealed to it can no longer be in transit) and
    /// `stillNeeded` finds nothing here sealed to it. Returns a line per key erased.
    public func sweep(
        _ node: TopologyNode, now: Int64, keepFor: Int64, stillNeeded: (BoxKeyPair) throws -> Bool
    ) throws -> [String] {
        var erased: [String] = []
        state.withLockedValue { s in
            guard let previous = s.previousSigning else { return }
            let inGrace =
                node.previousSigningKey == previous.publicKey && now < (node.previousKeyUntil ?? Int64.min)
            guard !inGrace else { return }
            try? FileManager.default.removeItem(atPath: home.previousKeysPath + "/sign.key")
            s.previousSigning = nil
            erased.append("erased the previous signing key \(previous.publicKey.fingerprint): its grace ended")
        }
        // The look through the inbox runs outside the lock; the erasure checks again under it.
        for (key, at) in state.withLockedValue({ $0.previousBox }) where now - at >= keepFor {
            guard try !stillNeeded(key) else { continue }
            state.withLockedValue { s in
                guard s.previousBox.contains(where: { $0.key.publicKey == key.publicKey }) else { return }
                try? FileManager.default.removeItem(atPath: home.previousKeysPath + "/box.\(at).key")
                s.previousBox.removeAll { $0.key.publicKey == key.publicKey }
                erased.append(
                    "erased the retired encryption key \(key.publicKey.fingerprint): nothing here is sealed to it")
            }
        }
        return erased
    }

    /// `keys rotate`: new pairs in `keys/next/` (or the ones already waiting there).
    public static func rotate(home: NodeHome) throws -> (signing: SigningKeyPair, box: BoxKeyPair, new: Bool) {
        let dir = home.nextKeysPath
        let sign = dir + "/sign.key"
        let box = dir + "/box.key"
        switch (FileManager.default.fileExists(atPath: sign), FileManager.default.fileExists(atPath: box)) {
        case (true, true):
            return (try SigningKeyPair(keyFile: sign), try BoxKeyPair(keyFile: box), false)
        case (false, true):
            try? FileManager.default.removeItem(atPath: box)  // a rotate a crash interrupted: made again
        case (true, false):
            // The encryption key already in force (a rotation stopped half-way): the signing key
            // is pinned by the topology too and must not be replaced.
            throw NodeError(
                .keysRotate,
                """
                a rotation is half done in \(dir) (one of the two keys is already in force); start the daemon \
                (systemctl start lienthong) to finish it, then rotate again
                """)
        case (false, false):
            break
        }
        try ensureDirectory(home.keysPath)
        try ensureDirectory(dir)
        let pair = (SigningKeyPair(), BoxKeyPair())
        // The encryption key first: `sign.key` present means the pair is whole (each written durably).
        try writeDurably(to: box) { try pair.1.write(to: $0) }
        try writeDurably(to: sign) { try pair.0.write(to: $0) }
        return (pair.0, pair.1, true)
    }

    /// Writes a key file under a temporary name, then renames it into place and syncs the
    /// directory: a crash leaves the old state or the whole new file, never part of one.
    static func writeDurably(to path: String, _ write: (String) throws -> Void) throws {
        let temporary = path + ".tmp"
        try? FileManager.default.removeItem(atPath: temporary)  // from a write a crash interrupted
        try write(temporary)  // fsync'd by `KeyFile`
        guard Glibc.rename(temporary, path) == 0 else {
            throw NodeError(.homeIo, "cannot move \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
        syncDirectory((path as NSString).deletingLastPathComponent)
    }

    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private func mismatch(_ which: String, _ node: TopologyNode) -> NodeError {
        NodeError(
            .homeKeyMismatch,
            """
            the topology pins another \(which) key for \(node.id) than this node holds (in force or from \
            `keys rotate`); the keys or the topology were replaced
            """)
    }

    private func writePublic(_ s: State, node: NodeID) throws {
        let keys = NodeHome.PublicKeys(
            node: node,
            signingKey: Base64.encode(s.signing.publicKey.bytes), encryptionKey: Base64.encode(s.box.publicKey.bytes))
        try NodeHome.write(try NodeHome.json(keys), to: home.publicKeysPath)
    }

    private static func ensureDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        } catch {
            throw NodeError(.homeIo, "cannot create \(path): \(error.localizedDescription)")
        }
    }
    private func ensureDirectory(_ path: String) throws { try Self.ensureDirectory(path) }

    private func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw NodeError(.homeIo, "cannot move \(from) to \(to): \(String(cString: strerror(errno)))")
        }
        Self.syncDirectory((to as NSString).deletingLastPathComponent)
    }
}
