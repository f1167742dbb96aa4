import NIOConcurrencyHelpers

/// Items from any number of producers to one consumer, in order: `push`, `next` (everything
/// pushed so far, waiting while there is nothing), `finish`. The consumer ends when the mailbox
/// is finished and drained, never on a timer.
///
/// Between a session's reader and its committer: the reader pushes what must reach the spool,
/// the committer takes it all at once, so it can group many items into one transaction.
final class Mailbox<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var finished = false
        var waiter: CheckedContinuation<[Item]?, Never>?
    }
    private let state = NIOLockedValueBox(State())

    /// Adds one item; false (nothing kept) once the mailbox is finished.
    @discardableResult
    func push(_ item: Item) -> Bool {
        let (accepted, waiter) = state.withLockedValue { s -> (Bool, CheckedContinuation<[Item]?, Never>?) in
            guard !s.finished else { return (false, nil) }
            guard let w = s.waiter else {
                s.items.append(item)
                return (true, nil)
            }
            s.waiter = nil
            return (true, w)
        }
        waiter?.resume(returning: [item])
        return accepted
    }

    /// No more items: the consumer gets what is left, then nil.
    func finish() {
        let waiter = state.withLockedValue { s -> CheckedContinuation<[Item]?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)  // a waiter means nothing was left
    }

    /// Everything pushed since the last call, waiting while there is nothing; nil once the mailbox
    /// is finished and empty, or when the consumer's task is cancelled while it waits.
    func next() async -> [Item]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<[Item]?, Never>) in
                let now = state.withLockedValue { s -> [Item]?? in
                    if !s.items.isEmpty {
                        defer { s.items = [] }
                        return .some(s.items)
                    }
                    if s.finished || Task.isCancelled { return .some(nil) }
                    s.waiter = c
                    return .none
                }
                if case .some(let batch) = now { c.resume(returning: batch) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { s -> CheckedContinuation<[Item]?, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Takes the items matching `wanted` without waiting, leaving the others in order.
    func take(where wanted: (Item) -> Bool) -> [Item] {
        state.withLockedValue { s in
            let taken = s.items.filter(wanted)
            if !taken.isEmpty { s.items.removeAll(where: wanted) }
            return taken
        }
    }
}
