import Control
import Diagnostics
import EdXML
import Envelope
import Foundation
import Spool

#if canImport(Glibc)
import Glibc
#endif

/// The hot folder for e-office software that can only write files (`hotFolder` in the settings,
/// e.g. `DIR/exchange`):
///
/// - `outgoing/`: an `.edxml` package dropped here is sent, then moved to `sent/` with a `.json`
///   result beside it, or to `failed/` with a `.error.txt` saying why. Write it under another name
///   (a dot file or `.tmp`) and rename it when complete; a file changed in the last second waits.
/// - `incoming/`: each received document as one `ID.edxml`, written atomically (temporary name,
///   fsync, rename).
/// - `status/`: `received-….edxml` status packages of what recipients answered to documents this
///   node sent; any other `.edxml` dropped here is a status package from this agency's e-office
///   software, applied to the received document it answers and moved to `status/applied/` (or
///   `status/failed/` with the reason).
///
/// Nothing dropped is lost: a package stays in `outgoing/` until its send is committed, and a
/// `.NAME.sending` marker made before the send tells a restart that a duplicate refusal means
/// "already sent before the crash" (moved to `sent/`), not a second send.
///
/// Security note: the files are untrusted input from a local program; packages go through the
/// same gate as `lienthong send --edxml` (`EdXMLReader` bounds, From/To checks); names written are
/// derived from envelope ids and the dropped file's own name, never from package content.
public struct ExchangeFolder: Sendable {
    public let root: String
    let operations: NodeOperations

    /// How long a dropped file must be unchanged before it is picked up, ms.
    static let settleMs: Double = 1_000

