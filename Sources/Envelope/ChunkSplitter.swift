import SodiumKit

/// A `ByteSink` that cuts a sealed body back into its chunks as the sealer writes it, and hands
/// them on a batch at a time: a document can then be stored chunk by chunk while it is sealed,
/// without a scratch file (`Spool`'s staging) or the whole body in memory.
///
/// Every chunk but the last holds `chunkSize` plaintext bytes, so every chunk but the last is
/// `chunkSize + SecretStream.chunkOverhead` ciphertext bytes; `finish()` hands on the rest as the
/// last chunk (docs/PROTOCOL.md §3, the chunk layout).
///
/// Security note: handles only ciphertext this process just produced; it never sees a key.
public final class ChunkSplitter: ByteSink {
    private let sealedChunkSize: Int
    private let batchSize: Int
    private let deliver: (_ first: Int, _ chunks: [[UInt8]]) throws -> Void
    private var current: [UInt8] = []
    private var batch: [[UInt8]] = []
    private var delivered = 0
    private var finished = false

    /// - Parameters:
    ///   - chunkSize: the plaintext chunk size the envelope is sealed with.
    ///   - batchSize: chunks per call of `deliver` (the last call may have fewer).
    ///   - deliver: receives consecutive runs of chunks: the index of the first, then the chunks.
    public init(chunkSize: Int, batchSize: Int, deliver: @escaping (_ first: Int, _ chunks: [[UInt8]]) throws -> Void) {
        self.sealedChunkSize = chunkSize + SecretStream.chunkOverhead
        self.batchSize = max(1, batchSize)
        self.deliver = deliver
        current.reserveCapacity(sealedChunkSize)
    }

    /// Chunks handed on so far (all of them after `finish()`).
    public var chunkCount: Int { delivered }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "ChunkSplitter written after finish()")
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, sealedChunkSize - current.count)
            current.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<n]))
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if current.count == sealedChunkSize {
                batch.append(current)
                current.removeAll(keepingCapacity: true)
                if batch.count == batchSize { try flush() }
            }
        }
    }

    /// Hands on what is left: the last chunk, when it is shorter than the others.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        if !current.isEmpty { batch.append(current) }
        try flush()
    }

    private func flush() throws {
        guard !batch.isEmpty else { return }
        let chunks = batch
        batch.removeAll(keepingCapacity: true)
        try deliver(delivered, chunks)
        delivered += chunks.count
    }
}
