import Envelope
import Foundation
import SodiumKit

extension Topology {
    /// The topology as JSON, in the layout of `docs/TOPOLOGY.md`: the top-level fields one per
    /// line in a fixed order, then one node per line with its fields in a fixed order (id, name,
    /// level, gso, parents, endpoint, signingKey, encryptionKey, mergedInto), absent optionals omitted.
    ///
    /// The output is stable (same topology, same bytes), keeps UTF-8 names as they are, and
    /// `decode(encoded())` gives back an equal topology. One node per line keeps diffs of
    /// provisioning changes readable and lets an operator `grep` a node id to see all of it.
    /// Scripts/make-hoa-binh-topology writes the same layout. Throws nothing today; declared
    /// `throws` so the format can grow checks without breaking callers.
    public func encoded() throws -> [UInt8] {
        var out = "{\n"
        out += "  \"format\": \(Self.quoted(Self.format)),\n"
        out += "  \"network\": \(Self.quoted(network)),\n"
        if version > 0 { out += "  \"version\": \(version),\n" }
        if let note { out += "  \"note\": \(Self.quoted(note)),\n" }
        if let maxLifetimeDays { out += "  \"maxLifetimeDays\": \(maxLifetimeDays),\n" }
        if nodes.isEmpty {
            out += "  \"nodes\": []\n"
        } else {
            out += "  \"nodes\": [\n"
            for (i, n) in nodes.enumerated() {
                out += "    " + Self.nodeLine(n) + (i + 1 < nodes.count ? ",\n" : "\n")
            }
            out += "  ]\n"
        }
        out += "}\n"
        return Array(out.utf8)
    }

    private static func nodeLine(_ n: TopologyNode) -> String {
        var fields = [
            "\"id\": \(quoted(n.id.rawValue))",
            "\"name\": \(quoted(n.name))",
            "\"level\": \(quoted(n.level.rawValue))",
        ]
        if let gso = n.gso { fields.append("\"gso\": \(quoted(gso))") }
        fields.append("\"parents\": [" + n.parents.map { quoted($0.rawValue) }.joined(separator: ", ") + "]")
        if let e = n.endpoint { fields.append("\"endpoint\": \(quoted(e.description))") }
        if let k = n.signingKey { fields.append("\"signingKey\": \(quoted(Base64.encode(k.bytes)))") }
        if let k = n.encryptionKey { fields.append("\"encryptionKey\": \(quoted(Base64.encode(k.bytes)))") }
        if let m = n.mergedInto { fields.append("\"mergedInto\": \(quoted(m.rawValue))") }
        if let k = n.previousSigningKey, let until = n.previousKeyUntil {
            fields.append("\"previousSigningKey\": \(quoted(Base64.encode(k.bytes)))")
            let date = Date(timeIntervalSince1970: Double(until) / 1000)
            fields.append("\"previousKeyUntil\": \(quoted(ISO8601DateFormatter().string(from: date)))")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// A JSON string literal. Escapes exactly what Python's `json.dumps(ensure_ascii=False)`
    /// escapes, so the generator script and this encoder agree byte for byte.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
