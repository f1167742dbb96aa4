import Foundation

/// Strict settings: a key this version does not know (a typo such as `reconectCapMs`), a value of
/// the wrong type or out of its range stops the node with a message naming the key, instead of
/// being ignored and leaving the default in force unnoticed.
extension NodeSettings {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case reconnectBaseMs, reconnectCapMs, failoverAfterMs, janitorIntervalMs, idleTimeoutMs, keepaliveMs
        case queuePollMs, retryBaseMs, stalePartialMs, drainDeadlineMs, maxWriteBacklogBytes, offersPerSecond
        case offerBurst, listenHost, httpListen, hotFolder, hotFolderScanMs, httpsProxy, logFormat
        case retentionDays, archiveDir, diskWarnFreePercent, diskRefuseFreePercent
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        for key in all.allKeys where CodingKeys(rawValue: key.stringValue) == nil {
            let guess = Self.closest(key.stringValue).map { " (did you mean '\($0)'?)" } ?? ""
            throw NodeError(
                .homeSetting,
                "unknown setting '\(key.stringValue)' in node.json\(guess); "
                    + "the settings are listed in docs/OPERATIONS.md"
            )
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ type: T.Type) throws -> T? {
            do { return try c.decodeIfPresent(T.self, forKey: key) } catch {
                let kind = T.self == String.self ? "a string" : T.self == Bool.self ? "true or false" : "a whole number"
                throw NodeError(
                    .homeSetting, "setting '\(key.rawValue)' in node.json must be \(kind)", cause: "\(error)")
            }
        }
        self.init()
        reconnectBaseMs = try value(.reconnectBaseMs, Int64.self)
        reconnectCapMs = try value(.reconnectCapMs, Int64.self)
        failoverAfterMs = try value(.failoverAfterMs, Int64.self)
        janitorIntervalMs = try value(.janitorIntervalMs, Int64.self)
        idleTimeoutMs = try value(.idleTimeoutMs, Int64.self)
        keepaliveMs = try value(.keepaliveMs, Int64.self)
        queuePollMs = try value(.queuePollMs, Int64.self)
        retryBaseMs = try value(.retryBaseMs, Int64.self)
        stalePartialMs = try value(.stalePartialMs, Int64.self)
        drainDeadlineMs = try value(.drainDeadlineMs, Int64.self)
        maxWriteBacklogBytes = try value(.maxWriteBacklogBytes, Int.self)
        offersPerSecond = try value(.offersPerSecond, Int.self)
        offerBurst = try value(.offerBurst, Int.self)
        listenHost = try value(.listenHost, String.self)
        httpListen = try value(.httpListen, String.self)
        hotFolder = try value(.hotFolder, String.self)
        hotFolderScanMs = try value(.hotFolderScanMs, Int64.self)
        httpsProxy = try value(.httpsProxy, Bool.self)
        logFormat = try value(.logFormat, String.self)
        retentionDays = try value(.retentionDays, Int.self)
        archiveDir = try value(.archiveDir, String.self)
        diskWarnFreePercent = try value(.diskWarnFreePercent, Int.self)
        diskRefuseFreePercent = try value(.diskRefuseFreePercent, Int.self)
        try validate()
    }

    /// The ranges: durations from 1 ms to a year, counts and sizes that leave a link working.
    func validate() throws {
        let year: Int64 = 366 * 86_400_000
        let durations: [(CodingKeys, Int64?, ClosedRange<Int64>)] = [
            (.reconnectBaseMs, reconnectBaseMs, 1...year), (.reconnectCapMs, reconnectCapMs, 1...year),
            (.failoverAfterMs, failoverAfterMs, 1...year), (.janitorIntervalMs, janitorIntervalMs, 10...3_600_000),
            (.idleTimeoutMs, idleTimeoutMs, 100...year), (.keepaliveMs, keepaliveMs, 10...year),
            (.queuePollMs, queuePollMs, 1...3_600_000), (.retryBaseMs, retryBaseMs, 1...year),
            (.stalePartialMs, stalePartialMs, 1_000...year), (.drainDeadlineMs, drainDeadlineMs, 100...year),
            (.hotFolderScanMs, hotFolderScanMs, 10...3_600_000),
        ]
        for (key, value, range) in durations {
            if let value, !range.contains(value) {
                throw NodeError(
                    .homeSetting,
                    "setting '\(key.rawValue)' is \(value); it must be \(range.lowerBound)…\(range.upperBound) ms")
            }
        }
        let counts: [(CodingKeys, Int?, ClosedRange<Int>)] = [
            (.maxWriteBacklogBytes, maxWriteBacklogBytes, 65_536...(1 << 30)),
            (.offersPerSecond, offersPerSecond, 1...1_000_000), (.offerBurst, offerBurst, 1...10_000_000),
            (.retentionDays, retentionDays, 1...36_500), (.diskWarnFreePercent, diskWarnFreePercent, 0...100),
            (.diskRefuseFreePercent, diskRefuseFreePercent, 0...100),
        ]
        for (key, value, range) in counts {
            if let value, !range.contains(value) {
                throw NodeError(
                    .homeSetting,
                    "setting '\(key.rawValue)' is \(value); it must be \(range.lowerBound)…\(range.upperBound)")
            }
        }
        if let format = logFormat, NodeLogHandler.Format(rawValue: format) == nil {
            throw NodeError(.homeSetting, "setting 'logFormat' is '\(format.prefix(40))'; it must be text or json")
        }
        if let base = reconnectBaseMs, let cap = reconnectCapMs, base > cap {
            throw NodeError(.homeSetting, "setting 'reconnectBaseMs' (\(base)) is above 'reconnectCapMs' (\(cap))")
        }
        let (warn, refuse) = (diskWarnFreePercent ?? 10, diskRefuseFreePercent ?? 5)
        if refuse > warn {
            throw NodeError(
                .homeSetting, "setting 'diskRefuseFreePercent' (\(refuse)) is above 'diskWarnFreePercent' (\(warn))")
        }
        let texts = [
            (CodingKeys.httpListen, httpListen), (.listenHost, listenHost), (.hotFolder, hotFolder),
            (.archiveDir, archiveDir),
        ]
        for (key, text) in texts {
            if let text, text.isEmpty || text.utf8.count > 4096 {
                throw NodeError(
                    .homeSetting, "setting '\(key.rawValue)' must be a non-empty string (up to 4,096 bytes)")
            }
        }
    }

    /// The known key nearest to a mistyped one (edit distance 3 at most).
    static func closest(_ key: String) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, ca) in a.enumerated() {
                var row = [i + 1]
                for (j, cb) in b.enumerated() {
                    row.append(min(previous[j + 1] + 1, row[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
                }
                previous = row
            }
            return previous[b.count]
        }
        let scored = CodingKeys.allCases.map { ($0.rawValue, distance(Array(key), Array($0.rawValue))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 3 else { return nil }
        return best.0
    }
}

extension NodeSettings {
    /// The documented defaults (docs/OPERATIONS.md), as shown by `lienthong config show`.
    static let defaults: [CodingKeys: String] = [
        .reconnectBaseMs: "1000", .reconnectCapMs: "60000", .failoverAfterMs: "120000", .janitorIntervalMs: "1000",
        .idleTimeoutMs: "60000", .keepaliveMs: "15000", .queuePollMs: "200", .retryBaseMs: "10000",
        .stalePartialMs: "86400000", .drainDeadlineMs: "30000", .maxWriteBacklogBytes: "16777216",
        .offersPerSecond: "5000", .offerBurst: "10000", .listenHost: "the endpoint's host in the topology",
        .httpListen: "127.0.0.1:8470", .hotFolder: "off", .hotFolderScanMs: "1000", .httpsProxy: "false",
        .logFormat: "text", .retentionDays: "365", .archiveDir: "archive", .diskWarnFreePercent: "10",
        .diskRefuseFreePercent: "5",
    ]

    /// Every setting: its value in force and whether it comes from the environment (`fromEnvironment`,
    /// the variable named), node.json or the default.
    public static func effective(
        _ s: NodeSettings, fromEnvironment: [String] = []
    ) -> [(key: String, value: String, source: String)] {
        let data = (try? JSONEncoder().encode(s)) ?? Data()
        let file = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return CodingKeys.allCases.map { key in
            if let v = file[key.rawValue], fromEnvironment.contains(key.rawValue) {
                return (key.rawValue, "\(v)", "environment " + environmentName(key.rawValue))
            }
            if let v = file[key.rawValue] { return (key.rawValue, "\(v)", "node.json") }
            return (key.rawValue, defaults[key] ?? "-", "default")
        }
    }
}
