import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// How the daemon writes its log lines to stderr: text for a person (with `<N>` syslog priority
/// prefixes when stderr is the journal, so `journalctl -p warning` filters), or one JSON object
/// per line for a log collector.
///
/// Security note: log lines carry what callers put in messages and metadata; no module logs key
/// material, passwords, tokens or document content (docs/SECURITY.md). JSON output escapes every
/// control character, so a peer's text cannot forge a line.
public struct NodeLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format
    let journal: Bool

    /// - Parameter journal: prefix text lines with `<N>`; by default when `JOURNAL_STREAM` is set.
    public init(
        label: String, format: Format,
        journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
    ) {
        self.label = label
        self.format = format
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        let line = render(level: level, message: message, metadata: metadata, at: Date())
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }  // one write per line
    }

    /// The line for one event (without the newline).
    func render(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, at date: Date) -> String
    {
        var merged = metadata
        if let extra { merged.merge(extra) { $1 } }
        let time = ISO8601DateFormatter.string(
            from: date, timeZone: TimeZone(identifier: "UTC")!,
            formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        switch format {
        case .json:
            var object: [String: Any] = [
                "time": time, "level": "\(level)", "label": label, "message": "\(message)",
            ]
            for (k, v) in merged { object[k] = "\(v)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let text = "\(message)" + (fields.isEmpty ? "" : " [\(fields)]")
            if journal { return "<\(Self.priority(level))>\(text)" }  // the journal stamps the time
            return "\(time) \(level) \(label): \(text)"
        }
    }

    /// syslog priorities: 7 debug … 2 critical.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
