import Foundation

/// Settings from the environment: `LIENTHONG_` and the key in upper snake case
/// (`retentionDays` → `LIENTHONG_RETENTION_DAYS`), e.g. from a systemd drop-in's `Environment=`.
/// The environment wins over node.json, and is validated exactly as the file is, the variable
/// named in the error.
extension NodeSettings {
    /// The variable that sets `key`.
    public static func environmentName(_ key: String) -> String {
        var name = "LIENTHONG_"
        for c in key {
            if c.isUppercase { name += "_" }
            name += c.uppercased()
        }
        return name
    }

    /// Setting keys the environment sets.
    public static func environmentKeys(_ env: [String: String]) -> [String] {
        CodingKeys.allCases.map(\.rawValue).filter { env[environmentName($0)] != nil }
    }

    /// These settings with the environment's over them.
    public func overlaid(with env: [String: String]) throws -> NodeSettings {
        let keys = Self.environmentKeys(env)
        guard !keys.isEmpty else { return self }
        var object =
            (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as? [String: Any]) ?? [:]
        for key in keys {
            let name = Self.environmentName(key)
            let text = env[name] ?? ""
            let value: Any
            switch Self.kind(key) {
            case .number:
                guard let n = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                    throw NodeError(
                        .homeSetting, "environment variable \(name) is '\(text.prefix(40))'; give a whole number")
                }
                value = n
            case .flag:
                guard let b = ["true": true, "false": false][text] else {
                    throw NodeError(
                        .homeSetting, "environment variable \(name) is '\(text.prefix(40))'; give true or false")
                }
                value = b
            case .text: value = text
            }
            object[key] = value
        }
        do {
            return try JSONDecoder().decode(NodeSettings.self, from: JSONSerialization.data(withJSONObject: object))
        } catch let error as NodeError {
            let names = keys.map(Self.environmentName).joined(separator: ", ")
            throw NodeError(error.code, "from the environment (\(names)): " + error.message, cause: error.cause)
        }
    }

    enum Kind { case number, flag, text }

    static func kind(_ key: String) -> Kind {
        if key == "httpsProxy" { return .flag }
        let texts: Set<String> = ["listenHost", "httpListen", "hotFolder", "logFormat", "archiveDir"]
        return texts.contains(key) ? .text : .number
    }
}
