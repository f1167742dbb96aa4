import Control
import Envelope
import Foundation
import Link
import Spool
import Topology

/// `lienthong status` and `peers`: figures from the spool and the live link monitor.
extension NodeOperations {
    public func status() throws -> NodeStatusReport {
        let s = try spool.statistics()
        let now = clock()
        var report = NodeStatusReport(
            node: identity.id.rawValue, name: identity.name,
            uptimeSeconds: startedAt.map { (now - $0) / 1000 },
            queueByState: s.entriesByState, queueTotal: s.entriesByState.values.reduce(0, +),
            oldestEntryAgeSeconds: s.oldestEnqueuedAt.map { max(0, now - $0) / 1000 },
            inboxDocuments: s.inboxDocuments,
            sentDocuments: s.sentDocuments, spoolBytes: spool.diskSize())
        report.topologyVersion = identity.topology.version
        report.desk = desk?.url
        report.metrics = report.desk.map { $0 + "/metrics" }
        return report
    }

    public func peers() throws -> [PeerReport] {
        // Roles as the authority drew the tree (down-routes only change where documents go).
        let t = identity.liveTopology.signedTopology
        let me = identity.id
        let backlog = try spool.backlog()
        let live = monitor?.snapshot() ?? [:]
        let parents = t.parents(of: me)
        func role(_ p: NodeID) -> String {
            if let i = parents.firstIndex(of: p) { return i == 0 ? "parent" : "failover-parent" }
            return t.children(of: me).contains(p) ? "child" : "failover-child"
        }
        return t.neighbours(of: me).map { p in
            let l = live[p] ?? LinkMonitor.PeerState()
            let b = backlog[p] ?? PeerBacklog(entries: 0, bytes: 0)
            return PeerReport(
                peer: p.rawValue, name: t[p]?.name ?? "?", role: role(p), connected: l.connected,
                connectedSince: l.since, lastContact: l.lastContact, backlogEntries: b.entries,
                backlogBytes: b.bytes, bytesIn: l.bytesIn, bytesOut: l.bytesOut, sessions: l.sessions,
                backoffMs: l.backoffMs, nextDialAt: l.nextDialAt,
                lastError: l.lastDialError ?? l.lastCloseReason)
        }
    }
}
