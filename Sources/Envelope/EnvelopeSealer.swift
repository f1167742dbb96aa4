import SodiumKit

/// Who an envelope goes to, with the key its content key is sealed to.
public struct SealRecipient: Sendable {
    public let id: NodeID
    public let encryptionKey: BoxPublicKey
    public init(id: NodeID, encryptionKey: BoxPublicKey) {
        self.id = id
        self.encryptionKey = encryptionKey
    }
}

/// Everything the header says about an envelope, fixed before sealing.
public struct SealParameters: Sendable {
    public var kind: EnvelopeKind
    public var urgency: Urgency
    public var origin: NodeID
    public var recipients: [SealRecipient]
    /// Milliseconds since the Unix epoch.
    public var createdAt: Int64
    public var expiresAt: Int64
    /// Plaintext bytes per chunk; 64 KiB by default.
    public var chunkSize: Int
    public var limits: EnvelopeLimits

    public static let defaultChunkSize = 64 * 1024

    public init(
        kind: EnvelopeKind, urgency: Urgency, origin: NodeID, recipients: [SealRecipient],
        createdAt: Int64, expiresAt: Int64, chunkSize: Int = defaultChunkSize, limits: EnvelopeLimits = .default
    ) {
        self.kind = kind
        self.urgency = urgency
        self.origin = origin
        self.recipients = recipients
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.chunkSize = chunkSize
        self.limits = limits
    }
}

/// A sealed envelope's signed header and chunk table (the body went to the caller's sink).
public struct SealedEnvelope: Sendable, Equatable {
    public let header: EnvelopeHeader
    public let table: ChunkTable
    public var id: EnvelopeID { header.id }
}

/// Seals a plaintext stream into an envelope: a fresh content key, secretstream chunks, the
/// per-chunk digest table, the content key sealed to each recipient, the origin's signature.
///
/// Memory is bounded by one batch of about 4 MiB, whatever the payload size.
///
/// Security note: reads the caller's plaintext and holds the content key (in `SecretBytes`,
/// wiped on release); it must never write plaintext or the content key anywhere but the
/// secretstream, and refuses parameters that would produce a header other nodes reject.
public enum EnvelopeSealer {
    /// Encrypts exactly `payloadSize` bytes from `source` into `body` and returns the signed header.
    public static func seal(
        _ p: SealParameters, signer: SigningKeyPair, payloadSize: UInt64,
        source: any ByteSource, body: any ByteSink
    ) throws -> SealedEnvelope {
        try validate(p, payloadSize: payloadSize)
        let layout = ChunkLayout(payloadSize: payloadSize, chunkSize: p.chunkSize)
        let key = SecretStream.makeKey()
        let pusher = try SecretStreamPusher(key: key)
        let table = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.chunkCount * 32, alignment: 8)
        defer { table.deallocate() }
        let capacity = batchCapacity(layout)
        let batch = ChunkBatch(
            capacity: capacity, slotSize: largestChunk(layout) + SecretStream.chunkOverhead, holdsPlaintext: false)
        let plain = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, largestChunk(layout)), alignment: 64)
        defer {
            Sodium.memzero(plain)
            plain.deallocate()
        }

        var first = 0
        while first < layout.chunkCount {
            let count = min(capacity, layout.chunkCount - first)
            let base = first
            // One lane reads and encrypts chunk by chunk; both lanes hash each chunk once it exists.
            try TwoLanes.run(
                count: count, consumeAfterProduce: true,
                produce: { j in
                    let index = base + j
                    let length = layout.plaintextLength(of: index)
                    let input = UnsafeMutableRawBufferPointer(rebasing: plain[0..<length])
                    try source.readExactly(into: input, what: "payload")
                    try pusher.push(
                        UnsafeRawBufferPointer(input), into: batch.slot(j), isFinal: index == layout.chunkCount - 1)
                    batch.lengths[j] = length + SecretStream.chunkOverhead
                },
                consume: { j in
                    Blake2b.hash32(
                        batch.filled(j),
                        into: UnsafeMutableRawBufferPointer(rebasing: table[((base + j) * 32)..<((base + j + 1) * 32)]))
                })
            for j in 0..<count { try body.write(batch.filled(j)) }
            first += count
        }
        var probe: UInt8 = 0
        guard try withUnsafeMutableBytes(of: &probe, { try source.read(into: $0) }) == 0 else {
            throw EnvelopeError(
                .invalidArgument,
                """
                payload source holds more than the declared \(payloadSize) bytes (did a file change while it \
                was being sent?)
                """
            )
        }

        let tableBytes = Array(UnsafeRawBufferPointer(table))
        let recipients = key.withUnsafeBytes { k in
            p.recipients.map { EnvelopeHeader.Recipient(id: $0.id, sealedKey: $0.encryptionKey.seal(k)) }
        }
        let header = EnvelopeHeader.sign(
            kind: p.kind, urgency: p.urgency, origin: p.origin, createdAt: p.createdAt, expiresAt: p.expiresAt,
            layout: layout, chunkTableDigest: Blake2b.hash(tableBytes), streamHeader: pusher.header,
            recipients: recipients, signer: signer)
        return SealedEnvelope(header: header, table: try ChunkTable(bytes: tableBytes))
    }

    /// Refuses, before any work, what the receiving side would refuse.
    static func validate(_ p: SealParameters, payloadSize: UInt64) throws {
        guard !p.recipients.isEmpty else {
            throw EnvelopeError(.invalidArgument, "an envelope needs at least one recipient")
        }
        guard p.recipients.count <= p.limits.maxRecipients, p.recipients.count <= Int(UInt16.max) else {
            throw EnvelopeError(
                .tooLarge, "\(p.recipients.count) recipients is over the limit of \(p.limits.maxRecipients)")
        }
        guard Set(p.recipients.map(\.id)).count == p.recipients.count else {
            throw EnvelopeError(.invalidArgument, "a recipient is listed twice")
        }
        guard p.limits.chunkSizeRange.contains(p.chunkSize) else {
            throw EnvelopeError(.invalidArgument, "chunk size \(p.chunkSize) is outside \(p.limits.chunkSizeRange)")
        }
        guard payloadSize <= p.limits.maxPayloadBytes else {
            throw EnvelopeError(
                .tooLarge, "payload of \(payloadSize) bytes is over the limit of \(p.limits.maxPayloadBytes)")
        }
        guard p.expiresAt > p.createdAt else {
            throw EnvelopeError(.invalidArgument, "expiry must be after creation time")
        }
        let size = EnvelopeHeader.encodedSize(origin: p.origin, recipients: p.recipients.map(\.id))
        guard size <= p.limits.maxHeaderBytes else {
            throw EnvelopeError(
                .tooLarge, "the header would be \(size) bytes, over the limit of \(p.limits.maxHeaderBytes)")
        }
    }
}
