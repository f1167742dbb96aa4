import ArgumentParser
import Foundation
import Node

#if canImport(Glibc)
import Glibc
#endif

/// Where a backup's passphrase comes from: a file, the environment, or the terminal.
struct PassphraseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Read the passphrase from this file (first line); else $LIENTHONG_BACKUP_PASSPHRASE, else ask.",
            valueName: "FILE"))
    var passphraseFile: String?

    func passphrase(confirm: Bool) throws -> String {
        if let passphraseFile {
            guard let text = try? String(contentsOfFile: passphraseFile, encoding: .utf8) else {
                throw NodeError(
                    .backupPassphrase, "cannot read \(passphraseFile); give a readable file with the passphrase")
            }
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        if let env = ProcessInfo.processInfo.environment["LIENTHONG_BACKUP_PASSPHRASE"], !env.isEmpty { return env }
        guard isatty(0) == 1, let first = getpass("Backup passphrase: ").map({ String(cString: $0) }) else {
            throw NodeError(
                .backupPassphrase, "no terminal to ask for the passphrase; give --passphrase-file FILE")
        }
        if confirm {
            guard let again = getpass("Again: ").map({ String(cString: $0) }), again == first else {
                throw NodeError(.backupPassphrase, "the two passphrases differ; try again")
            }
        }
        return first
    }
}

/// `lienthong backup`: one encrypted archive of a node, taken while it runs.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up a node (spool, keys, config) into one encrypted archive, while it runs.",
        discussion: """
            The spool is copied as one consistent snapshot (SQLite's online backup) while the daemon \
            keeps working. The archive holds the node's secret keys: it is written 0600 and encrypted \
            with the passphrase (Argon2id and XChaCha20-Poly1305); keep the passphrase apart from it. \
            Run as the daemon's user or root.

            Examples:
              lienthong backup --out /srv/backup/xa-a-$(date +%F).ltbackup
              lienthong restore /srv/backup/xa-a.ltbackup --home /var/lib/lienthong
            """)

    @OptionGroup var home: HomeOptions
    @Option(help: ArgumentHelp("The archive to write (a new file).", valueName: "FILE")) var out: String
    @OptionGroup var passphrase: PassphraseOptions

    func run() throws {
        let manifest = try NodeBackup.create(
            homePath: home.home, passphrase: try passphrase.passphrase(confirm: true), to: out)
        print(
            """
            backed up \(manifest.node) to \(out): spool \(manifest.spoolBytes) bytes, audit record \
            \(manifest.auditHead)
            """)
    }
}

/// `lienthong restore`: a node recreated from its archive, in a new home.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Recreate a node from a backup archive in a new, empty home.",
        discussion: """
            The restored node is the node as it was when the backup was taken: envelopes it had \
            passed on are recognised as duplicates if offered again, and what it still held is sent \
            on when it starts. Documents it received after the backup are not in it; see "Disk died" \
            in docs/OPERATIONS.md for how to find them. Start the daemon on the restored home.
            """)

    @Argument(help: ArgumentHelp("The archive `lienthong backup` wrote.", valueName: "FILE")) var archive: String
    @OptionGroup var home: HomeOptions
    @OptionGroup var passphrase: PassphraseOptions

    func run() throws {
        let manifest = try NodeBackup.restore(
            archive: archive, passphrase: try passphrase.passphrase(confirm: false), into: home.home,
            actor: SpoolHome.actor())
        let taken = Date(timeIntervalSince1970: Double(manifest.createdAt) / 1000)
        print(
            """
            restored \(manifest.node) into \(home.home) from the backup of \
            \(ISO8601DateFormatter().string(from: taken)); \
            start it with `lienthongd --home \(home.home)` (or systemctl start lienthong)
            """)
    }
}
