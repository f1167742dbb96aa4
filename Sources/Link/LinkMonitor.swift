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
    private let upHandlers = NIOLockedValueBox<[@Sendable (NodeID) -> Void]>([])

    public init() {}

    /// Called (on the session's task, so it must not block) each time a session comes up: the
    /// node announces a child that failed over to it, or came back.
    public func onSessionUp(_ handler: @escaping @Sendable (NodeID) -> Void) {
        upHandlers.withLockedValue { $0.append(handler) }
    }

    func sessionUp(_ peer: NodeID, now: Int64) {
        peers.withLockedValue {
            $0[peer, default: PeerState()].connected = true
            $0[peer]?.since = now
            $0[peer]?.lastContact = now
            $0[peer]?.sessions += 1
        }
        for handler in upHandlers.withLockedValue({ $0 }) { handler(peer) }
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
