import Control
import Envelope
import Foundation
import Spool

/// Pure formatting of queue views, text and JSON, with `now` passed in (so output is testable
/// byte for byte). The JSON field names are documented in docs/OPERATIONS.md and are stable.
enum QueueReport {
    // MARK: - list

    struct ListJSON: Codable {
        struct Entry: Codable {
            let id: String, peer: String, state: String, urgency: String, origin: String, recipients: [String]
            let size: UInt64, enqueuedAt: Int64, ageSeconds: Int64, attempts: Int, nextAttemptAt: Int64,
                lastError: String?, expiresAt: Int64
        }
        let now: Int64
        let count: Int
        let totalBytes: UInt64
        let entries: [Entry]
    }

    /// `ListJSON` written by hand (`JSONText`, keys sorted as `JSONEncoder` sorts them): 100,000
    /// entries in a fraction of the encoder's time.
    static func listJSON(_ entries: [QueueEntry], now: Int64) throws -> String {
        var json = JSONText(capacity: entries.count * 360 + 64)
        json.beginObject()
        json.field("count", entries.count)
        json.key("entries")
        json.beginArray()
        for e in entries {
            json.beginObject()
            json.field("ageSeconds", Output.span(now, e.enqueuedAt) / 1000)
            json.field("attempts", e.attempts)
            json.field("enqueuedAt", e.enqueuedAt)
            json.field("expiresAt", e.expiresAt)
            json.field("id", e.envelopeID.hex)
            json.field("lastError", e.lastError)
            json.field("nextAttemptAt", e.nextAttemptAt)
            json.field("origin", e.origin.rawValue)
            json.field("peer", e.peer.rawValue)
            json.field("recipients", e.recipients.map(\.rawValue))
            json.field("size", e.bodySize)
            json.field("state", e.state.rawValue)
            json.field("urgency", e.urgency.cliName)
            json.endObject()
        }
        json.endArray()
        json.field("now", now)
        json.field("totalBytes", entries.reduce(UInt64(0)) { $0 + $1.bodySize })
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self) + "\n"
    }

    static func listText(_ entries: [QueueEntry], now: Int64) -> String {
        guard !entries.isEmpty else { return "Queue is empty.\n" }
        var rows = [["ID", "PEER", "STATE", "URGENCY", "SIZE", "AGE", "TRIES", "NEXT", "LAST ERROR"]]
        for e in entries {
            let next: String
            switch e.state {
            case .held, .quarantined, .inflight: next = "-"
            case .ready, .deferred:
                next = e.nextAttemptAt <= now ? "now" : "in " + age(Output.span(e.nextAttemptAt, now))
            }
            rows.append([
                String(e.envelopeID.hex.prefix(16)), e.peer.rawValue, e.state.rawValue, e.urgency.displayName,
                bytes(e.bodySize),
                age(Output.span(now, e.enqueuedAt)), String(e.attempts), next, e.lastError ?? "",
            ])
        }
        let total = entries.reduce(UInt64(0)) { $0 + $1.bodySize }
        return table(rows) + "-- \(entries.count) entr\(entries.count == 1 ? "y" : "ies"), \(bytes(total))\n"
    }

    // MARK: - partial envelopes

    struct PartialJSON: Codable {
        struct Entry: Codable {
            let id: String, peer: String, origin: String, declaredBytes: UInt64, storedBytes: UInt64
            let chunks: Int, chunksStored: Int, receivedAt: Int64, lastProgressAt: Int64, idleSeconds: Int64
        }
        let now: Int64
        let count: Int
        let entries: [Entry]
    }

    static func partialJSON(_ partials: [PartialEnvelope], now: Int64) throws -> String {
        try json(
            PartialJSON(
                now: now, count: partials.count,
                entries: partials.map {
                    .init(
                        id: $0.envelopeID.hex, peer: $0.peer, origin: $0.origin, declaredBytes: $0.payloadSize,
                        storedBytes: $0.bytesStored, chunks: $0.chunkCount, chunksStored: $0.chunksStored,
                        receivedAt: $0.receivedAt, lastProgressAt: $0.lastProgressAt,
                        idleSeconds: Output.span(now, $0.lastProgressAt) / 1000)
                }))
    }

    /// `queue list --state partial`: envelopes being received, with their last progress.
    static func partialText(_ partials: [PartialEnvelope], now: Int64) -> String {
        guard !partials.isEmpty else { return "No partial envelopes.\n" }
        var rows = [["ID", "FROM PEER", "DECLARED", "STORED", "CHUNKS", "LAST PROGRESS"]]
        for p in partials {
            rows.append([
                String(p.envelopeID.hex.prefix(16)), p.peer, bytes(p.payloadSize), bytes(p.bytesStored),
                "\(p.chunksStored)/\(p.chunkCount)", age(Output.span(now, p.lastProgressAt)) + " ago",
            ])
        }
        let declared = partials.reduce(UInt64(0)) { $0 &+ $1.payloadSize }
        return table(rows) + "-- \(partials.count) partial envelope\(partials.count == 1 ? "" : "s"), "
            + "\(bytes(declared)) declared\n"
    }

    // MARK: - shape

    /// Age buckets in minutes, doubling like qshape's: 0-5, 5-10, 10-20, … 640+.
    static let bucketEdges: [Int64] = [5, 10, 20, 40, 80, 160, 320, 640]
    static var bucketNames: [String] {
        var names: [String] = []
        var low: Int64 = 0
        for e in bucketEdges {
            names.append("\(low)-\(e)m")
            low = e
        }
        return names + ["\(low)m+"]
    }

    struct ShapeJSON: Codable {
        struct Row: Codable { let peer: String, total: Int, counts: [Int], oldestAgeSeconds: Int64 }
        let now: Int64
        let buckets: [String]
        let peers: [Row]
        let total: Row
    }

    static func shape(_ entries: [QueueEntry], now: Int64) -> ShapeJSON {
        func bucket(_ ageMs: Int64) -> Int {
            let minutes = max(0, ageMs) / 60_000
            return bucketEdges.firstIndex { minutes < $0 } ?? bucketEdges.count
        }
        func row(_ peer: String, _ es: [QueueEntry]) -> ShapeJSON.Row {
            var counts = [Int](repeating: 0, count: bucketEdges.count + 1)
            for e in es { counts[bucket(Output.span(now, e.enqueuedAt))] += 1 }
            return ShapeJSON.Row(
                peer: peer, total: es.count, counts: counts,
                oldestAgeSeconds: Output.span(now, es.map(\.enqueuedAt).min() ?? now) / 1000)
        }
        let byPeer = Dictionary(grouping: entries, by: \.peer)
        return ShapeJSON(
            now: now, buckets: bucketNames, peers: byPeer.keys.sorted().map { row($0.rawValue, byPeer[$0] ?? []) },
            total: row("TOTAL", entries))
    }

    static func shapeText(_ s: ShapeJSON) -> String {
        var rows = [["PEER", "T"] + s.buckets + ["OLDEST"]]
        for r in [s.total] + s.peers {
            rows.append(
                [r.peer, String(r.total)] + r.counts.map(String.init) + [
                    r.total == 0 ? "-" : age(r.oldestAgeSeconds * 1000)
                ])
        }
        return table(rows, rightAligned: true)
    }

    // MARK: - show

    struct ShowJSON: Codable {
        let id: String, kind: String, urgency: String, origin: String, createdAt: Int64, expiresAt: Int64
        let payloadSize: UInt64, bodySize: UInt64, chunks: Int, chunksStored: Int, complete: Bool
        let recipients: [String]
        let entries: [ListJSON.Entry]
        let audit: [AuditRecord]
    }

    static func show(
        header: EnvelopeHeader, chunksStored: Int, complete: Bool, entries: [QueueEntry], audit: [AuditRecord],
        now: Int64
    ) throws -> ShowJSON {
        let list = try JSONDecoder().decode(ListJSON.self, from: Data(listJSON(entries, now: now).utf8))
        return ShowJSON(
            id: header.id.hex, kind: "\(header.kind)", urgency: header.urgency.cliName, origin: header.origin.rawValue,
            createdAt: header.createdAt, expiresAt: header.expiresAt, payloadSize: header.layout.payloadSize,
            bodySize: header.layout.bodySize, chunks: header.layout.chunkCount, chunksStored: chunksStored,
            complete: complete,
            recipients: header.recipientIDs.map(\.rawValue), entries: list.entries, audit: audit)
    }

    static func showText(_ s: ShowJSON, now: Int64, names: (String) -> String?) -> String {
        var out = "Envelope \(s.id)\n"
        out += "  kind        \(s.kind)\n"
        out += "  urgency     \(Urgency(parsing: s.urgency)?.displayName ?? s.urgency)\n"
        out += "  origin      \(s.origin)\(names(s.origin).map { " (\($0))" } ?? "")\n"
        out += "  created     \(timestamp(s.createdAt)) (\(age(Output.span(now, s.createdAt))) ago)\n"
        out +=
            """
              expires     \
            \(timestamp(s.expiresAt))\
            \(s.expiresAt > now ? " (in \(age(Output.span(s.expiresAt, now))))" : " (expired)")\n
            """
        out +=
            """
              size        \(bytes(s.bodySize)) in \(s.chunks) chunk(s), \(s.chunksStored) \
            stored\(s.complete ? ", complete" : ", partial")\n
            """
        out +=
            """
              recipients  \(s.recipients.count): \
            \(s.recipients.prefix(8).joined(separator: ", "))\(s.recipients.count > 8 ? ", …" : "")\n
            """
        out += "Queue entries (one per next hop):\n"
        if s.entries.isEmpty { out += "  none\n" }
        for e in s.entries {
            out +=
                """
                  → \(e.peer)  \(e.state)  tries \(e.attempts)  for \(e.recipients.count) \
                recipient(s)\(e.lastError.map { "  last error: \($0)" } ?? "")\n
                """
        }
        out += "Audit:\n"
        if s.audit.isEmpty { out += "  none\n" }
        for a in s.audit {
            out +=
                """
                  #\(a.seq) \(timestamp(a.at)) \(a.event.rawValue)\(a.peer.map { " peer=\($0)" } ?? "") by \
                \(a.actor)\(a.detail.map { ": \($0)" } ?? "")\n
                """
        }
        return out
    }

    // MARK: - helpers

    static func json<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self) + "\n"
    }

    /// `42s`, `3m12s`, `2h05m`, `3d04h`.
    static func age(_ ms: Int64) -> String {
        let s = max(0, ms) / 1000
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m\(String(format: "%02d", s % 60))s"
        case ..<86_400: return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
        default: return "\(s / 86_400)d\(String(format: "%02d", (s % 86_400) / 3600))h"
        }
    }

    static func bytes(_ n: UInt64) -> String {
        switch n {
        case ..<1024: return "\(n) B"
        case ..<(1 << 20): return String(format: "%.1f KiB", Double(n) / 1024)
        case ..<(1 << 30): return String(format: "%.1f MiB", Double(n) / 1_048_576)
        default: return String(format: "%.2f GiB", Double(n) / 1_073_741_824)
        }
    }

    /// UTC, to the second: operators compare times across offices.
    static func timestamp(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func table(_ rows: [[String]], rightAligned: Bool = false) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return rightAligned && c > 0 ? pad + cell : (c == row.count - 1 ? cell : cell + pad)
            }.joined(separator: "  ").trimmingSuffix(" ")
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// The string without trailing `c`s (table rows end without padding).
    func trimmingSuffix(_ c: Character) -> String {
        var s = self
        while s.last == c { s.removeLast() }
        return s
    }
}
