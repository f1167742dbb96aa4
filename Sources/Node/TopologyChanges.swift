import Envelope
import NIOConcurrencyHelpers

/// Tells the daemon's services that a topology update is in force: the uplink waits on it to
/// dial a changed parent. A waiter that is cancelled is resumed and forgotten.
final class TopologyChanges: Sendable {
    private struct State {
        var next = 0
        /// Updates so far: a waiter registers only if none came since it checked its condition,
        /// so a `notify` between the check and the registration is not lost.
        var updates = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = NIOLockedValueBox(State())

    /// Wakes every waiter.
    func notify() {
        let waiting = state.withLockedValue { s in
            defer { s.waiters = [:] }
            s.updates += 1
            return Array(s.waiters.values)
        }
        for w in waiting { w.resume() }
    }

    /// Returns once `changed()` is true, checking it after each update.
    func wait(until changed: @Sendable () -> Bool) async {
        while !Task.isCancelled {
            let seen = state.withLockedValue { $0.updates }
            if changed() { return }
            let id = state.withLockedValue { s in
                defer { s.next += 1 }
                return s.next
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLockedValue { s -> Bool in
                        if Task.isCancelled || s.updates != seen { return true }
                        s.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
                waiter?.resume()
            }
        }
    }
}
