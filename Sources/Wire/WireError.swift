import Diagnostics

/// Wire: the link protocol between neighbours — framing, the authenticated handshake, the
/// encrypted session messages. Pure (NIOCore buffers, no sockets), so every decoder and state
/// machine is tested without a network.
///
/// Security note: everything here parses bytes from an unauthenticated TCP peer. Every length is
/// checked against a limit before anything is buffered; unknown versions and message types are
/// refused with a named error; nothing is trusted before the handshake has verified the peer's
/// signature with its key pinned in the topology; after the handshake every frame is authenticated
/// (secretstream per direction) and a frame that fails is fatal to the session. Secret keys and
/// session keys never appear in errors or logs.

/// The error type of the Wire module.
public struct WireError: Error, CustomStringConvertible, Sendable, Equatable, LienThongError {
    public enum Code: String, Sendable {
        case badPreamble = "WIRE-BAD-PREAMBLE"
        case unsupportedVersion = "WIRE-VERSION"
        case frameTooLarge = "WIRE-FRAME-TOO-LARGE"
        case truncated = "WIRE-TRUNCATED"
        case unknownMessage = "WIRE-UNKNOWN-MESSAGE"
        case malformed = "WIRE-MALFORMED"
        case unexpectedMessage = "WIRE-UNEXPECTED"
        case wrongNetwork = "WIRE-WRONG-NETWORK"
        case notANeighbour = "WIRE-NOT-NEIGHBOUR"
        case wrongPeer = "WIRE-WRONG-PEER"
        case badSignature = "WIRE-BAD-SIGNATURE"
        case replayed = "WIRE-REPLAYED"
        case clockSkew = "WIRE-CLOCK-SKEW"
        case decryptFailed = "WIRE-DECRYPT"
        case refusedByPeer = "WIRE-REFUSED"
        case timeout = "WIRE-TIMEOUT"
    }

    /// The stable code (`LienThongError`).
    public var errorCode: String { code.rawValue }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "[\(code.rawValue)] \(message)" }
}
