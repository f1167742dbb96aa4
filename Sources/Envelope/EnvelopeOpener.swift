import SodiumKit

/// Opens an envelope addressed to this node: checks everything, then decrypts the body as a stream.
///
/// Checks, in order, each failing with a named `EnvelopeError` code: the origin's signature
/// (`signatureInvalid`; skipped only when the caller says its own gate verified it on arrival,
/// see `init`), expiry (`expired`), that this node is a recipient (`notARecipient`), the
/// chunk table against the signed digest (`chunkTableMismatch`), then per chunk its length and
/// digest (`chunkDigestMismatch`) and its authentication tag (`decryptionFailed`); a body that
/// ends early is `truncated`. No plaintext of a chunk is released before its digest has matched.
///
/// Security note: the header, table and body are untrusted until these checks pass; the opened
/// content key stays in `SecretBytes` and must never leave this type.
public struct EnvelopeOpener {
    public let header: EnvelopeHeader
    public let table: ChunkTable
    private let contentKey: SecretBytes

    /// - Parameter signatureVerifiedOnArrival: the caller read the header from its own spool,
    ///   whose gate verified this signature when the envelope arrived (the recipient's metadata
    ///   probe); every other check still runs. Leave it false for anything else, including a
    ///   clerk's export, which verifies again.
    public init(
        header: EnvelopeHeader, table: ChunkTable, originKey: SigningPublicKey,
        recipient: NodeID, keys: BoxKeyPair, now: Int64, signatureVerifiedOnArrival: Bool = false
    ) throws {
        try self.init(
            header: header, table: table, originKeys: [originKey], recipient: recipient, keys: [keys], now: now,
            signatureVerifiedOnArrival: signatureVerifiedOnArrival)
    }

    /// The same, with every key the origin may have signed with and every encryption key of
    /// this recipient (the one in force first, then those a key rotation retired).
    public init(
        header: EnvelopeHeader, table: ChunkTable, originKeys: [SigningPublicKey],
        recipient: NodeID, keys: [BoxKeyPair], now: Int64, signatureVerifiedOnArrival: Bool = false
    ) throws {
        if !signatureVerifiedOnArrival { try header.verifySignature(originKeys: originKeys) }
        try header.checkNotExpired(now: now)
        let sealed = try header.sealedKey(for: recipient)
        try table.check(against: header)
        do {
            contentKey = try Self.openSealed(sealed, with: keys)
        } catch {
            throw EnvelopeError(
                .decryptionFailed,
                """
                the content key sealed to \(recipient) does not open with this node's encryption key (were the \
                node keys replaced?)
                """,
                cause: "\(error)")
        }
        guard contentKey.count == SecretStream.keyByteCount else {
            throw EnvelopeError(.decryptionFailed, "the sealed content key has the wrong length")
        }
        self.header = header
        self.table = table
    }

    private static func openSealed(_ sealed: [UInt8], with keys: [BoxKeyPair]) throws -> SecretBytes {
        var failure: (any Error)?
        for k in keys {
            do { return try k.openSealed(sealed) } catch { failure = error }
        }
        throw failure ?? EnvelopeError(.decryptionFailed, "no encryption key to open it with")
    }

    /// Reads the whole body from `body`, verifies and decrypts it, and writes the plaintext to `sink`.
    ///
    /// - Parameter chunksPerBatch: at most this many chunks are read, checked and released at a
    ///   time (default: about 4 MiB). A reader that wants only the start of the payload and stops
    ///   by throwing from `sink` passes 1, so that no more of the body is read than it needs.
    public func open(body: any ByteSource, into sink: any ByteSink, chunksPerBatch: Int? = nil) throws {
        let layout = header.layout
        let puller: SecretStreamPuller
        do {
            puller = try SecretStreamPuller(key: contentKey, header: header.streamHeader)
        } catch {
            throw EnvelopeError(.decryptionFailed, "the body's stream header is invalid", cause: "\(error)")
        }
        let capacity = max(1, min(batchCapacity(layout), chunksPerBatch ?? .max))
        let cipher = ChunkBatch(
            capacity: capacity, slotSize: largestChunk(layout) + SecretStream.chunkOverhead, holdsPlaintext: false)
        let plain = ChunkBatch(capacity: capacity, slotSize: max(1, largestChunk(layout)), holdsPlaintext: true)
        let mismatches = UnsafeMutableBufferPointer<Bool>.allocate(capacity: capacity)
        defer { mismatches.deallocate() }
        let table = self.table

        var next = 0
        while next < layout.chunkCount {
            let count = min(capacity, layout.chunkCount - next)
            let first = next
            var decryptFailure: Int? = nil
            var finalMisplaced: Int? = nil
            // One lane reads and decrypts chunk by chunk; both lanes hash each chunk once it is
            // read. Plaintext is released only after the whole batch has passed both checks.
            try TwoLanes.run(
                count: count, consumeAfterProduce: true,
                produce: { j in
                    cipher.lengths[j] = layout.ciphertextLength(of: first + j)
                    try body.readExactly(
                        into: UnsafeMutableRawBufferPointer(rebasing: cipher.slot(j)[0..<cipher.lengths[j]]),
                        what: "envelope body (chunk \(first + j) of \(layout.chunkCount))")
                    guard decryptFailure == nil, finalMisplaced == nil else { return }
                    do {
                        let r = try puller.pull(cipher.filled(j), into: plain.slot(j))
                        plain.lengths[j] = r.count
                        if r.isFinal != (first + j == layout.chunkCount - 1) { finalMisplaced = first + j }
                    } catch {
                        decryptFailure = first + j
                    }
                },
                consume: { j in
                    var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
                    let ok = withUnsafeMutableBytes(of: &digest) { d in
                        Blake2b.hash32(cipher.filled(j), into: d)
                        return table.entry(first + j).withUnsafeBytes { e in d.elementsEqual(e) }
                    }
                    mismatches[j] = !ok
                })
            if let bad = (0..<count).first(where: { mismatches[$0] }) {
                throw EnvelopeError(
                    .chunkDigestMismatch,
                    """
                    chunk \(first + bad) of envelope \(header.id.hex.prefix(16))… does not match its signed \
                    digest (altered in transit or on disk)
                    """
                )
            }
            if let index = decryptFailure {
                throw EnvelopeError(
                    .decryptionFailed, "chunk \(index) of envelope \(header.id.hex.prefix(16))… fails authentication")
            }
            if let index = finalMisplaced {
                throw EnvelopeError(
                    .decryptionFailed, "chunk \(index) carries the wrong end-of-stream tag (chunks reordered or cut)")
            }
            for j in 0..<count { try sink.write(plain.filled(j)) }
            next += count
        }
    }
}
