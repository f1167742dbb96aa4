import Foundation
import Node
import Prometheus
import Spool

#if canImport(Glibc)
import Glibc
#endif

/// The node's metrics in Prometheus' text format, on `GET /metrics` of the desk: built afresh from
/// the spool and the live link monitor at each scrape (a registry per scrape, so a peer that is
/// gone leaves no stale series). Every neighbour has every queue state, zeros included; a parent
/// exports each child's link state and backlog as it sees them, so a commune behind NAT is watched
/// from its district.
///
/// Security note: the figures are counts, sizes, times and node ids; no document content, no key.
/// The path is open to loopback clients (a local Prometheus or node exporter) and needs an account
/// from anywhere else.
struct DeskMetrics {
    static let states = ["ready", "inflight", "deferred", "held", "quarantined"]
    static let events = [
        "accepted", "forwarded", "delivered", "acked", "expired", "quarantined", "duplicate", "dropped",
    ]

    let runtime: NodeRuntime

    func render() throws -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        let ops = runtime.operations
        let spool = runtime.spool
        let now = runtime.clock()
        let peers = try ops.peers()
        let status = try ops.status()

        registry.makeGauge(
            name: "lienthong_build_info", labels: [("version", LienThongVersion.string)], help: "1, with the version"
        ).set(Double(1))
        registry.makeGauge(name: "lienthong_uptime_seconds", help: "Seconds since the daemon started")
            .set(Double(status.uptimeSeconds ?? 0))

        // Queues: every neighbour × every state, with zeros; the oldest entry's age per neighbour.
        var cells: [String: [String: Spool.QueueCell]] = [:]
        for c in try spool.queueCells() { cells[c.peer, default: [:]][c.state] = c }
        for p in peers {
            for state in Self.states {
                registry.makeGauge(
                    name: "lienthong_queue_entries", labels: [("peer", p.peer), ("state", state)],
                    help: "Queue entries for a next hop, by state"
                ).set(Double(cells[p.peer]?[state]?.count ?? 0))
            }
            let oldest = cells[p.peer]?.values.map(\.oldestEnqueuedAt).min()
            registry.makeGauge(
                name: "lienthong_queue_oldest_age_seconds", labels: [("peer", p.peer)],
                help: "Age of the oldest queue entry for a next hop (0 when empty)"
            ).set(Double(oldest.map { max(0, now - $0) / 1000 } ?? 0))
            let labels = [("peer", p.peer), ("role", p.role)]
            registry.makeGauge(
                name: "lienthong_link_up", labels: labels, help: "1 while a session with the neighbour is up"
            )
            .set(Double(p.connected ? 1 : 0))
            registry.makeGauge(
                name: "lienthong_link_last_contact_timestamp_seconds", labels: [("peer", p.peer)],
                help: "When a frame last arrived from the neighbour (0 never)"
            ).set(Double(p.lastContact ?? 0) / 1000)
            registry.makeCounter(
                name: "lienthong_link_received_bytes_total", labels: [("peer", p.peer)],
                help: "Bytes received from the neighbour since the daemon started"
            ).increment(by: Int64(clamping: p.bytesIn))
            registry.makeCounter(
                name: "lienthong_link_sent_bytes_total", labels: [("peer", p.peer)],
                help: "Bytes sent to the neighbour since the daemon started"
            ).increment(by: Int64(clamping: p.bytesOut))
            registry.makeGauge(
                name: "lienthong_link_backlog_bytes", labels: [("peer", p.peer)],
                help: "Bytes of envelopes queued for the neighbour"
            ).set(Double(p.backlogBytes))
        }

        // Custody events, from the audit log (they survive restarts, as counters should).
        let counts = try spool.auditCounts()
        for event in Self.events {
            registry.makeCounter(
                name: "lienthong_envelopes_total", labels: [("event", event)],
                help: "Envelopes by custody event (audit log)"
            ).increment(by: Int64(counts[event] ?? 0))
        }
        for (kind, n) in runtime.link.refusals.totals() {
            registry.makeCounter(
                name: "lienthong_refused_total", labels: [("reason", kind)],
                help: "Handshakes and envelopes refused since the daemon started, by reason"
            ).increment(by: Int64(n))
        }
        registry.makeGauge(
            name: "lienthong_receipts_awaited", help: "Recipients of sent documents that have not answered"
        )
        .set(Double(try spool.receiptsAwaited()))
        registry.makeGauge(name: "lienthong_inbox_documents", help: "Documents in the inbox")
            .set(Double(status.inboxDocuments))
        registry.makeGauge(name: "lienthong_spool_bytes", help: "Size of the spool database").set(
            Double(status.spoolBytes))
        let usage = DiskWatermark.usage(runtime.identity.home.path)
        registry.makeGauge(name: "lienthong_disk_free_bytes", help: "Free bytes on the spool's file system")
            .set(Double(usage.free))
        registry.makeGauge(name: "lienthong_disk_size_bytes", help: "Size of the spool's file system")
            .set(Double(usage.size))
        registry.makeGauge(
            name: "lienthong_disk_watermark",
            help: "0 enough free disk, 1 under diskWarnFreePercent, 2 under diskRefuseFreePercent (local sends refused)"
        ).set(Double(DiskWatermark(runtime.settings).level(usage).rawValue))
        let topology = runtime.identity.topology
        registry.makeGauge(name: "lienthong_topology_nodes", help: "Nodes in the topology in force")
            .set(Double(topology.nodes.count))
        registry.makeGauge(name: "lienthong_topology_version", help: "Version of the signed topology in force")
            .set(Double(topology.version))
        return registry.emitToBuffer()
    }
}
