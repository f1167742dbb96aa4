import Foundation
import Envelope
import SodiumKit
import Spool
import Topology

/// The checks every envelope passes before the spool takes custody of it, and the routing that
/// decides where it goes: one queue entry per next hop on the tree, or the inbox.
///
/// Today the CLI's `envelope import` and `envelope send` use it; the daemon's links will use the
/// same gate (issue 5).
///
/// Security note: everything here is untrusted until checked: the header is parsed under size
/// limits, its signature is checked against the origin's key pinned in the topology, every
/// recipient must be in the topology, and every chunk is verified (by the spool) before it is
/// stored. Nothing is acknowledged before the spool's custody transaction has committed.
struct Ingress {
    let me: NodeID
    let topology: Topology
    let spool: Spool
    var limits: EnvelopeLimits = .default

    /// Checks a header: signature by a known origin, not expired, every recipient known.
    func check(_ header: EnvelopeHeader, now: Int64) throws {
        guard let origin = topology[header.origin] else {
            throw CLIError("INGRESS-UNKNOWN-ORIGIN", "envelope \(header.id.hex.prefix(16))… comes from \(header.origin), which is not in the topology; refused")
        }
        guard let key = origin.signingKey else {
            throw CLIError("INGRESS-NO-KEY", "the topology has no signing key for \(header.origin); cannot verify envelope \(header.id.hex.prefix(16))…")
        }
        try header.verifySignature(originKey: key)
        try header.checkNotExpired(now: now)
        for r in header.recipientIDs where topology[r] == nil {
            throw CLIError("INGRESS-UNKNOWN-RECIPIENT", "envelope \(header.id.hex.prefix(16))… names recipient \(r), which is not in the topology; refused")
        }
    }

    /// Where an envelope goes from here. Recipients that lie towards the peer it came from were
    /// that side's to serve, so that next hop is dropped (on a tree this is exact).
    func custody(for header: EnvelopeHeader, from: String) throws -> Custody {
        let plan = try topology.nextHops(from: me, recipients: header.recipientIDs)
        var hops = plan.byNextHop
        if let peer = try? NodeID(from) { hops[peer] = nil }
        return Custody(nextHops: hops, deliverLocally: plan.local, trackAsOrigin: header.origin == me)
    }

    /// Checks and stores an envelope file (header ‖ table ‖ body), chunk by chunk, then runs the
    /// custody transaction. Resumes a partial copy left by an interrupted import.
    func acceptFile(_ path: String, from: String, now: Int64) throws -> (EnvelopeHeader, AcceptResult, Custody) {
        let source = try FileSource(path: path)
        let header = try EnvelopeFile.readHeader(from: source, limits: limits)
        try check(header, now: now)
        let verifier = try ChunkVerifier(header: header, table: try EnvelopeFile.readTable(from: source, header: header))
        let custody = try custody(for: header, from: from)
        guard case .resume(let start) = try spool.begin(verifier, from: from, now: now) else {
            return (header, .duplicate, custody)
        }
        var batch: [[UInt8]] = []
        var first = start
        for i in 0..<header.layout.chunkCount {
            let chunk = try source.readExactly(header.layout.ciphertextLength(of: i), what: "envelope body")
            guard i >= start else { continue }
            batch.append(chunk)
            if batch.count == 64 || i == header.layout.chunkCount - 1 {
                try spool.appendChunks(verifier, first: first, chunks: batch)
                first += batch.count
                batch.removeAll(keepingCapacity: true)
            }
        }
        return (header, try spool.complete(header.id, custody: custody, now: now), custody)
    }
}

extension NodeHome {
    var spoolPath: String { path + "/spool.sqlite" }
}
