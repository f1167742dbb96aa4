import SodiumKit

/// The single-file form of an envelope: signed header ‖ chunk table ‖ body chunks.
///
/// This is what `lienthong` writes for export and what tests and benchmarks read; a spool may
/// store the three parts separately. The header is self-delimiting (its length is in its prefix),
/// the table has `chunkCount × 32` bytes, the body follows the signed layout.
///
/// Security note: `readHeader` and `readTable` take untrusted input; they check each declared
/// length against the limits before buffering it.
public enum EnvelopeFile {
    /// Reads and parses the header from the start of `source` (signature not yet checked).
    public static func readHeader(
        from source: any ByteSource, limits: EnvelopeLimits = .default
    ) throws -> EnvelopeHeader {
        let prefix = try source.readExactly(EnvelopeHeader.prefixByteCount, what: "envelope header")
        let length = try EnvelopeHeader.declaredLength(prefix: prefix, limits: limits)
        let rest = try source.readExactly(length - prefix.count, what: "envelope header")
        return try EnvelopeHeader.parse(prefix + rest, limits: limits)
    }

    /// Reads the chunk table that follows the header.
    public static func readTable(from source: any ByteSource, header: EnvelopeHeader) throws -> ChunkTable {
        try ChunkTable(
            bytes: source.readExactly(header.layout.chunkCount * ChunkTable.entryByteCount, what: "chunk table"))
    }

    /// Seals a payload stream into a new envelope file at `path` (fsync'd before returning).
    ///
    /// The header and table are only known once the body is sealed, but their sizes are known
    /// up front, so the body is written after a reserved gap and the header is written into it.
    /// `durable: false` skips the fsync, for a scratch file that is imported into the spool (whose
    /// commit is the durable point) and deleted.
    public static func seal(
        _ p: SealParameters, signer: SigningKeyPair, payloadSize: UInt64,
        source: any ByteSource, to path: String, durable: Bool = true
    ) throws -> SealedEnvelope {
        try EnvelopeSealer.validate(p, payloadSize: payloadSize)
        let layout = ChunkLayout(payloadSize: payloadSize, chunkSize: p.chunkSize)
        let headerSize = EnvelopeHeader.encodedSize(origin: p.origin, recipients: p.recipients.map(\.id))
        let reserved = headerSize + layout.chunkCount * ChunkTable.entryByteCount
        let sink = try FileSink(path: path, mode: 0o600)
        do {
            try [UInt8](repeating: 0, count: reserved).withUnsafeBytes { try sink.write($0) }
            let sealed = try EnvelopeSealer.seal(
                p, signer: signer, payloadSize: payloadSize, source: source, body: sink)
            precondition(sealed.header.encoded.count == headerSize, "header size prediction is wrong")
            try sink.write(sealed.header.encoded + sealed.table.bytes, at: 0)
            try sink.close(durable: durable)
            return sealed
        } catch {
            try? sink.close()
            unlink(path)
            throw error
        }
    }
}

/// Sealing and opening whole documents: metadata plus attached files, streamed.
public enum DocumentEnvelope {
    /// Seals a document to an envelope file. Refuses secret documents (the secrecy policy).
    public static func seal(
        metadata: DocumentMetadata, files: [AttachedFile], parameters: SealParameters,
        signer: SigningKeyPair, to path: String, durable: Bool = true
    ) throws -> SealedEnvelope {
        let encoder = try payload(metadata, files, parameters)
        return try EnvelopeFile.seal(
            parameters, signer: signer, payloadSize: encoder.totalSize, source: encoder, to: path, durable: durable)
    }

    /// Seals a document into `body` (a `ChunkSplitter`, say), streaming: the body bytes are
    /// written as they are sealed and the signed header comes back at the end. Refuses secret
    /// documents like `seal(…to:)`.
    public static func seal(
        metadata: DocumentMetadata, files: [AttachedFile], parameters: SealParameters,
        signer: SigningKeyPair, body: any ByteSink
    ) throws -> SealedEnvelope {
        let encoder = try payload(metadata, files, parameters)
        return try EnvelopeSealer.seal(
            parameters, signer: signer, payloadSize: encoder.totalSize, source: encoder, body: body)
    }

    /// Seals a document in memory: for small documents sent in batches (no scratch file, no
    /// fsync per document). Refuses secret documents like `seal(…to:)`.
    public static func sealInMemory(
        metadata: DocumentMetadata, files: [AttachedFile], parameters: SealParameters,
        signer: SigningKeyPair
    ) throws -> (SealedEnvelope, chunks: [[UInt8]]) {
        var chunks: [[UInt8]] = []
        let splitter = ChunkSplitter(chunkSize: parameters.chunkSize, batchSize: .max) { _, batch in chunks += batch }
        let sealed = try seal(metadata: metadata, files: files, parameters: parameters, signer: signer, body: splitter)
        try splitter.finish()
        return (sealed, chunks)
    }

    /// The payload stream of a document, after the checks every way of sealing one makes.
    static func payload(
        _ metadata: DocumentMetadata, _ files: [AttachedFile], _ parameters: SealParameters
    ) throws -> PayloadEncoder {
        try metadata.checkSecrecyPolicy()
        guard parameters.kind == .document else {
            throw EnvelopeError(.invalidArgument, "a document must be sealed with kind 'document'")
        }
        // v1 unless the metadata has edXML fields, so nodes not yet upgraded still open ordinary documents.
        let version = metadata.edxml == nil ? PayloadFormat.version : PayloadFormat.edxmlVersion
        return try PayloadEncoder(
            kind: .document, metadata: try JSONCoding.encode(metadata), files: files,
            version: version)
    }

    /// Opens an envelope file addressed to `recipient`, checking everything, and streams the
    /// document into `receiver`. Returns the verified header.
    @discardableResult
    public static func open(
        path: String, originKey: (NodeID) throws -> SigningPublicKey, recipient: NodeID,
        keys: BoxKeyPair, now: Int64, into receiver: any PayloadReceiver,
        limits: EnvelopeLimits = .default
    ) throws -> EnvelopeHeader {
        try open(
            path: path, originKeys: { [try originKey($0.origin)] }, recipient: recipient, keys: [keys], now: now,
            into: receiver, limits: limits)
    }

    /// The same with every key the origin may have signed `header` with, and every encryption
    /// key of the recipient (in force, then retired by a rotation).
    @discardableResult
    public static func open(
        path: String, originKeys: (EnvelopeHeader) throws -> [SigningPublicKey], recipient: NodeID,
        keys: [BoxKeyPair], now: Int64, into receiver: any PayloadReceiver,
        limits: EnvelopeLimits = .default
    ) throws -> EnvelopeHeader {
        let source = try FileSource(path: path)
        let header = try EnvelopeFile.readHeader(from: source, limits: limits)
        let table = try EnvelopeFile.readTable(from: source, header: header)
        let opener = try EnvelopeOpener(
            header: header, table: table, originKeys: try originKeys(header),
            recipient: recipient, keys: keys, now: now)
        let decoder = PayloadDecoder(receiver: receiver)
        try opener.open(body: source, into: decoder)
        try decoder.finish()
        var probe: UInt8 = 0
        guard try withUnsafeMutableBytes(of: &probe, { try source.read(into: $0) }) == 0 else {
            throw EnvelopeError(.malformed, "envelope file \(path) has bytes after its last chunk")
        }
        return header
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
