import SodiumKit

/// Size limits checked before anything is buffered. Nodes may tighten them in configuration.
public struct EnvelopeLimits: Sendable, Equatable {
    /// Largest signed header accepted (recipient list included).
    public var maxHeaderBytes: Int
    /// Most recipients one envelope may name.
    public var maxRecipients: Int
    /// Largest plaintext payload.
    public var maxPayloadBytes: UInt64
    /// Allowed plaintext chunk sizes.
    public var chunkSizeRange: ClosedRange<Int>
    /// Longest lifetime (expiry − creation) an envelope may have: the network's maximum (90 days
    /// unless its topology sets `maxLifetimeDays`). Beyond it an envelope would be kept, retried
    /// and remembered for dedup for as long as its origin liked.
    public var maxLifetimeMs: Int64 = 90 * 86_400_000
    /// How far ahead of this node's clock an envelope's creation time may be: office clocks
    /// disagree by seconds to minutes, not hours.
    public var maxClockSkewMs: Int64 = 5 * 60_000
    /// Smallest chunk size of an envelope of more than one chunk (all but its last chunk are
    /// this size): a small body cannot declare a huge chunk table (255 MiB in 1 KiB chunks was
    /// an 8 MiB table held for an offer never followed by a chunk). One-chunk envelopes may use
    /// any size in `chunkSizeRange`. LienThong seals in 64 KiB chunks.
    public var minChunkSizeOfMany: Int = 16 << 10
    /// No envelope was created before 2024-01-01T00:00Z (before LienThong existed): an earlier
    /// time is a broken clock or a forged header.
    public static let earliestCreatedAt: Int64 = 1_704_067_200_000

    public init(
        maxHeaderBytes: Int = 1 << 20, maxRecipients: Int = 4096,
        maxPayloadBytes: UInt64 = 4 << 30, chunkSizeRange: ClosedRange<Int> = 1024...(4 << 20)
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxRecipients = maxRecipients
        self.maxPayloadBytes = maxPayloadBytes
        self.chunkSizeRange = chunkSizeRange
    }

    /// The format's defaults: 1 MiB header, 4,096 recipients, 4 GiB payload, chunks 1 KiB…4 MiB.
    public static let `default` = EnvelopeLimits()

    /// The largest chunk table these limits allow, in entries.
    public var maxChunkCount: Int {
        Int(min(UInt64(Int32.max), maxPayloadBytes / UInt64(chunkSizeRange.lowerBound) + 1))
    }
}

/// Where each ciphertext chunk starts and how long it is, derived from the signed sizes.
public struct ChunkLayout: Sendable, Equatable {
    public let payloadSize: UInt64
    public let chunkSize: Int
    public let chunkCount: Int

    /// Chunk count for a payload: at least one chunk (an empty payload is one empty final chunk).
    public static func chunkCount(payloadSize: UInt64, chunkSize: Int) -> Int {
        payloadSize == 0 ? 1 : Int((payloadSize + UInt64(chunkSize) - 1) / UInt64(chunkSize))
    }

    public init(payloadSize: UInt64, chunkSize: Int) {
        self.payloadSize = payloadSize
        self.chunkSize = chunkSize
        self.chunkCount = Self.chunkCount(payloadSize: payloadSize, chunkSize: chunkSize)
    }

    /// Plaintext bytes in chunk `index`.
    public func plaintextLength(of index: Int) -> Int {
        index < chunkCount - 1 ? chunkSize : Int(payloadSize - UInt64(chunkCount - 1) * UInt64(chunkSize))
    }

    /// Ciphertext bytes in chunk `index` (plaintext + secretstream overhead).
    public func ciphertextLength(of index: Int) -> Int {
        plaintextLength(of: index) + SecretStream.chunkOverhead
    }

    /// Offset of chunk `index` in the body.
    public func ciphertextOffset(of index: Int) -> UInt64 {
        UInt64(index) * UInt64(chunkSize + SecretStream.chunkOverhead)
    }

    /// Splits a whole body held in memory into its ciphertext chunks (small envelopes, tests).
    public func split(body: [UInt8]) -> [[UInt8]] {
        (0..<chunkCount).map { i in
            let start = Int(ciphertextOffset(of: i))
            return Array(body[start..<min(body.count, start + ciphertextLength(of: i))])
        }
    }

    /// Total ciphertext bytes of the body.
    public var bodySize: UInt64 { payloadSize + UInt64(chunkCount) * UInt64(SecretStream.chunkOverhead) }
}
