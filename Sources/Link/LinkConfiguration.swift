import Envelope
import Spool

/// Timeouts and limits of link sessions. Defaults are documented in docs/PROTOCOL.md §6.
public struct LinkConfiguration: Sendable {
    /// A handshake must finish within this time, or the connection is closed.
    public var handshakeTimeout: Duration = .seconds(10)
    /// A peer silent for this long is dropped.
    public var idleTimeout: Duration = .seconds(60)
    /// How often to ping a peer when nothing else was sent.
    public var keepaliveInterval: Duration = .seconds(15)
    /// Chunk bytes sent but not yet reported stored by the receiver, per session. Bulk data in
    /// flight is what an urgent envelope waits behind at the receiver. 2 MiB keeps four chunk
    /// transactions in flight; against 4 MiB it cut the urgent wait further with bulk throughput
    /// within the noise (`Scripts/bench` b, e), and it is still 1.6 s of a 10 Mbit/s commune link
    /// or 0.4 s of a 40 Mbit/s district link.
    public var window: Int = 2 << 20
    /// Chunk bytes beyond `window` that only Hỏa tốc envelopes may have in flight: under bulk
    /// load the window is always full, and an urgent chunk waited for the receiver's next STORED.
    public var urgentReserve: Int = 1 << 20
    /// Chunks of a large envelope stored per spool transaction at the receiver (each is one
    /// fsync). An urgent envelope's commit waits for the transaction in progress: 8 chunks
    /// (512 KiB) instead of 64 cut that wait at no measured bulk cost; 4 cost 10 % of bulk
    /// throughput (docs/BENCHMARKS.md).
    public var chunksPerTransaction: Int = 8
    /// Bytes of frames queued for the socket and not yet written: kept small so that an urgent
    /// envelope does not wait behind much bulk data already queued.
    public var writeQueue: Int = 2 << 20
    /// Unsent bytes the kernel may hold per link socket (`TCP_NOTSENT_LOWAT`, Linux), or nil for
    /// no limit. Without it the kernel queues several MiB of bulk data ahead of an urgent
    /// envelope — many seconds on a 256 kbit/s commune link. Unlike a small `SO_SNDBUF` it does
    /// not cap the bytes in flight, so a fast distant link keeps its throughput.
    public var unsentLowWater: Int? = 128 << 10
    /// Bytes of frames queued for a peer's socket (replies included) beyond which the session
    /// stops reading from that peer until its side drains: what a peer that does not read can
    /// make this node hold. Room for `writeQueue` of chunks plus the largest chunk and replies.
    public var maxWriteBacklog: Int = 16 << 20
    /// How long a peer may leave `maxWriteBacklog` unread before the session is closed.
    public var drainDeadline: Duration = .seconds(30)
    /// New envelopes a peer may offer per second in one session, on average, and at once; more
    /// get a temporary refusal (`OfferRate`). Well above what one neighbour sends honestly
    /// (docs/BENCHMARKS.md a: about 1,500 documents/s on this hardware).
    public var offersPerSecond = 5_000
    public var offerBurst = 10_000
    /// What a peer's partial envelopes may hold on this node's disk (`Spool.begin`).
    public var partialQuota = PartialQuota()
    /// What a peer's offers in progress may make this node hold, per session (`InboundOffers`).
    var inboundOffers = InboundOffers.Limits()
    /// Envelopes offered and not yet answered or finished, per session.
    public var maxOutstandingOffers: Int = 1024
    /// Envelopes of at most this many chunks are held in memory until complete and committed in
    /// groups (one fsync for many); larger ones are stored chunk batch by chunk batch (resumable).
    /// At least 1 whatever is set: a one-chunk envelope's chunk follows its offer unasked, so the
    /// receiver must hold it in memory (docs/PROTOCOL.md §5).
    public var smallEnvelopeChunks: Int = 1
    /// Largest frame accepted.
    public var maxFrameSize: Int = 8 << 20
    /// Per-entry retry policy after a temporary refusal or failure.
    public var retry = RetryPolicy()

    public init() {}
}
