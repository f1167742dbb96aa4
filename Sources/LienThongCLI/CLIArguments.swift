import ArgumentParser
import Envelope
import Spool

/// Typed option values: swift-argument-parser checks them, lists them in `--help` and names the
/// valid ones when a value is wrong, so no command parses these strings itself.
extension Urgency: ExpressibleByArgument {
    /// A CLI name (`hoa-toc`) or the Vietnamese name (`Hỏa tốc`), case-insensitive.
    public init?(argument: String) { self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.cliName) }
    /// `--help` lists each value with its Vietnamese name.
    public static var allValueDescriptions: [String: String] {
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.cliName, $0.displayName) })
    }
    public var defaultValueDescription: String { cliName }
}

/// What `queue list --state` takes: a queue state, or `partial` for envelopes still being
/// received from a peer (they have no queue entry yet).
enum QueueStateFilter: String, CaseIterable, ExpressibleByArgument {
    case ready, inflight, deferred, held, quarantined, partial

    /// The queue state to filter on; nil for `partial`.
    var queueState: QueueState? { QueueState(rawValue: rawValue) }
}
