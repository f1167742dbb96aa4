import Envelope
import Foundation
import SodiumKit

extension Topology {
    /// Reads and validates a topology file.
    ///
    /// The size is checked before anything is read, and the read itself is bounded, so a file
    /// that grows meanwhile (or a device file) cannot make this buffer more than
    /// `maxFileSize` bytes. Errors: `TOPO-IO`, `TOPO-TOO-LARGE`, then those of `decode`.
    public static func load(path: String, requireKeys: Bool = false) throws -> Topology {
        let data = try readFile(path, limit: maxFileSize)
        do {
            return try decode(data, requireKeys: requireKeys)
        } catch let e as TopologyError {
            // Say which file, so an operator juggling several copies knows which one to fix.
            throw TopologyError(e.code, "\(path): \(e.message)", node: e.node, cause: e.cause)
        }
    }

    /// The bytes of a topology file (plain or signed), read with the size checked first and the
    /// read itself bounded by `limit`.
    public static func readFile(_ path: String, limit: Int) throws -> [UInt8] {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw TopologyError(
                .io, "cannot read the topology file \(path); check the path and permissions",
                cause: (error as NSError).localizedDescription)
        }
        guard (attributes[.type] as? FileAttributeType) == .typeRegular else {
            throw TopologyError(.io, "\(path) is not a regular file; give the path of a topology JSON file")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= limit else {
            throw TopologyError(.tooLarge, "\(path) is \(size) bytes; topology files are limited to \(limit) bytes")
        }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw TopologyError(
                .io, "cannot read the topology file \(path)", cause: (error as NSError).localizedDescription)
        }
        guard data.count <= limit else {
            throw TopologyError(
                .tooLarge, "\(path) grew past \(limit) bytes while being read; topology files are limited to that")
        }
        return Array(data)
    }

    /// Parses and validates topology JSON (the format in `docs/TOPOLOGY.md`).
    ///
    /// Unknown fields are refused rather than ignored: a typo such as `"parent"` or
    /// `"signingkey"` would otherwise silently drop a link or a pinned key.
    public static func decode(_ bytes: [UInt8], requireKeys: Bool = false) throws -> Topology {
        guard bytes.count <= maxFileSize else {
            throw TopologyError(.tooLarge, "topology is \(bytes.count) bytes; the limit is \(maxFileSize)")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw TopologyError(.syntax, "the topology is not valid JSON", cause: jsonCause(error))
        }
        guard let top = json as? [String: Any] else {
            throw TopologyError(.syntax, "the topology must be a JSON object with format, network and nodes")
        }
        guard let formatValue = top["format"] else {
            throw TopologyError(
                .badFormat, "missing the format marker; a topology file starts with \"format\": \"\(format)\"")
        }
        guard let fileFormat = formatValue as? String, fileFormat == format else {
            throw TopologyError(
                .badFormat,
                "format is \(describe(formatValue)), this version reads \"\(format)\" (is this a topology file?)")
        }
        try refuseUnknownFields(top, known: topFields, where: "the top level", node: nil)
        guard let networkValue = top["network"] else {
            throw TopologyError(.syntax, "missing field \"network\" (the network identifier, e.g. \"hoa-binh-2020\")")
        }
        guard let network = networkValue as? String else {
            throw TopologyError(.syntax, "field \"network\" must be a string, got \(describe(networkValue))")
        }
        var note: String?
        if let n = top["note"] {
            guard let s = n as? String else {
                throw TopologyError(.syntax, "field \"note\" must be a string, got \(describe(n))")
            }
            note = s
        }
        guard let nodesValue = top["nodes"] else {
            throw TopologyError(.syntax, "missing field \"nodes\" (the list of nodes)")
        }
        guard let list = nodesValue as? [Any] else {
            throw TopologyError(.syntax, "field \"nodes\" must be an array, got \(describe(nodesValue))")
        }
        let nodes = try list.enumerated().map { try decodeNode($1, position: $0 + 1) }
        var topology = try Topology(network: network, note: note, nodes: nodes, requireKeys: requireKeys)
        if let value = top["maxLifetimeDays"] {
            guard let days = value as? Int, !isJSONBool(value), (1...3650).contains(days) else {
                throw TopologyError(
                    .syntax,
                    "field \"maxLifetimeDays\" must be a whole number of days from 1 to 3650, "
                        + "got \(describe(value))")
            }
            topology.maxLifetimeDays = days
        }
        if let value = top["version"] {
            guard let version = value as? Int, !isJSONBool(value), (1...Int(Int32.max)).contains(version) else {
                throw TopologyError(
                    .syntax, "field \"version\" must be a whole number from 1 to \(Int32.max), got \(describe(value))")
            }
            topology.version = version
        }
        return topology
    }

    /// JSON `true`/`false`: Foundation bridges them to NSNumber, and `1 is Bool` holds for any
    /// NSNumber 0 or 1, so the type's name tells them apart.
    static func isJSONBool(_ value: Any) -> Bool { String(describing: type(of: value)).contains("Bool") }

    static let topFields = ["format", "network", "version", "note", "maxLifetimeDays", "nodes"]
    static let nodeFields = [
        "id", "name", "level", "gso", "parents", "endpoint", "signingKey", "encryptionKey", "mergedInto",
        "previousSigningKey", "previousKeyUntil",
    ]

    private static func decodeNode(_ value: Any, position: Int) throws -> TopologyNode {
        guard let obj = value as? [String: Any] else {
            throw TopologyError(.syntax, "nodes entry \(position) must be an object, got \(describe(value))")
        }
        guard let idValue = obj["id"] else {
            throw TopologyError(.syntax, "nodes entry \(position) has no \"id\"")
        }
        guard let idText = idValue as? String else {
            throw TopologyError(.syntax, "nodes entry \(position): \"id\" must be a string, got \(describe(idValue))")
        }
        let id: NodeID
        do { id = try NodeID(idText) } catch {
            throw TopologyError(
                .invalidID, "nodes entry \(position): '\(Endpoint.printable(idText))' is not a valid node id",
                cause: String(describing: error))
        }
        try refuseUnknownFields(obj, known: nodeFields, where: "node \(id)", node: id)

        let name = try string(obj, "name", node: id)
        let levelText = try string(obj, "level", node: id)
        guard let level = NodeLevel(rawValue: levelText) else {
            throw TopologyError(
                .badLevel,
                """
                node \(id): level '\(Endpoint.printable(levelText))' is not one of \
                \(NodeLevel.allCases.map(\.rawValue).joined(separator: ", "))
                """,
                node: id)
        }
        guard let parentsValue = obj["parents"] else {
            throw TopologyError(.syntax, "node \(id): missing field \"parents\" (use [] for the root)", node: id)
        }
        guard let parentTexts = parentsValue as? [Any] else {
            throw TopologyError(
                .syntax, "node \(id): \"parents\" must be an array of ids, got \(describe(parentsValue))", node: id)
        }
        let parents = try parentTexts.map { p -> NodeID in
            guard let s = p as? String else {
                throw TopologyError(
                    .syntax, "node \(id): every parent must be a string id, got \(describe(p))", node: id)
            }
            do { return try NodeID(s) } catch {
                throw TopologyError(
                    .invalidID, "node \(id): parent '\(Endpoint.printable(s))' is not a valid node id",
                    node: id, cause: String(describing: error))
            }
        }

        var node = TopologyNode(id: id, name: name, level: level, parents: parents)
        if obj["gso"] != nil {
            let gso = try string(obj, "gso", node: id)
            guard (1...16).contains(gso.utf8.count), gso.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw TopologyError(
                    .syntax, "node \(id): gso '\(Endpoint.printable(gso))' must be 1 to 16 digits", node: id)
            }
            node.gso = gso
        }
        if obj["endpoint"] != nil {
            let text = try string(obj, "endpoint", node: id)
            do { node.endpoint = try Endpoint.parse(text) } catch let e as TopologyError {
                throw TopologyError(.badEndpoint, "node \(id): endpoint \(e.message)", node: id)
            }
        }
        if obj["signingKey"] != nil {
            let bytes = try keyBytes(obj, "signingKey", node: id, expected: SigningPublicKey.byteCount)
            node.signingKey = try SigningPublicKey(bytes: bytes)
        }
        if obj["encryptionKey"] != nil {
            let bytes = try keyBytes(obj, "encryptionKey", node: id, expected: BoxPublicKey.byteCount)
            node.encryptionKey = try BoxPublicKey(bytes: bytes)
        }
        if obj["mergedInto"] != nil {
            let text = try string(obj, "mergedInto", node: id)
            do { node.mergedInto = try NodeID(text) } catch {
                throw TopologyError(
                    .invalidID, "node \(id): mergedInto '\(Endpoint.printable(text))' is not a valid node id",
                    node: id, cause: String(describing: error))
            }
        }
        try decodePreviousKey(obj, into: &node)
        return node
    }

    /// `previousSigningKey` and `previousKeyUntil` (a key rotation's grace period), both or neither.
    private static func decodePreviousKey(_ obj: [String: Any], into node: inout TopologyNode) throws {
        let id = node.id
        switch (obj["previousSigningKey"] != nil, obj["previousKeyUntil"] != nil) {
        case (false, false):
            return
        case (true, false), (false, true):
            throw TopologyError(
                .syntax,
                """
                node \(id): "previousSigningKey" and "previousKeyUntil" go together (the old key and the end of \
                its grace period, e.g. "2027-01-31T00:00:00Z"); give both, or neither to revoke the old key
                """,
                node: id)
        case (true, true):
            let bytes = try keyBytes(obj, "previousSigningKey", node: id, expected: SigningPublicKey.byteCount)
            node.previousSigningKey = try SigningPublicKey(bytes: bytes)
            let text = try string(obj, "previousKeyUntil", node: id)
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw TopologyError(
                    .syntax,
                    """
                    node \(id): previousKeyUntil '\(Endpoint.printable(text))' is not a UTC time like \
                    2027-01-31T00:00:00Z
                    """,
                    node: id)
            }
            node.previousKeyUntil = Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
    }

    private static func string(_ obj: [String: Any], _ field: String, node: NodeID) throws -> String {
        guard let value = obj[field] else {
            throw TopologyError(.syntax, "node \(node): missing field \"\(field)\"", node: node)
        }
        guard let s = value as? String else {
            throw TopologyError(
                .syntax, "node \(node): \"\(field)\" must be a string, got \(describe(value))", node: node)
        }
        return s
    }

    private static func keyBytes(_ obj: [String: Any], _ field: String, node: NodeID, expected: Int) throws -> [UInt8] {
        let text = try string(obj, field, node: node)
        guard let bytes = Base64.decode(text) else {
            throw TopologyError(
                .badKey, "node \(node): \(field) is not valid base64 (standard alphabet, padded)", node: node)
        }
        guard bytes.count == expected else {
            throw TopologyError(
                .badKey, "node \(node): \(field) is \(bytes.count) bytes, a public key is \(expected)", node: node)
        }
        return bytes
    }

    private static func refuseUnknownFields(
        _ obj: [String: Any], known: [String], where place: String, node: NodeID?
    ) throws {
        let unknown = obj.keys.filter { !known.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        throw TopologyError(
            .syntax,
            """
            \(place): unknown field \
            \"\(Endpoint.printable(first))\"\(unknown.count > 1 ? " (and \(unknown.count - 1) more)" : ""); \
            known fields: \(known.joined(separator: ", "))
            """,
            node: node)
    }

    /// A short, safe description of a JSON value for error messages (never the whole value).
    private static func describe(_ value: Any) -> String {
        switch value {
        case let s as String: "\"\(Endpoint.printable(s))\""
        case is NSNull: "null"
        case is [Any]: "an array"
        case is [String: Any]: "an object"
        case let n as NSNumber: "\(n)"
        default: "a \(type(of: value))"
        }
    }

    private static func jsonCause(_ error: any Error) -> String {
        let ns = error as NSError
        if let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return ns.localizedDescription
    }
}
