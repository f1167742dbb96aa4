import SodiumKit

/// The signed header of an envelope, format v1 (byte layout in docs/PROTOCOL.md §1).
///
/// Everything a relay needs to route and verify an envelope is here, and everything here is
/// covered by the origin's Ed25519 signature: origin, recipients and their sealed content keys,
/// times, urgency, sizes, and the digest of the per-chunk hash table.
///
/// Security note: `parse` reads untrusted bytes from the network and from disk. It checks the
/// declared header length against the limits before anything else, never reads out of bounds,
/// and does not check the signature (call `verifySignature` with the origin's pinned key).
public struct EnvelopeHeader: Sendable, Equatable {
    public static let magic: [UInt8] = Array("LTEV".utf8)
    public static let version: UInt8 = 1
    /// Magic, version, kind, urgency, flags and the header length: enough to size the rest.
    public static let prefixByteCount = 12
    public static let signatureByteCount = 64
    /// The sealed content key: a 32-byte secretstream key in a sealed box.
    public static let sealedKeyByteCount = SecretStream.keyByteCount + BoxPublicKey.sealOverhead

    /// One recipient and the content key sealed to it.
    public struct Recipient: Sendable, Equatable {
        public let id: NodeID
        public let sealedKey: [UInt8]
    }

    public let kind: EnvelopeKind
    public let urgency: Urgency
    public let origin: NodeID
    /// Milliseconds since the Unix epoch.
    public let createdAt: Int64
    public let expiresAt: Int64
    public let layout: ChunkLayout
    /// BLAKE2b-256 of the concatenated per-chunk BLAKE2b-256 digests.
    public let chunkTableDigest: [UInt8]
    public let streamHeader: [UInt8]
    public let recipients: [Recipient]
    public let signature: [UInt8]
    /// The exact signed bytes, signature included: what the id hashes and what travels.
    public let encoded: [UInt8]

    /// The content address: BLAKE2b-256 of `encoded`.
    public let id: EnvelopeID

    init(
        kind: EnvelopeKind, urgency: Urgency, origin: NodeID, createdAt: Int64, expiresAt: Int64, layout: ChunkLayout,
        chunkTableDigest: [UInt8], streamHeader: [UInt8], recipients: [Recipient], signature: [UInt8], encoded: [UInt8]
    ) {
        self.kind = kind
        self.urgency = urgency
        self.origin = origin
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.layout = layout
        self.chunkTableDigest = chunkTableDigest
        self.streamHeader = streamHeader
        self.recipients = recipients
        self.signature = signature
        self.encoded = encoded
        self.id = EnvelopeID(unchecked: Blake2b.hash(encoded))
    }

    public var recipientIDs: [NodeID] { recipients.map(\.id) }

    /// The exact size `encoded` will have for these fields (used to check limits before signing).
    static func encodedSize(origin: NodeID, recipients: [NodeID]) -> Int {
        100 + 1 + origin.rawValue.utf8.count + 2
            + recipients.reduce(0) { $0 + 1 + $1.rawValue.utf8.count + sealedKeyByteCount } + signatureByteCount
    }

    /// Builds and signs a header. Used by `EnvelopeSealer`.
    static func sign(
        kind: EnvelopeKind, urgency: Urgency, origin: NodeID, createdAt: Int64, expiresAt: Int64,
        layout: ChunkLayout, chunkTableDigest: [UInt8], streamHeader: [UInt8],
        recipients: [Recipient], signer: SigningKeyPair
    ) -> EnvelopeHeader {
        var w = ByteWriter(capacity: encodedSize(origin: origin, recipients: recipients.map(\.id)))
        w.raw(magic)
        w.u8(version)
        w.u8(kind.rawValue)
        w.u8(urgency.rawValue)
        w.u8(0)  // flags, reserved
        w.u32(0)  // header length, patched below
        w.i64(createdAt)
        w.i64(expiresAt)
        w.u64(layout.payloadSize)
        w.u32(UInt32(layout.chunkSize))
        w.u32(UInt32(layout.chunkCount))
        w.raw(chunkTableDigest)
        w.raw(streamHeader)
        w.shortString(origin.rawValue)
        w.u16(UInt16(recipients.count))
        for r in recipients {
            w.shortString(r.id.rawValue)
            w.raw(r.sealedKey)
        }
        w.patchU32(at: 8, UInt32(w.bytes.count + signatureByteCount))
        let signature = signer.sign(w.bytes)
        w.raw(signature)
        return EnvelopeHeader(
            kind: kind, urgency: urgency, origin: origin, createdAt: createdAt, expiresAt: expiresAt,
            layout: layout, chunkTableDigest: chunkTableDigest, streamHeader: streamHeader,
            recipients: recipients, signature: signature, encoded: w.bytes)
    }

