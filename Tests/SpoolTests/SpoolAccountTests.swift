import Foundation
import Testing

@testable import Spool

/// The desk's accounts as named transactions, each change audited.
struct SpoolAccountTests {
    @Test func accountsAreAddedFoundChangedAndRemovedWithAnAuditTrail() throws {
        let f = try SpoolFixture()
        let spool = try f.open()
        let now = SpoolFixture.now
        try spool.addAccount("vanthu", role: .clerk, passwordHash: "$argon2id$x", actor: "operator:root", now: now)
        #expect(throws: SpoolError.self) {
            try spool.addAccount("vanthu", role: .operator, passwordHash: nil, actor: "operator:root", now: now)
        }
        try spool.addAccount("eoffice", role: .api, passwordHash: nil, actor: "operator:root", now: now)
        #expect(try spool.accounts().map(\.name) == ["eoffice", "vanthu"])
        #expect(try spool.account(named: "vanthu")?.role == .clerk)

        let hash = [UInt8](repeating: 7, count: 32)
        try spool.setToken("eoffice", hash: hash, actor: "operator:root", now: now + 1)
        #expect(try spool.account(tokenHash: hash)?.name == "eoffice")
        #expect(try spool.account(tokenHash: [UInt8](repeating: 8, count: 32)) == nil)
        try spool.setPassword("vanthu", hash: "$argon2id$y", actor: "operator:root", now: now + 2)
        #expect(try spool.account(named: "vanthu")?.passwordHash == "$argon2id$y")
        #expect(throws: SpoolError.self) { try spool.setPassword("nobody", hash: "h", actor: "a", now: now) }

        #expect(try spool.removeAccount("eoffice", actor: "operator:root", now: now + 3))
        #expect(try !spool.removeAccount("eoffice", actor: "operator:root", now: now + 3))
        #expect(try spool.account(tokenHash: hash) == nil)

        let trail = try spool.auditRecords().filter { $0.event == .account }.compactMap(\.detail)
        #expect(trail == ["added vanthu as clerk", "added eoffice as api", "new API token for eoffice",
                          "new password for vanthu", "removed eoffice"])
        #expect(!trail.joined().contains("argon2id"))
        #expect(try spool.verifyAudit().ok)
    }
}
