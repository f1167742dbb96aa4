import Diagnostics
import Envelope

/// The error type of the Topology module: a stable code an operator can search for, a message
/// that names the offending node (or field) and says what to fix, and the underlying cause.
///
/// `description` reads `[TOPO-UNKNOWN-PARENT] node 000.01.01.H27 lists parent … (cause: …)`.
public struct TopologyError: Error, Sendable, CustomStringConvertible, LienThongError {
    /// Stable error codes. The raw values are part of the operator interface: scripts and
    /// runbooks match on them, so they never change once shipped.
    public enum Code: String, Sendable, CaseIterable {
        /// The file could not be read (missing, unreadable, not a regular file).
        case io = "TOPO-IO"
        /// The file is larger than `Topology.maxFileSize`; refused before reading.
        case tooLarge = "TOPO-TOO-LARGE"
        /// Not JSON, a field of the wrong type, a missing or unknown field.
        case syntax = "TOPO-SYNTAX"
        /// The `format` marker is missing or is not `lienthong-topology-v1`.
        case badFormat = "TOPO-BAD-FORMAT"
        /// The `network` identifier is empty, too long or has characters outside `[A-Za-z0-9._-]`.
        case badNetwork = "TOPO-BAD-NETWORK"
        /// A node id (or a parent reference) is not a valid `NodeID`.
        case invalidID = "TOPO-INVALID-ID"
        /// Two nodes share an id.
        case duplicateID = "TOPO-DUPLICATE-ID"
        /// A display name is empty, too long, or holds control or bidi-override characters.
        case badName = "TOPO-BAD-NAME"
        /// An unknown level, or a node that sits above its parent (a district under a commune).
        case badLevel = "TOPO-BAD-LEVEL"
        /// A node lists the same parent twice.
        case badParents = "TOPO-BAD-PARENTS"
        /// A node lists a parent that is not in the file.
        case unknownParent = "TOPO-UNKNOWN-PARENT"
        /// Following parents leads back to where it started (including a node that is its own parent).
        case cycle = "TOPO-CYCLE"
        /// No node without parents: there is no root (or the file has no nodes).
        case noRoot = "TOPO-NO-ROOT"
        /// More than one node without parents.
        case multipleRoots = "TOPO-MULTIPLE-ROOTS"
        /// A node that cannot be reached from the root by going down the tree.
        case unreachable = "TOPO-UNREACHABLE"
        /// A node without its public keys, when the caller requires keys (a running network).
        case missingKeys = "TOPO-MISSING-KEYS"
        /// A key that is not base64, has the wrong length, or is shared by two nodes.
        case badKey = "TOPO-BAD-KEY"
        /// An endpoint that is not `host:port`, or is shared by two nodes.
        case badEndpoint = "TOPO-BAD-ENDPOINT"
        /// A routing query named a node that is not in the topology.
        case unknownNode = "TOPO-UNKNOWN-NODE"
        /// A node home pins an authority but its topology file is not signed (or the reverse).
        case unsigned = "TOPO-UNSIGNED"
        /// A signed topology whose signature does not verify (altered, or not a signature).
        case badSignature = "TOPO-BAD-SIGNATURE"
        /// Signed by another authority than the one this node pins.
        case wrongAuthority = "TOPO-WRONG-AUTHORITY"
        /// An update that is not newer than the topology in force.
        case staleVersion = "TOPO-STALE-VERSION"
        /// An update in which this node does not appear.
        case nodeMissing = "TOPO-NODE-MISSING"
        /// A `mergedInto` that names no node, the node itself, a loop of merges, or a retired node
        /// that others still list as their parent.
        case badMerge = "TOPO-BAD-MERGE"
    }

    /// The stable code (`LienThongError`).
    public var errorCode: String { code.rawValue }

    public let code: Code
    /// What is wrong and, where it helps, what to do about it; names the node at fault.
    public let message: String
    /// The node at fault, when there is one (lets callers point at it without parsing `message`).
    public let node: NodeID?
    /// The underlying error (a JSON parser message, errno text), if any. Never key material.
    public let cause: String?

    public init(_ code: Code, _ message: String, node: NodeID? = nil, cause: String? = nil) {
        self.code = code
        self.message = message
        self.node = node
        self.cause = cause
    }

    public var description: String {
        var s = "[\(code.rawValue)] \(message)"
        if let cause { s += " (cause: \(cause))" }
        return s
    }
}
