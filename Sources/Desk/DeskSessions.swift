import NIOConcurrencyHelpers
import SodiumKit
import Spool

/// A signed-in browser: the account, its role, the CSRF token its forms carry, and when it ends.
public struct DeskSession: Sendable, Equatable {
    public let id: String
    public let account: String
    public let role: Account.Role
    public let csrf: String
    public let expiresAt: Int64
}

/// The desk's browser sessions (in memory: a restart of the daemon signs everyone out) and the
/// sign-in throttle.
///
/// Security note: session ids and CSRF tokens are 32 random bytes from libsodium; ids are
/// compared by dictionary lookup of the whole value, never logged; the table is bounded.
public final class DeskSessions: Sendable {
    public static let lifetimeMs: Int64 = 8 * 3600 * 1000
    public static let maxSessions = 10_000

    private struct State {
        var sessions: [String: DeskSession] = [:]
        var throttle = LoginThrottle()
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Starts a session for `account`.
    public func open(account: String, role: Account.Role, now: Int64) -> DeskSession {
        let session = DeskSession(
            id: Hex.encode(Sodium.randomBytes(32)), account: account, role: role,
            csrf: Hex.encode(Sodium.randomBytes(32)), expiresAt: now + Self.lifetimeMs)
        state.withLockedValue { s in
            if s.sessions.count >= Self.maxSessions {
                s.sessions = s.sessions.filter { $0.value.expiresAt > now }
                if s.sessions.count >= Self.maxSessions,
                    let oldest = s.sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt })
                {
                    s.sessions[oldest.key] = nil
                }
            }
            s.sessions[session.id] = session
        }
        return session
    }

    /// The live session with this id, if any.
    public func session(_ id: String, now: Int64) -> DeskSession? {
        state.withLockedValue { s in
            guard let found = s.sessions[id] else { return nil }
            guard found.expiresAt > now else {
                s.sessions[id] = nil
                return nil
            }
            return found
        }
    }

    public func close(_ id: String) { state.withLockedValue { $0.sessions[id] = nil } }

    /// Ends every session of an account (removed, or its password changed).
    public func closeAll(account: String) {
        state.withLockedValue { s in s.sessions = s.sessions.filter { $0.value.account != account } }
    }

    public func retryAfter(_ keys: [String], now: Int64) -> Int64? {
        state.withLockedValue { $0.throttle.retryAfter(keys, now: now) }
    }

    public func failed(_ keys: [String], now: Int64) { state.withLockedValue { $0.throttle.failed(keys, now: now) } }

    public func succeeded(account key: String) { state.withLockedValue { $0.throttle.succeeded(account: key) } }
}
