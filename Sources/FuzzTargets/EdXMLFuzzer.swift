import EdXML
import Foundation

/// `edxml`: the input is an edXML package, read with limits small enough for a fuzzer's inputs.
/// Invariants: every refusal is a named `EdXMLError` with a message (never another error); no
/// more attachment bytes than base64 in the input could carry; a package the reader accepts is
/// written again by `EdXMLWriter` and read back to the same model (up to the writer's documented
/// normalisation, `asWritten`) and the same attachment bytes.
enum EdXMLFuzzer {
    static let limits: EdXMLLimits = {
        var l = EdXMLLimits()
        l.maxTextBytes = 2048
        l.maxRecipients = 64
        l.maxAttachments = 16
        l.maxPackageBytes = 1 << 20
        l.maxTreeBytes = 256 << 10
        l.maxDepth = 16
        l.maxRepeats = 256
        return l
    }()

    static func run(_ data: [UInt8]) throws(FuzzFinding) {
        let sink = CapturingSink()
        let package: EdXMLPackage
        do {
            package = try EdXMLReader(limits: limits).read(data: Data(data), sink: sink)
        } catch let error as EdXMLError {
            guard !error.message.isEmpty else {
                throw FuzzFinding(.edxml, "a refusal without a message: \(error.code)")
            }
            return
        } catch {
            throw FuzzFinding(.edxml, "refused with an error that is not an EdXMLError: \(error)")
        }
        // Base64 carries 3 bytes in 4 characters: more decoded bytes than that is invented data.
        guard sink.total * 4 <= UInt64(data.count) * 3 + 4 * UInt64(sink.files.count) else {
            throw FuzzFinding(.edxml, "\(sink.total) attachment bytes decoded from a \(data.count)-byte package")
        }
        let written: Data
        do {
            switch package {
            case .document(let document):
                guard document.attachments.count == sink.files.count else {
                    throw FuzzFinding(.edxml, "\(document.attachments.count) attachments, \(sink.files.count) decoded")
                }
                let sources = zip(document.attachments, sink.files).map {
                    EdXMLAttachmentSource.bytes($1, attachment: $0)
                }
                written = try EdXMLWriter.data(document: document, attachments: sources)
            case .status(let status):
                written = try EdXMLWriter.data(status: status)
            }
        } catch let finding as FuzzFinding {
            throw finding
        } catch {
            throw FuzzFinding(.edxml, "an accepted package cannot be written again: \(error)")
        }
        // The writer re-emits unknown elements with their namespace as the default one and their
        // attributes by name; it keeps no namespace declarations (docs/EDXML.md). Packages whose
        // unknown elements need more (a relative namespace URI, a prefixed attribute) are written
        // but not held to the round trip.
        guard Self.keptElements(package).allSatisfy(Self.reEmittable) else { return }
        let again = CapturingSink()
        do {
            var relaxed = limits
            relaxed.maxPackageBytes = UInt64(written.count) + 1  // the writer may lay it out longer
            relaxed.maxTreeBytes = limits.maxTreeBytes * 2
            let reread = try EdXMLReader(limits: relaxed).read(data: written, sink: again)
            guard reread == asWritten(package) else {
                throw FuzzFinding(.edxml, "written again, the package reads differently")
            }
            guard again.files == sink.files else {
                throw FuzzFinding(.edxml, "written again, the attachments decode to other bytes")
            }
        } catch let finding as FuzzFinding {
            throw finding
        } catch {
            throw FuzzFinding(.edxml, "what the writer wrote does not read again: \(error)")
        }
    }
}

extension EdXMLFuzzer {
    /// Every unknown element the package keeps.
    static func keptElements(_ package: EdXMLPackage) -> [EdXMLElement] {
        switch package {
        case .document(let d):
            return d.extras.values.flatMap { $0 } + d.header.from.extras + d.header.to.flatMap(\.extras)
                + (d.signature.map { [$0] } ?? [])
        case .status(let s):
            return s.extras + s.from.extras
        }
    }

