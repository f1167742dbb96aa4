import ArgumentParser
import Desk
import Logging
import Node

/// `lienthong run --home DIR` and the `lienthongd` executable: run the node until SIGTERM/SIGINT.
@available(macOS 10.15, *)
public struct DaemonCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lienthongd",
        abstract: "Run a LienThong node: links to parent and children, receipts, expiry, the control socket.",
        discussion: """
            Stops gracefully on SIGTERM or SIGINT: each link stops at a chunk boundary after \
            committing what arrived; a restart resumes. Operate it with `lienthong … --home DIR`.
            """,
        version: LienThongVersion.string)

    @OptionGroup var home: HomeOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"
    @Option(help: "Log lines as text (with <N> priorities under journald) or json; else the logFormat setting.")
    var logFormat: NodeLogHandler.Format?

    public init() {}

    public func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'; use trace, debug, info, notice, warning or error")
        }
        let setting = (try? NodeHome.open(home.home))?.1.settings?.logFormat.flatMap(
            NodeLogHandler.Format.init(rawValue:))
        let format = logFormat ?? setting ?? .text
        LoggingSystem.bootstrap { label in NodeLogHandler(label: label, format: format) }
        try await Daemon.run(home: home.home, logLevel: level) { runtime in [try DeskService(runtime: runtime)] }
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the node in the foreground (the same as lienthongd --home DIR).")

    @OptionGroup var daemon: DaemonCommand

    func run() async throws { try await daemon.run() }
}

/// Entry point for the executables' `main.swift`: top-level code would otherwise pick
/// ArgumentParser's synchronous `main()`, which refuses an async root command.
extension NodeLogHandler.Format: ExpressibleByArgument {}

@available(macOS 10.15, *)
public enum Entry {
    public static func main<C: AsyncParsableCommand>(_ command: C.Type) async {
        await command.main(nil)
    }
}
