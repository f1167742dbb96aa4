import SodiumKit

/// The per-chunk BLAKE2b-256 digests of an envelope body, in chunk order.
///
/// The table travels right after the header; the header signs its digest. With it, any relay
/// can check each ciphertext chunk the moment it arrives, without holding any key.
public struct ChunkTable: Sendable, Equatable {
    public static let entryByteCount = 32
    /// `count × 32` bytes: digest of chunk 0, chunk 1, …
    public let bytes: [UInt8]

    public var count: Int { bytes.count / Self.entryByteCount }
    public var digest: [UInt8] { Blake2b.hash(bytes) }

    public init(bytes: [UInt8]) throws {
        guard bytes.count % Self.entryByteCount == 0 else {
            throw EnvelopeError(
                .malformed, "chunk table of \(bytes.count) bytes is not a whole number of 32-byte digests")
        }
        self.bytes = bytes
    }

    public func entry(_ index: Int) -> ArraySlice<UInt8> {
        bytes[(index * Self.entryByteCount)..<((index + 1) * Self.entryByteCount)]
    }

    /// Checks that this table is the one the header signed.
    public func check(against header: EnvelopeHeader) throws {
        guard count == header.layout.chunkCount else {
            throw EnvelopeError(
                .chunkTableMismatch, "chunk table has \(count) entries, header says \(header.layout.chunkCount)")
        }
        guard Sodium.constantTimeEqual(digest, header.chunkTableDigest) else {
            throw EnvelopeError(
                .chunkTableMismatch,
                "chunk table of envelope \(header.id.hex.prefix(16))… does not match the digest its origin signed")
        }
    }
}

/// Relay-side verification of ciphertext chunks: no secret key involved.
///
/// Security note: `verify` takes untrusted bytes from a link; it checks the length against the
/// signed layout before hashing, and a chunk that fails is never stored or forwarded.
public struct ChunkVerifier: Sendable {
    public let header: EnvelopeHeader
    public let table: ChunkTable

    /// Checks the table against the signed header. Check the header's signature first.
    public init(header: EnvelopeHeader, table: ChunkTable) throws {
        try table.check(against: header)
        self.header = header
        self.table = table
    }

    /// Checks chunk `index` against its signed digest.
    public func verify(index: Int, ciphertext: UnsafeRawBufferPointer) throws {
        guard index >= 0, index < header.layout.chunkCount else {
            throw EnvelopeError(.malformed, "chunk index \(index) is outside 0..<\(header.layout.chunkCount)")
        }
        let expected = header.layout.ciphertextLength(of: index)
        guard ciphertext.count == expected else {
            throw EnvelopeError(
                .chunkDigestMismatch, "chunk \(index) is \(ciphertext.count) bytes, the signed layout says \(expected)")
        }
        var digest = [UInt8](repeating: 0, count: 32)
        digest.withUnsafeMutableBytes { Blake2b.hash32(ciphertext, into: $0) }
        guard Sodium.constantTimeEqual(digest, table.entry(index)) else {
            throw EnvelopeError(
                .chunkDigestMismatch,
                "chunk \(index) of envelope \(header.id.hex.prefix(16))… does not match its signed digest")
        }
    }

    public func verify(index: Int, ciphertext: [UInt8]) throws {
        try ciphertext.withUnsafeBytes { try verify(index: index, ciphertext: $0) }
    }
}
