import Diagnostics

/// The error type of the Envelope module: a stable code, an operator-readable message, the cause.
public struct EnvelopeError: Error, CustomStringConvertible, Sendable, LienThongError {
    public enum Code: String, Sendable, CaseIterable {
        case badMagic = "ENV-BAD-MAGIC"
        case unsupportedVersion = "ENV-VERSION"
        case truncated = "ENV-TRUNCATED"
        case tooLarge = "ENV-TOO-LARGE"
        case malformed = "ENV-MALFORMED"
        case signatureInvalid = "ENV-SIGNATURE"
        case notARecipient = "ENV-NOT-RECIPIENT"
        case chunkDigestMismatch = "ENV-CHUNK-DIGEST"
        case chunkTableMismatch = "ENV-CHUNK-TABLE"
        case decryptionFailed = "ENV-DECRYPT"
        case expired = "ENV-EXPIRED"
        case badClock = "ENV-CLOCK"
        case secrecyRefused = "ENV-SECRECY"
        case invalidNodeID = "ENV-NODE-ID"
        case invalidArgument = "ENV-ARGUMENT"
        case payloadMalformed = "ENV-PAYLOAD"
        case io = "ENV-IO"
    }

    /// The stable code (`LienThongError`).
    public var errorCode: String { code.rawValue }

    public let code: Code
    public let message: String
    /// What caused it (an inner error, errno text), if anything. Never key material.
    public let cause: String?

    public init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        var s = "[\(code.rawValue)] \(message)"
        if let cause { s += " (cause: \(cause))" }
        return s
    }
}