    /// An absolute namespace URI (or none) and unprefixed attributes, all the way down.
    static func reEmittable(_ e: EdXMLElement) -> Bool {
        let absolute =
            e.namespace.map {
                $0.range(of: "^[A-Za-z][A-Za-z0-9+.-]*:", options: .regularExpression) != nil
            } ?? true
        return absolute && !e.attributes.contains { $0.name.contains(":") } && e.children.allSatisfy(reEmittable)
    }

    /// The package as the writer writes it (docs/EDXML.md, Writing): an attachment without a
    /// ContentId gets `cid:N`, and a missing manifest is generated from the attachments.
    static func asWritten(_ package: EdXMLPackage) -> EdXMLPackage {
        guard case .document(var document) = package else { return package }
        for index in document.attachments.indices where document.attachments[index].contentId == nil {
            document.attachments[index].contentId = "cid:\(index + 1)"
        }
        if document.manifest.isEmpty {
            document.manifest = document.attachments.map {
                EdXMLReference(
                    contentId: $0.contentId, contentType: $0.contentType, description: $0.description,
                    attachmentName: $0.name)
            }
        }
        return .document(document)
    }
}

/// Keeps each attachment's decoded bytes (the fuzzer's inputs are small).
final class CapturingSink: EdXMLAttachmentSink {
    private(set) var files: [Data] = []
    private(set) var total: UInt64 = 0
    func begin(index: Int) throws { files.append(Data()) }
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        files[files.count - 1].append(contentsOf: bytes)
        total += UInt64(bytes.count)
    }
    func end(_ attachment: EdXMLAttachment) throws {}
}

extension EdXMLFuzzer {
    /// Seeds written by the real writer: a document with two small attachments, update and
    /// replacement business info, and a status package. The shared samples are in the corpus too.
    static func seeds() throws -> [FuzzSeeds.Seed] {
        var header = EdXMLMessageHeader(from: EdXMLOrganization(organId: "000.01.01.H27", organName: "Xã Mẫu"))
        header.to = [EdXMLOrganization(organId: "000.00.01.H27"), EdXMLOrganization(organId: "000.02.01.H27")]
        header.documentId = "000.01.01.H27,2026/12/01,12/BC-UBND"
        header.codeNumber = "12"
        header.codeNotation = "BC-UBND"
        header.promulgationDate = "2026/12/01"
        header.subject = "Báo cáo tình hình"
        header.priority = 4
        header.responseFor = [
            EdXMLResponseFor(
                organId: "000.00.01.H27", code: "21/CT-TU",
                promulgationDate: "2026/11/20", documentId: "x")
        ]
        var document = EdXMLDocument(header: header)
        var business = EdXMLBusiness(documentId: header.documentId, type: .update, reason: "Cập nhật số liệu")
        business.receivers = [EdXMLReceiver(organId: "000.00.01.H27", receiverType: 1)]
        business.replacements = [EdXMLReplacement(documentId: "y", organIds: ["000.02.01.H27"])]
        document.business = business
        let attachments = [Data("%PDF-1.4 báo cáo".utf8), Data((0..<300).map { UInt8($0 % 251) })].enumerated().map {
            EdXMLAttachmentSource.bytes(
                $1,
                attachment: EdXMLAttachment(
                    contentId: "cid\($0)", name: "tep-\($0).pdf", description: nil, contentType: "application/pdf",
                    size: UInt64($1.count)))
        }
        let status = EdXMLStatus(
            from: EdXMLOrganization(organId: "000.02.01.H27"),
            responseFor: EdXMLResponseFor(
                organId: "000.01.01.H27", code: "12/BC-UBND",
                promulgationDate: "2026/12/01",
                documentId: header.documentId),
            statusCode: "15", description: "Đồng ý thu hồi",
            timestamp: "2026/12/02 08:00:00")
        return [
            FuzzSeeds.Seed(
                name: "document-update",
                bytes: Array(
                    try EdXMLWriter.data(
                        document: document,
                        attachments: attachments))),
            FuzzSeeds.Seed(name: "status-15", bytes: Array(try EdXMLWriter.data(status: status))),
        ]
    }
}