    /// Reads the 12-byte prefix: checks magic and version and returns the declared header length,
    /// refusing lengths over `limits.maxHeaderBytes` before the caller buffers them.
    public static func declaredLength(prefix: some Collection<UInt8>, limits: EnvelopeLimits = .default) throws -> Int {
        let p = Array(prefix)
        guard p.count >= prefixByteCount else {
            throw EnvelopeError(
                .truncated, "envelope header is truncated: \(p.count) of \(prefixByteCount) prefix bytes")
        }
        guard Array(p[0..<4]) == magic else {
            throw EnvelopeError(
                .badMagic, "not a LienThong envelope (bad magic \(Hex.encode(p[0..<4])), expected \(Hex.encode(magic)))"
            )
        }
        guard p[4] == version else {
            throw EnvelopeError(
                .unsupportedVersion,
                """
                envelope format version \(p[4]) is not supported (this node reads version \(version)); upgrade \
                the node
                """
            )
        }
        let length = Int(p[8]) << 24 | Int(p[9]) << 16 | Int(p[10]) << 8 | Int(p[11])
        guard length <= limits.maxHeaderBytes else {
            throw EnvelopeError(
                .tooLarge, "envelope header declares \(length) bytes, over the limit of \(limits.maxHeaderBytes)")
        }
        guard length >= 100 + 1 + 1 + 2 + signatureByteCount else {
            throw EnvelopeError(.malformed, "envelope header declares \(length) bytes, too short to be a header")
        }
        return length
    }

    /// Parses a complete header. Checks structure and limits, not the signature.
    public static func parse(_ bytes: [UInt8], limits: EnvelopeLimits = .default) throws -> EnvelopeHeader {
        let length = try declaredLength(prefix: bytes.prefix(prefixByteCount), limits: limits)
        guard bytes.count >= length else {
            throw EnvelopeError(.truncated, "envelope header is truncated: \(bytes.count) of \(length) bytes")
        }
        guard bytes.count == length else {
            throw EnvelopeError(.malformed, "envelope header has \(bytes.count - length) bytes after its declared end")
        }
        var r = ByteReader(bytes, what: "envelope header", range: 0..<(length - signatureByteCount))
        _ = try r.take(5)
        guard let kind = EnvelopeKind(rawValue: try r.u8()) else {
            throw EnvelopeError(.malformed, "envelope kind \(bytes[5]) is unknown")
        }
        guard let urgency = Urgency(rawValue: try r.u8()) else {
            throw EnvelopeError(.malformed, "urgency \(bytes[6]) is unknown")
        }
        guard try r.u8() == 0 else { throw EnvelopeError(.malformed, "reserved flags are set") }
        _ = try r.u32()
        let createdAt = try r.i64()
        let expiresAt = try r.i64()
        guard expiresAt > createdAt else {
            throw EnvelopeError(.malformed, "envelope expires (\(expiresAt)) before it was created (\(createdAt))")
        }
        let payloadSize = try r.u64()
        let chunkSize = Int(try r.u32())
        let chunkCount = Int(try r.u32())
        guard payloadSize <= limits.maxPayloadBytes else {
            throw EnvelopeError(
                .tooLarge, "payload of \(payloadSize) bytes is over the limit of \(limits.maxPayloadBytes)")
        }
        guard limits.chunkSizeRange.contains(chunkSize) else {
            throw EnvelopeError(.malformed, "chunk size \(chunkSize) is outside \(limits.chunkSizeRange)")
        }
        let layout = ChunkLayout(payloadSize: payloadSize, chunkSize: chunkSize)
        guard layout.chunkCount == chunkCount else {
            throw EnvelopeError(
                .malformed,
                "chunk count \(chunkCount) does not match payload size \(payloadSize) / chunk size \(chunkSize)")
        }
        let tableDigest = try r.array(32)
        let streamHeader = try r.array(SecretStream.headerByteCount)
        let origin = try NodeID(String(decoding: try r.take(Int(try r.u8())), as: UTF8.self))
        let count = Int(try r.u16())
        guard count >= 1 else { throw EnvelopeError(.malformed, "envelope names no recipient") }
        guard count <= limits.maxRecipients else {
            throw EnvelopeError(
                .tooLarge, "envelope names \(count) recipients, over the limit of \(limits.maxRecipients)")
        }
        var recipients: [Recipient] = []
        recipients.reserveCapacity(count)
        var seen = Set<NodeID>()
        for _ in 0..<count {
            let id = try NodeID(String(decoding: try r.take(Int(try r.u8())), as: UTF8.self))
            guard seen.insert(id).inserted else { throw EnvelopeError(.malformed, "recipient \(id) is listed twice") }
            recipients.append(Recipient(id: id, sealedKey: try r.array(sealedKeyByteCount)))
        }
        guard r.remaining == 0 else {
            throw EnvelopeError(.malformed, "envelope header has \(r.remaining) unexplained bytes before its signature")
        }
        return EnvelopeHeader(
            kind: kind, urgency: urgency, origin: origin, createdAt: createdAt, expiresAt: expiresAt,
            layout: layout, chunkTableDigest: tableDigest, streamHeader: streamHeader,
            recipients: recipients, signature: Array(bytes[(length - signatureByteCount)...]),
            encoded: bytes)
    }

