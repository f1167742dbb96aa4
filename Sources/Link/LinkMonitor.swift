import Envelope
import NIOConcurrencyHelpers

/// Live state of each neighbour's link, for `lienthong peers`: sessions report here, the node's
/// dialler adds its backoff. Counters are cumulative since the node started.
public final class LinkMonitor: Sendable {
    public struct PeerState: Sendable, Equatable {
        public var connected = false
        /// When the current session came up (ms since the epoch).
        public var since: Int64?
        /// When a frame last arrived from the peer.
        public var lastContact: Int64?
        public var bytesIn: UInt64 = 0
        public var bytesOut: UInt64 = 0
        public var sessions = 0
        public var lastCloseReason: String?
        /// Parents only: the dialler's state.
        public var backoffMs: Int64?
        public var nextDialAt: Int64?
        public var lastDialError: String?
        public init() {}
    }

    private let peers = NIOLockedValueBox<[NodeID: PeerState]>([:])
    private let ups = AsyncStream.makeStream(of: NodeID.self, bufferingPolicy: .bufferingNewest(4096))

    public init() {}

    deinit { ups.continuation.finish() }

    /// Each peer whose session comes up, in order, for one consumer (the node's down-route
    /// service, which announces a child that failed over to it or came back). A stream, not a
    /// callback: the monitor holds no reference to what consumes it.
    public var sessionsUp: AsyncStream<NodeID> { ups.stream }

    func sessionUp(_ peer: NodeID, now: Int64) {
        peers.withLockedValue {
            $0[peer, default: PeerState()].connected = true
            $0[peer]?.since = now
            $0[peer]?.lastContact = now
            $0[peer]?.sessions += 1
        }
        ups.continuation.yield(peer)
    }

    func received(_ peer: NodeID, bytes: Int, now: Int64) {
        peers.withLockedValue {
            $0[peer, default: PeerState()].bytesIn += UInt64(bytes)
            $0[peer]?.lastContact = now
        }
    }

    func sent(_ peer: NodeID, bytes: Int) {
        peers.withLockedValue { $0[peer, default: PeerState()].bytesOut += UInt64(bytes) }
    }

    func sessionDown(_ peer: NodeID, reason: String) {
        peers.withLockedValue {
            $0[peer, default: PeerState()].connected = false
            $0[peer]?.since = nil
            $0[peer]?.lastCloseReason = reason
        }
    }

    /// The dialler's view of a parent: current backoff, next attempt, last failure.
    public func setDial(_ peer: NodeID, backoffMs: Int64?, nextDialAt: Int64?, error: String?) {
        peers.withLockedValue {
            $0[peer, default: PeerState()].backoffMs = backoffMs
            $0[peer]?.nextDialAt = nextDialAt
            $0[peer]?.lastDialError = error
        }
    }

    public func snapshot() -> [NodeID: PeerState] { peers.withLockedValue { $0 } }

    public func isConnected(_ peer: NodeID) -> Bool { peers.withLockedValue { $0[peer]?.connected ?? false } }
}
