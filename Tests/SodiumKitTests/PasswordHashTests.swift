import Testing

@testable import SodiumKit

struct PasswordHashTests {
    @Test func argon2idHashesVerifyOnlyTheRightPassword() throws {
        let hash = try PasswordHash.hash("mật khẩu đúng")
        #expect(hash.hasPrefix("$argon2id$"))
        #expect(PasswordHash.verify("mật khẩu đúng", against: hash))
        #expect(!PasswordHash.verify("mật khẩu sai", against: hash))
        #expect(!PasswordHash.verify("", against: hash))
        #expect(!PasswordHash.verify("x", against: "not a hash"))
        // Salted: the same password hashes differently each time.
        #expect(try PasswordHash.hash("mật khẩu đúng") != hash)
        #expect(throws: SodiumError.self) { _ = try PasswordHash.hash("") }
        #expect(throws: SodiumError.self) {
            _ = try PasswordHash.hash(String(repeating: "a", count: PasswordHash.maxPasswordBytes + 1))
        }
    }
}
