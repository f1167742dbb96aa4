import NIOConcurrencyHelpers

/// Where the node's desk (web app and API) listens, set by the desk once it is bound and read by
/// `status`; nil while it is not listening.
public final class DeskAddress: Sendable {
    private let box = NIOLockedValueBox<String?>(nil)

    public init() {}

    /// The desk's base URL, e.g. `http://127.0.0.1:8470`.
    public var url: String? { box.withLockedValue { $0 } }

    /// Records the address the desk is bound to (nil when it stops).
    public func set(_ url: String?) { box.withLockedValue { $0 = url } }
}
