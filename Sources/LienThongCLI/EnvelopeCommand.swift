import ArgumentParser
import Envelope
import Foundation
import Node
import SodiumKit
import Topology

/// `lienthong envelope …`: seal, inspect and open envelope files offline.
///
/// These work without a running node: for carrying a document on a USB stick, for checking what a
/// relay would check, and for the demo until the daemon arrives.
struct EnvelopeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envelope",
        abstract: "Seal, inspect and open envelope files without a running node.",
        subcommands: [Seal.self, Inspect.self, Open.self, Import.self])

    struct Seal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal a document (metadata and files) into an envelope file, signed by this node.",
            discussion: """
                Example:
                  lienthong envelope seal --home ./tinh-uy --to-subtree 000.00.00.H27 \\
                    --subject "Về tăng cường chuyển đổi số" --code-number 21 \\
                    --code-notation CT/TU --document-type "Chỉ thị" --urgency khan \\
                    --file chi-thi-21.pdf --out 21-CT-TU.lte
                Documents marked Mật, Tối mật or Tuyệt mật are refused: they may not travel on this exchange.
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var document: DocumentOptions
        @Option(help: ArgumentHelp("Envelope file to write.", valueName: "FILE")) var out: String

        func run() throws {
            let d = document
            let node = try LoadedNode(home: home.home)
            let recipients = try RecipientSelection.resolve(to: d.to, toSubtree: d.toSubtree, topology: node.topology)
            let u = d.urgency ?? .thuong
            guard
                let level = SecrecyLevel(rawValue: d.secrecy)
                    ?? SecrecyLevel.allCases.first(where: { "\($0)" == d.secrecy })
            else {
                throw ValidationError(
                    "unknown secrecy level '\(d.secrecy)'; use Thường, Mật, Tối mật or Tuyệt mật")
            }
            let lifetime = try DurationText.parseMilliseconds(d.expires)
            let sealRecipients = try recipients.map { id -> SealRecipient in
                guard let key = node.topology[id]?.encryptionKey else {
                    throw CLIError(
                        .sealNoKey,
                        "recipient \(id) has no encryption key in the topology; ask the province IT team to add it")
                }
                return SealRecipient(id: id, encryptionKey: key)
            }
            let attached = d.files.map { path in
                AttachedFile(
                    name: (path as NSString).lastPathComponent, mediaType: MediaType.guess(path), content: .path(path))
            }
            let now = CLITime.nowMilliseconds()
            guard let subject = d.subject else { throw ValidationError("--subject is required") }
            let metadata = DocumentMetadata(
                subject: subject, codeNumber: d.codeNumber, codeNotation: d.codeNotation,
                documentType: d.documentType, promulgationDate: CLITime.today(), secrecyLevel: level,
                organName: node.topology[node.id]?.name)
            let params = SealParameters(
                kind: .document, urgency: u, origin: node.id, recipients: sealRecipients,
                createdAt: now, expiresAt: now + lifetime)
            let sealed = try DocumentEnvelope.seal(
                metadata: metadata, files: attached, parameters: params, signer: node.signingKeys, to: out)
            print(sealed.id.hex)
            FileHandle.standardError.write(
                Data(
                    """
                    Sealed \(out): \(recipients.count) recipient(s), \(sealed.header.layout.payloadSize) \
                    payload bytes in \(sealed.header.layout.chunkCount) chunk(s), \(u.displayName).\n
                    """
                    .utf8))
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an envelope file the way a relay does: signature and every chunk, with no secret key.",
            discussion: "Example: lienthong envelope inspect 21-CT-TU.lte --topology Topology/hoa-binh.json")

        @Argument(help: ArgumentHelp("The envelope file.", valueName: "FILE")) var file: String
        @Option(help: ArgumentHelp("Topology with the origin's public key.", valueName: "FILE")) var topology: String

        func run() throws {
            let t = try Topology.load(path: topology)
            let source = try FileSource(path: file)
            let header = try EnvelopeFile.readHeader(from: source)
            let keys =
                t[header.origin]?.signingKeys(signedAt: header.createdAt, checkedAt: CLITime.nowMilliseconds()) ?? []
            guard !keys.isEmpty else {
                throw CLIError(.inspectUnknownOrigin, "origin \(header.origin) has no signing key in \(topology)")
            }
            try header.verifySignature(originKeys: keys)
            let verifier = try ChunkVerifier(
                header: header, table: try EnvelopeFile.readTable(from: source, header: header))
            var buffer = [UInt8](repeating: 0, count: header.layout.chunkSize + SecretStream.chunkOverhead)
            for i in 0..<header.layout.chunkCount {
                let n = header.layout.ciphertextLength(of: i)
                try buffer.withUnsafeMutableBytes { b in
                    let slice = UnsafeMutableRawBufferPointer(rebasing: b[0..<n])
                    try source.readExactly(into: slice, what: "chunk \(i)")
                    try verifier.verify(index: i, ciphertext: UnsafeRawBufferPointer(slice))
                }
            }
            print("Envelope \(header.id.hex)")
            print(
                """
                  kind \(header.kind), urgency \(header.urgency.displayName), from \(header.origin) \
                (\(t[header.origin]?.name ?? "?"))
                """
            )
            print(
                """
                  to \(header.recipients.count) recipient(s): \
                \(header.recipientIDs.prefix(5).map(\.rawValue).joined(separator: ", "))\
                \(header.recipients.count > 5 ? ", …" : "")
                """
            )
            print("  created \(CLITime.format(header.createdAt)), expires \(CLITime.format(header.expiresAt))")
            print(
                """
                  payload \(header.layout.payloadSize) bytes in \(header.layout.chunkCount) chunk(s) of \
                \(header.layout.chunkSize)
                """
            )
            print(
                """
                  signature valid; all \(header.layout.chunkCount) chunk digests match (checked without any \
                secret key)
                """
            )
        }
    }

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open an envelope addressed to this node and write the document into a directory.",
            discussion: "Example: lienthong envelope open 21-CT-TU.lte --home ./xa-thai-binh --out ./21-CT-TU")

        @Argument(help: ArgumentHelp("The envelope file.", valueName: "FILE")) var file: String
        @OptionGroup var home: HomeOptions
        @Option(help: ArgumentHelp("Directory to write metadata.json and the files into.", valueName: "DIR")) var out:
            String

        func run() throws {
            let node = try LoadedNode(home: home.home)
            let writer = try DirectoryPayloadWriter(directory: out)
            let header = try DocumentEnvelope.open(
                path: file,
                originKeys: { header in
                    let keys =
                        node.topology[header.origin]?.signingKeys(
                            signedAt: header.createdAt, checkedAt: CLITime.nowMilliseconds()) ?? []
                    guard !keys.isEmpty else {
                        throw CLIError(
                            .openUnknownOrigin,
                            "origin \(header.origin) is not in this node's topology (or has no key)")
                    }
                    return keys
                }, recipient: node.id, keys: node.keys.openingKeys, now: CLITime.nowMilliseconds(), into: writer)
            let metadata = try JSONDecoder().decode(DocumentMetadata.self, from: Data(writer.metadataBytes))
            print("Opened \(header.id.hex) from \(header.origin) (\(node.topology[header.origin]?.name ?? "?"))")
            print("  \(metadata.reference.map { $0 + ": " } ?? "")\(metadata.subject)")
            print("  \(writer.fileNames.count) file(s) written to \(out): \(writer.fileNames.joined(separator: ", "))")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                """
                Take an envelope file into this node's spool: check it, then queue it for its next hops or \
                deliver it here.
                """,
            discussion: """
                The envelope goes through the same checks as one arriving on a link (origin signature \
                against the topology, expiry, recipients, every chunk digest) and the same custody \
                transaction, in the running lienthongd (or, with --offline, on the spool itself while the \
                daemon is down). A second import of the same envelope is recognised and changes nothing.
                Example: lienthong envelope import 21-CT-TU.lte --home ./tinh-uy
                """)

        @Argument(help: ArgumentHelp("The envelope file.", valueName: "FILE")) var file: String
        @OptionGroup var node: NodeAccess
        @Option(
            help: ArgumentHelp(
                "The neighbour it came from, if it came from one (its recipients are not sent back there).",
                valueName: "ID"))
        var from: String?

        func run() throws {
            // Through the running daemon's gate, so its sessions are woken for the new entries.
            let result = try node.perform(.envelopeImport(file: NodeAccess.absolute(file), from: from))
            guard case .imported(let report) = result else {
                throw CLIError(
                    .controlUnexpected,
                    "the node answered an import with something else; are the CLI and lienthongd the same release?")
            }
            guard report.accepted else {
                print("\(report.id): already accepted here; nothing changed")
                return
            }
            print("\(report.id): accepted")
            let hops = report.nextHops.keys.sorted().map { "\($0) (\(report.nextHops[$0] ?? 0) recipient(s))" }
            if !hops.isEmpty { print("  queued for \(hops.count) next hop(s): \(hops.joined(separator: ", "))") }
            if report.deliveredHere { print("  delivered to this node's inbox") }
        }
    }
}

/// A node home with its keys and topology loaded.
/// The CLI's name for a loaded node home.
typealias LoadedNode = NodeIdentity

/// What a document is and whom it is for: shared by `send` and `envelope seal`.
struct DocumentOptions: ParsableArguments {
    /// With `send --edxml`: none of these may be given (the package says it all) but the lifetime.
    var givenForEdXML: Bool {
        to != nil || toSubtree != nil || subject != nil || codeNumber != nil || codeNotation != nil
            || documentType != nil || !files.isEmpty || urgency != nil
    }

    @Option(help: ArgumentHelp("Recipient node ids, comma-separated.", valueName: "ID[,ID…]")) var to: String?
    @Option(help: ArgumentHelp("Send to every node below this one in the tree.", valueName: "ID")) var toSubtree:
        String?
    @Option(help: "Urgency (độ khẩn); thuong when not given.") var urgency: Urgency?
    @Option(
        help: ArgumentHelp("How long until the document expires undelivered: e.g. 30m, 12h, 7d.", valueName: "DURATION")
    ) var expires: String = "7d"
    @Option(help: "Trích yếu: what the document is about (required unless --edxml).") var subject: String?
    @Option(help: "Số, e.g. 21.") var codeNumber: String?
    @Option(help: "Ký hiệu, e.g. CT/TU.") var codeNotation: String?
    @Option(help: "Loại văn bản, e.g. \"Chỉ thị\".") var documentType: String?
    @Option(
        help: ArgumentHelp(
            "Hạn xử lý: the date the recipient is to deal with it by.",
            valueName: "YYYY-MM-DD"))
    var dueDate: String?
    @Option(help: "Độ mật: Thường (default). Mật, Tối mật and Tuyệt mật are refused by policy.")
    var secrecy: String =
        "Thường"
    @Option(name: .customLong("file"), help: ArgumentHelp("A file to attach (repeat for several).", valueName: "PATH"))
    var files: [String] = []
}

/// `--to` / `--to-subtree` into a checked list of recipients.
enum RecipientSelection {
    static func resolve(to: String?, toSubtree: String?, topology: Topology) throws -> [NodeID] {
        switch (to, toSubtree) {
        case (nil, nil), (.some, .some):
            throw ValidationError("give exactly one of --to ID[,ID…] or --to-subtree ID")
        case (let list?, nil):
            let ids = try list.split(separator: ",").map { try NodeID(String($0).trimmingCharacters(in: .whitespaces)) }
            for id in ids where topology[id] == nil {
                throw CLIError(
                    .recipientUnknown,
                    "recipient \(id) is not in the topology; check it with `lienthong topology validate`")
            }
            guard !ids.isEmpty else { throw ValidationError("--to needs at least one node id") }
            return Array(Set(ids)).sorted()
        case (nil, let root?):
            let id = try NodeID(root)
            guard topology[id] != nil else { throw CLIError(.recipientUnknown, "node \(id) is not in the topology") }
            let below = topology.descendants(of: id).filter { topology[$0]?.isRetired != true }
            guard !below.isEmpty else { throw CLIError(.recipientEmpty, "node \(id) has no nodes below it") }
            return below.sorted()
        }
    }
}

/// Small helpers for times and durations on the command line.
enum CLITime {
    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    static func today() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")
        return f.string(from: Date())
    }
    static func format(_ ms: Int64) -> String {
        iso.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
    /// One formatter for the process: making one per call (and looking up the zone) was most of
    /// the time of `inbox list --limit 100000` in text. The CLI formats on one thread only.
    nonisolated(unsafe) private static let iso: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")
        return f
    }()
}

enum DurationText {
    /// `30m`, `12h`, `7d` (or plain seconds) into milliseconds.
    static func parseMilliseconds(_ text: String) throws -> Int64 {
        let units: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
        let unit = text.last.flatMap { units[$0] }
        let number = unit == nil ? text : String(text.dropLast())
        guard let n = Int64(number), n > 0, n <= 3650 * 86_400 else {
            throw ValidationError("'\(text)' is not a duration; use e.g. 30m, 12h or 7d")
        }
        return n * (unit ?? 1000)
    }
}
