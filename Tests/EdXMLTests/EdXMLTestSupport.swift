import Foundation
@testable import EdXML

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/edxml")

func sample(_ name: String) throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent(name)) }

func sampleText(_ name: String) throws -> String { String(decoding: try sample(name), as: UTF8.self) }

/// Collects attachments in memory (tests only: the product streams to files).
final class MemorySink: EdXMLAttachmentSink {
    var bytes: [Data] = []
    var attachments: [EdXMLAttachment] = []
    var writes = 0
    var largestWrite = 0
    func begin(index: Int) throws { bytes.append(Data()) }
    func write(_ chunk: UnsafeRawBufferPointer) throws {
        bytes[bytes.count - 1].append(contentsOf: chunk)
        writes += 1
        largestWrite = max(largestWrite, chunk.count)
    }
    func end(_ attachment: EdXMLAttachment) throws { attachments.append(attachment) }
}

/// Counts bytes without keeping them, and checks them against an expected repeating pattern.
final class PatternSink: EdXMLAttachmentSink {
    var total: UInt64 = 0
    var mismatch = false
    var largestWrite = 0
    func begin(index: Int) throws {}
    func write(_ chunk: UnsafeRawBufferPointer) throws {
        largestWrite = max(largestWrite, chunk.count)
        for byte in chunk {
            if byte != UInt8(truncatingIfNeeded: total % 251) { mismatch = true }
            total += 1
        }
    }
    func end(_ attachment: EdXMLAttachment) throws {}
}

func read(_ text: String, limits: EdXMLLimits = .default, sink: EdXMLAttachmentSink = EdXMLDiscardSink())
    throws -> EdXMLPackage {
    try EdXMLReader(limits: limits).read(data: Data(text.utf8), sink: sink)
}

func document(_ text: String) throws -> EdXMLDocument {
    guard case .document(let document) = try read(text) else { throw EdXMLError(.invalid, "not a document") }
    return document
}

/// The error a read throws, or nil when it succeeds.
func readError(_ text: String, limits: EdXMLLimits = .default) -> EdXMLError? {
    do { _ = try read(text, limits: limits); return nil } catch let error as EdXMLError { return error } catch {
        return EdXMLError(.io, "unexpected \(error)")
    }
}

/// The error reading these bytes throws, or nil when it succeeds.
func readError(data: Data) -> EdXMLError? {
    do { _ = try EdXMLReader().read(data: data); return nil } catch let error as EdXMLError { return error } catch {
        return EdXMLError(.io, "unexpected \(error)")
    }
}

let ns = EdXMLNamespace.uri

/// A minimal document package with the given MessageHeader children after From and To.
func minimal(header extra: String = "", to: String = "<e:To><e:OrganId>000.01.01.H27</e:OrganId></e:To>",
             headerList: String = "", root: String = "", attachments: String = "") -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <edXML xmlns="\(ns)"><e:edXMLEnvelope xmlns:e="\(ns)"><e:edXMLHeader><e:MessageHeader>
    <e:From><e:OrganId>000.00.01.H27</e:OrganId></e:From>\(to)\(extra)
    </e:MessageHeader>\(headerList)</e:edXMLHeader></e:edXMLEnvelope>\(root)
    <AttachmentEncoded>\(attachments)</AttachmentEncoded></edXML>
    """
}
