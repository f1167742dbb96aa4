import Envelope
import Spool

/// The envelopes a peer has offered and this session is receiving, with what they cost this
/// node: a plain value (no channel, no spool), so its bounds are tested without a session.
///
/// Each offer holds its chunk table in memory (32 bytes a chunk) and, for a small envelope, its
/// chunks until it is complete; a large one also declares bytes the spool will be asked to hold.
/// Beyond `Limits` a new offer is refused for now (`temporaryFailure`): the sender defers it
/// with backoff and offers it again, so an honest neighbour loses nothing and a hostile one
/// cannot make the node hold more (docs/PROTOCOL.md §6).
///
/// Security note: every number here comes from a signed header of the peer; totals are
/// unsigned sums of values the envelope limits already bound, so they cannot overflow.
package struct InboundOffers {
    struct Entry {
        let verifier: ChunkVerifier
        let custody: Custody
        /// The chunks so far of an envelope held in memory until complete; nil for a large one.
        var small: [[UInt8]]?
    }

    /// Per session. The count leaves room for the sender's 1,024 outstanding offers and its
    /// Hỏa tốc hand-offs, which are not counted against those.
    package struct Limits: Sendable, Equatable {
        package var maxOffers = 2048
        /// Plaintext bytes declared by large envelopes in progress.
        package var maxDeclaredBytes: UInt64 = 16 << 30
        /// Plaintext bytes of small envelopes, whose chunks are held in memory.
        package var maxSmallBytes: UInt64 = 64 << 20
        /// Chunk-table bytes held in memory.
        package var maxTableBytes: UInt64 = 8 << 20

        package init() {}
    }

    let limits: Limits
    private var entries: [EnvelopeID: Entry] = [:]
    private(set) var declaredBytes: UInt64 = 0
    private(set) var smallBytes: UInt64 = 0
    private(set) var tableBytes: UInt64 = 0

    init(limits: Limits = Limits()) { self.limits = limits }

    var count: Int { entries.count }

    /// Why the offer of `header` cannot be taken now, or nil when it fits.
    func refusal(for header: EnvelopeHeader, small: Bool) -> String? {
        let size = header.layout.payloadSize
        let table = Self.tableBytes(header)
        if entries.count >= limits.maxOffers {
            return "\(entries.count) envelopes from this peer are in progress (limit \(limits.maxOffers)); "
                + "offer it again later"
        }
        if tableBytes + table > limits.maxTableBytes {
            return "chunk tables of envelopes in progress would exceed \(limits.maxTableBytes >> 20) MiB; "
                + "offer it again later"
        }
        if small, smallBytes + size > limits.maxSmallBytes {
            return "small envelopes in progress would exceed \(limits.maxSmallBytes >> 20) MiB; offer it again later"
        }
        if !small, declaredBytes + size > limits.maxDeclaredBytes {
            return "large envelopes in progress would exceed \(limits.maxDeclaredBytes >> 20) MiB; offer it again later"
        }
        return nil
    }

    subscript(id: EnvelopeID) -> Entry? {
        get { entries[id] }
        set {
            if let old = entries[id] { account(old, sign: -1) }
            entries[id] = newValue
            if let newValue { account(newValue, sign: 1) }
        }
    }

    private mutating func account(_ e: Entry, sign: Int) {
        let header = e.verifier.header
        let size = header.layout.payloadSize
        let table = Self.tableBytes(header)
        if sign > 0 {
            tableBytes += table
            if e.small != nil { smallBytes += size } else { declaredBytes += size }
        } else {
            tableBytes -= table
            if e.small != nil { smallBytes -= size } else { declaredBytes -= size }
        }
    }

    static func tableBytes(_ header: EnvelopeHeader) -> UInt64 {
        UInt64(header.layout.chunkCount) * UInt64(ChunkTable.entryByteCount)
    }
}