    /// Checks the origin's signature. Relays call this with the origin's key from the topology.
    public func verifySignature(originKey: SigningPublicKey) throws { try verifySignature(originKeys: [originKey]) }

    /// Checks the origin's signature against any of `originKeys` (its key, and during a key
    /// rotation's grace period its previous one).
    public func verifySignature(originKeys: [SigningPublicKey]) throws {
        let ok = encoded.withUnsafeBytes { all in
            let signed = UnsafeRawBufferPointer(rebasing: all[0..<(all.count - Self.signatureByteCount)])
            return originKeys.contains { $0.isValidSignature(signature, for: signed) }
        }
        guard ok else {
            throw EnvelopeError(
                .signatureInvalid,
                """
                signature of envelope \(id.hex.prefix(16))… does not verify with the key of its origin \
                \(origin): forged or altered in transit
                """
            )
        }
    }

    /// Throws `expired` when `now` (ms since epoch) is at or past `expiresAt`.
    public func checkNotExpired(now: Int64) throws {
        guard now < expiresAt else {
            throw EnvelopeError(
                .expired, "envelope \(id.hex.prefix(16))… from \(origin) expired at \(expiresAt) ms (now \(now) ms)")
        }
    }

    /// Throws `badClock` unless the header's times are sane at `now`: created no earlier than
    /// `EnvelopeLimits.earliestCreatedAt` and no later than `now` plus the allowed skew, with a
    /// lifetime within the network's maximum. Every step is checked for overflow: the times come
    /// from a peer.
    public func checkTimes(now: Int64, limits: EnvelopeLimits) throws {
        let id = self.id.hex.prefix(16)
        guard createdAt >= EnvelopeLimits.earliestCreatedAt else {
            throw EnvelopeError(
                .badClock,
                "envelope \(id)… from \(origin) claims to be created at \(createdAt) ms, "
                    + "before 2024: its origin's clock is wrong or the header is forged")
        }
        let (latest, over) = now.addingReportingOverflow(limits.maxClockSkewMs)
        guard over || createdAt <= latest else {
            let (ahead, huge) = createdAt.subtractingReportingOverflow(now)
            throw EnvelopeError(
                .badClock,
                "envelope \(id)… from \(origin) is created \(huge ? "aeons" : "\(ahead / 1000) s") "
                    + "in this node's future: set the origin's clock right (NTP) and send it again")
        }
        let (lifetime, overflow) = expiresAt.subtractingReportingOverflow(createdAt)
        guard !overflow, lifetime <= limits.maxLifetimeMs else {
            throw EnvelopeError(
                .badClock,
                "envelope \(id)… from \(origin) would live longer than the network's "
                    + "maximum of \(limits.maxLifetimeMs / 86_400_000) days; send it with a shorter expiry")
        }
    }

    /// The sealed content key for `recipient`, or `notARecipient`.
    public func sealedKey(for recipient: NodeID) throws -> [UInt8] {
        guard let r = recipients.first(where: { $0.id == recipient }) else {
            throw EnvelopeError(
                .notARecipient,
                "node \(recipient) is not a recipient of envelope \(id.hex.prefix(16))… from \(origin)")
        }
        return r.sealedKey
    }
}
