import Foundation
import GRDB

/// One account of the desk (the web app and the API).
public struct Account: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable, CaseIterable {
        /// Reads and answers documents, sends and tracks.
        case clerk
        /// A clerk who also sees and acts on queues and links.
        case `operator`
        /// An e-office system: the API with a token, the same rights as a clerk.
        case api
    }

    public let name: String
    public let role: Role
    public let passwordHash: String?
    public let hasToken: Bool
    public let createdAt: Int64

    public init(name: String, role: Role, passwordHash: String?, hasToken: Bool, createdAt: Int64) {
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.hasToken = hasToken
        self.createdAt = createdAt
    }
}

/// The desk's accounts as named transactions; each change is audited with the operator who made it.
extension Spool {
    /// Adds an account; refuses a name that exists.
    public func addAccount(
        _ name: String, role: Account.Role, passwordHash: String?, actor: String, now: Int64
    ) throws {
        try write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM account WHERE name = ?", arguments: [name]) != nil {
                throw SpoolError(
                    .invalidArgument, "an account named \(name) exists; choose another name or `user remove` it first")
            }
            try db.execute(
                sql: """
                    INSERT INTO account (name, role, password_hash, created_at, changed_at) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [name, role.rawValue, passwordHash, now, now])
            try AuditLog.append(db, at: now, event: .account, actor: actor, detail: "added \(name) as \(role.rawValue)")
        }
    }

    /// Every account, by name.
    public func accounts() throws -> [Account] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM account ORDER BY name").map(Self.account)
        }
    }

    /// The account named `name`, if any.
    public func account(named name: String) throws -> Account? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM account WHERE name = ?", arguments: [name]).map(Self.account)
        }
    }

    /// The account whose API token hashes to `tokenHash`, if any.
    public func account(tokenHash: [UInt8]) throws -> Account? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM account WHERE token_hash = ?", arguments: [Data(tokenHash)])
                .map(Self.account)
        }
    }

    /// Removes an account; returns false when there was none. Its sessions end at their next request.
    public func removeAccount(_ name: String, actor: String, now: Int64) throws -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM account WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { return false }
            try AuditLog.append(db, at: now, event: .account, actor: actor, detail: "removed \(name)")
            return true
        }
    }

    /// Replaces an account's password hash.
    public func setPassword(_ name: String, hash: String, actor: String, now: Int64) throws {
        try change(name, sql: "password_hash = ?", hash, actor: actor, now: now, detail: "new password for \(name)")
    }

    /// Replaces an account's API token hash (the token itself is shown once and never stored).
    public func setToken(_ name: String, hash: [UInt8], actor: String, now: Int64) throws {
        try change(name, sql: "token_hash = ?", Data(hash), actor: actor, now: now, detail: "new API token for \(name)")
    }

    /// Records something an account did that no other transaction records (a sign-in, a refused one).
    public func recordAccountEvent(_ event: AuditEvent, actor: String, detail: String, now: Int64) throws {
        try write { db in try AuditLog.append(db, at: now, event: event, actor: actor, detail: detail) }
    }

    private func change(
        _ name: String, sql: String, _ value: some DatabaseValueConvertible, actor: String, now: Int64, detail: String
    ) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE account SET \(sql), changed_at = ? WHERE name = ?", arguments: [value, now, name])
            guard db.changesCount > 0 else {
                throw SpoolError(.notFound, "there is no account named \(name); see `lienthong user list`")
            }
            try AuditLog.append(db, at: now, event: .account, actor: actor, detail: detail)
        }
    }

    private static func account(_ row: Row) throws -> Account {
        guard let role = Account.Role(rawValue: row["role"]) else {
            throw SpoolError(.corrupt, "account \(row["name"] as String? ?? "?") has an unknown role")
        }
        return Account(
            name: row["name"], role: role, passwordHash: row["password_hash"],
            hasToken: (row["token_hash"] as Data?) != nil, createdAt: row["created_at"])
    }
}
