import ArgumentParser
import Foundation
import SodiumKit
import Spool

#if canImport(Glibc)
import Glibc
#endif

extension Account.Role: ExpressibleByArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// `lienthong user …`: the accounts of the node's desk (web app and `/api/v1`). They live in the
/// spool, so these commands work whether or not the daemon runs; a change applies at the next request.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Accounts of the desk: clerks, operators and e-office systems (API tokens).",
        subcommands: [Add.self, List.self, Remove.self, Passwd.self, Token.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an account. clerk: documents; operator: also queues and links; api: a token, no password.")
        @OptionGroup var home: HomeOptions
        @Argument(help: "Account name: letters, digits, . _ - (2 to 64).") var name: String
        @Option(help: "Role: clerk, operator or api.") var role: Account.Role
        @Option(help: "Read the password from this file (first line) instead of asking.") var passwordFile: String?

        func run() throws {
            try UserCommand.checkName(name)
            let node = try SpoolHome(home.home)
            let hash = role == .api ? nil : try PasswordHash.hash(try UserCommand.password(passwordFile))
            try node.spool.addAccount(
                name, role: role, passwordHash: hash, actor: SpoolHome.actor(), now: CLITime.nowMilliseconds())
            print(
                "added \(name) (\(role.rawValue))"
                    + (role == .api ? "; create its token with `lienthong user token \(name)`" : ""))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the accounts.")
        @OptionGroup var home: HomeOptions

        func run() throws {
            let accounts = try SpoolHome(home.home).spool.accounts()
            if accounts.isEmpty { print("no accounts; add one with `lienthong user add NAME --role clerk`") }
            for a in accounts {
                let auth = [a.passwordHash != nil ? "password" : nil, a.hasToken ? "token" : nil].compactMap { $0 }
                print("\(a.name)\t\(a.role.rawValue)\t\(auth.joined(separator: ", "))")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an account; its sessions and token stop working.")
        @OptionGroup var home: HomeOptions
        @Argument var name: String

        func run() throws {
            guard
                try SpoolHome(home.home).spool.removeAccount(
                    name, actor: SpoolHome.actor(), now: CLITime.nowMilliseconds())
            else { throw CLIError(.userNotFound, "there is no account named \(name); see `lienthong user list`") }
            print("removed \(name)")
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an account's password.")
        @OptionGroup var home: HomeOptions
        @Argument var name: String
        @Option(help: "Read the password from this file (first line) instead of asking.") var passwordFile: String?

        func run() throws {
            let spool = try SpoolHome(home.home).spool
            guard try spool.account(named: name) != nil else {
                throw CLIError(.userNotFound, "there is no account named \(name); see `lienthong user list`")
            }
            let hash = try PasswordHash.hash(try UserCommand.password(passwordFile))
            try spool.setPassword(name, hash: hash, actor: SpoolHome.actor(), now: CLITime.nowMilliseconds())
            print("password set for \(name)")
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new API token for an account and print it once (the previous token stops working).")
        @OptionGroup var home: HomeOptions
        @Argument var name: String

        func run() throws {
            let spool = try SpoolHome(home.home).spool
            guard try spool.account(named: name) != nil else {
                throw CLIError(.userNotFound, "there is no account named \(name); see `lienthong user list`")
            }
            let token = "lt_" + Hex.encode(Sodium.randomBytes(32))
            try spool.setToken(
                name, hash: Blake2b.hash(Array(token.utf8)), actor: SpoolHome.actor(), now: CLITime.nowMilliseconds())
            print(token)
        }
    }

    static func checkName(_ name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard (2...64).contains(name.count), name.allSatisfy(allowed.contains) else {
            throw CLIError(.userName, "an account name is 2 to 64 letters, digits, '.', '_' or '-' (no diacritics)")
        }
    }

    /// The password from a file's first line, or asked for twice on the terminal.
    static func password(_ file: String?) throws -> String {
        let password: String
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError(
                    .userPassword, "cannot read \(file); give a readable file with the password on its first line")
            }
            password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        } else {
            guard isatty(0) == 1, let first = getpass("Mật khẩu (password): ").map({ String(cString: $0) }),
                let again = getpass("Nhập lại (again): ").map({ String(cString: $0) })
            else {
                throw CLIError(.userPassword, "no terminal to ask for the password; give --password-file FILE")
            }
            guard first == again else { throw CLIError(.userPassword, "the two passwords differ; try again") }
            password = first
        }
        guard password.utf8.count >= 8 else {
            throw CLIError(.userPassword, "a password must have at least 8 characters")
        }
        return password
    }
}
