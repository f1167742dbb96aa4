import ArgumentParser
import Control
import Foundation
import Node
import Spool

/// How node-level commands reach the node: through the running daemon's control socket, or,
/// with `--offline`, straight on the spool (for when the daemon is down).
struct NodeAccess: ParsableArguments {
    @OptionGroup var home: HomeOptions
    @Flag(help: "Work on the node's spool directly instead of through the running lienthongd (use when it is down).")
    var offline = false

    func perform(_ request: ControlRequest) throws -> ControlResult {
        if offline {
            let identity = try NodeIdentity(home: home.home)
            let spool = try Spool(path: identity.home.spoolPath)
            return try NodeOperations(identity: identity, spool: spool).acting(actor: SpoolHome.actor()).perform(
                request)
        }
        let (h, _) = try NodeHome.open(home.home)
        // The files travel over the socket: the daemon, as its own user, never opens the caller's
        // paths (it cannot, under ProtectHome), and the caller writes what comes back.
        let inputs = request.inputPaths
        let output = request.output.map { (path: Self.absolute($0.path), isDirectory: $0.isDirectory) }
        var wire = request.replacingInputs(inputs.indices.map(ControlTransfer.placeholder))
        if output != nil { wire = wire.replacingOutput("download") }
        let response = try ControlClient(socketPath: h.controlSocketPath).call(
            wire, uploads: inputs.map(Self.absolute), download: output)
        guard response.ok, var result = response.result else {
            // The node's own code, message and cause, as it reported them.
            throw response.error ?? ControlFailure(code: "CONTROL-EMPTY", message: "the node gave no answer")
        }
        if let output, case .exported(var report) = result {
            report.directory = output.isDirectory ? output.path : (output.path as NSString).deletingLastPathComponent
            result = .exported(report)
        }
        return result
    }

    /// A list answer as JSON text: the daemon's own bytes passed through when it runs (a
    /// 100,000-entry inbox is not decoded to be encoded again), else `perform` encoded.
    func performJSON(_ request: ControlRequest, key: String) throws -> String {
        if !offline {
            let (h, _) = try NodeHome.open(home.home)
            let line = try ControlClient(socketPath: h.controlSocketPath).callLine(request)
            if let raw = ControlCodec.rawResult(line, key: key) { return String(decoding: raw, as: UTF8.self) + "\n" }
            let response = try ControlCodec.decodeResponse(line)
            guard response.ok, response.result != nil else {
                throw response.error ?? ControlFailure(code: "CONTROL-EMPTY", message: "the node gave no answer")
            }
        }
        switch try perform(request) {
        case .inbox(let items) where key == "inbox": return try Output.json(items)
        case .sentList(let list) where key == "sentList": return try Output.json(list)
        default: throw CLIError(.controlUnexpected, "the node answered with something else than \(key)")
        }
    }

    /// Paths the daemon opens must not depend on the CLI's working directory.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}

/// Output helpers shared by the node-level commands.
enum Output {
    /// `later − earlier` in ms, at least 0, saturating: stored times may be anything a peer signed
    /// (an envelope created at Int64.min), and printing them must not trap.
    static func span(_ later: Int64, _ earlier: Int64) -> Int64 {
        let (difference, overflow) = later.subtractingReportingOverflow(earlier)
        return overflow ? (later > earlier ? .max : 0) : max(0, difference)
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self) + "\n"
    }

    static func time(_ ms: Int64?) -> String { ms.map(CLITime.format) ?? "-" }

    static func bytes(_ n: UInt64) -> String {
        switch n {
        case ..<1024: "\(n) B"
        case ..<(1 << 20): String(format: "%.1f KiB", Double(n) / 1024)
        case ..<(1 << 30): String(format: "%.1f MiB", Double(n) / 1_048_576)
        default: String(format: "%.2f GiB", Double(n) / 1_073_741_824)
        }
    }

    static func age(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: "\(seconds)s"
        case ..<3600: "\(seconds / 60)m\(seconds % 60)s"
        case ..<86400: "\(seconds / 3600)h\(seconds % 3600 / 60)m"
        default: "\(seconds / 86400)d\(seconds % 86400 / 3600)h"
        }
    }

    static func unexpected(_ r: ControlResult) -> CLIError {
        CLIError(.controlUnexpected, "the node answered with \(r); are lienthong and lienthongd the same release?")
    }
}