    public init(root: String, operations: NodeOperations) throws {
        self.root = root
        self.operations = operations.acting(as: "exchange")
        for dir in ["outgoing", "sent", "failed", "incoming", "status", "status/applied", "status/failed"] {
            do {
                try FileManager.default.createDirectory(
                    atPath: root + "/" + dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                throw NodeError(
                    .homeIo, "cannot create \(root)/\(dir); check hotFolder in node.json", cause: "\(error)")
            }
        }
    }

    /// One pass over the folder: what is dropped in, then what is to be written out. Returns
    /// how many files it handled.
    @discardableResult
    public func pass(now: Date = Date()) throws -> Int {
        var handled = 0
        // Under the refuse watermark new documents wait in outgoing/ (the disk service logs why)
        // instead of going to failed/: they are sent once there is room again.
        let outgoing = operations.diskLevel() == .refusing ? [] : try settled("outgoing", now: now)
        for name in outgoing {
            sendOne(name)
            handled += 1
        }
        for name in try settled("status", now: now) where !name.hasPrefix("received-") {
            applyOne(name)
            handled += 1
        }
        handled += try writeIncoming()
        handled += try writeStatuses()
        return handled
    }

    // MARK: - In

    /// `.edxml` files of `dir` unchanged for `settleMs`, by name.
    func settled(_ dir: String, now: Date) throws -> [String] {
        let path = root + "/" + dir
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { name in
            guard name.hasSuffix(".edxml"), !name.hasPrefix("."),
                let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let modified = attributes[.modificationDate] as? Date
            else { return false }
            return now.timeIntervalSince(modified) * 1000 >= Self.settleMs
        }.sorted()
    }

    func sendOne(_ name: String) {
        let file = root + "/outgoing/" + name
        let marker = root + "/outgoing/." + name + ".sending"
        let resumed = FileManager.default.fileExists(atPath: marker)
        let report: SentReport
        do {
            try Self.durable(Data(), to: marker)
            var request = SendRequest(to: [], urgency: "thuong", expiresInMs: 30 * 86_400_000, subject: "", files: [])
            request.edxml = file
            request.skipUnknown = true
            report = try operations.send(request)
        } catch let error as any LienThongError where resumed && error.errorCode == "EDXML-DUPLICATE" {
            // The send committed before a crash and the file was not moved yet: it went out once.
            let note = #"{"sentBeforeRestart": true, "message": "sent before the node restarted; not sent again"}"#
            settle(name, marker: marker, in: "sent", note: Data(note.utf8), suffix: ".json")
            return
        } catch {
            operations.logger?.notice("hot folder: refused", metadata: ["file": "\(name)", "error": "\(error)"])
            settle(name, marker: marker, in: "failed", note: Data(Self.explain(error).utf8), suffix: ".error.txt")
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        settle(name, marker: marker, in: "sent", note: (try? encoder.encode(report)) ?? Data(), suffix: ".json")
        operations.logger?.info("hot folder: sent", metadata: ["file": "\(name)", "envelope": "\(report.id)"])
    }

    /// Moves a picked-up file to its place; the marker goes only once the file has moved, so a
    /// failure here leaves both for the next pass (which then sees the duplicate, not a new send).
    func settle(_ name: String, marker: String, in dir: String, note: Data, suffix: String) {
        do {
            try finish(name, in: dir, note: note, suffix: suffix)
            unlink(marker)
        } catch {
            operations.logger?.warning("hot folder: cannot move \(name) to \(dir)", metadata: ["error": "\(error)"])
        }
    }

    func applyOne(_ name: String) {
        let file = root + "/status/" + name
        do {
            _ = try operations.applyStatusPackage(file: file)
            try finish(name, in: "status/applied", from: "status", note: nil, suffix: "")
        } catch {
            try? finish(
                name, in: "status/failed", from: "status", note: Data(Self.explain(error).utf8), suffix: ".error.txt")
        }
    }

    /// Writes the note beside the file's new place, then moves the file there.
    func finish(_ name: String, in dir: String, from source: String = "outgoing", note: Data?, suffix: String) throws {
        var target = name
        if FileManager.default.fileExists(atPath: root + "/" + dir + "/" + target) {
            target = "\(Int(Date().timeIntervalSince1970 * 1000))-" + name
        }
        if let note { try Self.durable(note, to: root + "/" + dir + "/" + target + suffix) }
        guard rename(root + "/" + source + "/" + name, root + "/" + dir + "/" + target) == 0 else {
            throw NodeError(.homeIo, "cannot move \(name) to \(dir): \(String(cString: strerror(errno)))")
        }
        Self.syncDirectory(root + "/" + dir)
        Self.syncDirectory(root + "/" + source)
    }

    static func explain(_ error: any Error) -> String {
        guard let e = error as? any LienThongError else { return "[NODE-ERROR] \(error)\n" }
        return e.report + "\n"
    }

    // MARK: - Out

    func writeIncoming() throws -> Int {
        let ids = try operations.spool.exchangePendingDocuments(limit: 50)
        for id in ids {
            let temporary = root + "/incoming/." + id.hex + ".edxml.tmp"
            do {
                _ = try operations.exportEdXML(id.hex, to: temporary)
                try Self.syncFile(temporary)
                guard rename(temporary, root + "/incoming/" + id.hex + ".edxml") == 0 else {
                    throw NodeError(.homeIo, "cannot rename into \(root)/incoming: \(String(cString: strerror(errno)))")
                }
                Self.syncDirectory(root + "/incoming")
            } catch let error as any LienThongError where error.errorCode == "INBOX-RECALLED" {
                unlink(temporary)  // recalled before it was written out: there is nothing to write
            }
            try operations.spool.markExchanged("in:" + id.hex, now: operations.clock())
        }
        return ids.count
    }

    func writeStatuses() throws -> Int {
        let pending = try operations.spool.exchangePendingStatuses(limit: 50)
        for p in pending {
            let scratch = root + "/status/.tmp-" + p.envelopeID.hex.prefix(16)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let report = try operations.writeStatusPackages(p.envelopeID.hex, to: scratch)
            for file in report.files where file.hasPrefix("status-\(p.recipient)-") {
                try Self.syncFile(scratch + "/" + file)
                let target = root + "/status/received-\(p.envelopeID.hex.prefix(16))-" + file.dropFirst("status-".count)
                guard rename(scratch + "/" + file, target) == 0 else {
                    throw NodeError(.homeIo, "cannot write \(target): \(String(cString: strerror(errno)))")
                }
            }
            Self.syncDirectory(root + "/status")
            try operations.spool.markExchanged(p.key, now: operations.clock())
        }
        return pending.count
    }

    // MARK: - Durability

    static func durable(_ data: Data, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw NodeError(.homeIo, "cannot write \(path); check free space and permissions")
        }
        try syncFile(path)
    }

    static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NodeError(.homeIo, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw NodeError(.homeIo, "cannot fsync \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
