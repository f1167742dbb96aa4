#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a pthread mutex, for the modules below SwiftNIO (Envelope, Topology, Wire):
/// `Link`, `Gate` and `Node` use NIO's `NIOLockedValueBox`, pthread-based on Linux as well.
/// Kept here so the bottom of the stack does not depend on swift-nio for one lock.
///
/// Not `Synchronization.Mutex`: on Linux that one waits on a futex inside the uninstrumented
/// standard library, so ThreadSanitizer cannot see it and reported every access it guarded as a
/// race (`Scripts/sanitize thread`, docs/RELIABILITY.md). ThreadSanitizer intercepts pthread
/// locks, so with this type a race it reports is a real one.
public final class Locked<Value>: @unchecked Sendable {
    @usableFromInline var value: Value
    @usableFromInline let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init(_ value: Value) {
        self.value = value
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value. Keep it short and never await in it.
    @inlinable
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
