import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads an edXML package as a stream: the metadata into the model, each attachment's bytes into a
/// sink as they are decoded. Memory stays bounded by `EdXMLLimits` whatever the package's size.
///
/// Security note: the input is untrusted. The size is checked before parsing, the prolog before the
/// parser sees it (stray bytes, DTDs), every buffered text against a limit; no entity is resolved.
public struct EdXMLReader: Sendable {
    public var limits: EdXMLLimits

    public init(limits: EdXMLLimits = .default) { self.limits = limits }

    /// Reads the package in a file.
    public func read(fileAt path: String, sink: EdXMLAttachmentSink = EdXMLDiscardSink()) throws -> EdXMLPackage {
        let size: UInt64
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        } catch {
            throw EdXMLError(
                .io, "cannot read \(path); check that the file exists and is readable",
                cause: "\(error)")
        }
        try checkSize(size)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw EdXMLError(.io, "cannot open \(path); check its permissions")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: Self.prologWindow)) ?? Data()
        try checkProlog(head)
        do { try handle.seek(toOffset: 0) } catch {
            throw EdXMLError(.io, "cannot read \(path) from its start", cause: "\(error)")
        }
        let stream = EdXMLCheckedFileStream(handle: handle)
        return try parse(XMLParser(stream: stream), sink: sink) { stream.failure }
    }

    /// Reads a package held in memory (status packages, tests).
    public func read(data: Data, sink: EdXMLAttachmentSink = EdXMLDiscardSink()) throws -> EdXMLPackage {
        try checkSize(UInt64(data.count))
        try checkProlog(data.prefix(Self.prologWindow))
        var check = EdXMLInputCheck()
        if !data.withUnsafeBytes({ check.feed($0) }) || !check.atCharacterBoundary { throw check.error() }
        return try parse(XMLParser(data: data), sink: sink) { nil }
    }

    /// The root element must start within this many bytes.
    static let prologWindow = 64 * 1024

    private func checkSize(_ size: UInt64) throws {
        guard size <= limits.maxPackageBytes else {
            throw EdXMLError(.tooLarge, "the package is \(size) bytes; the limit is \(limits.maxPackageBytes)")
        }
        guard size > 0 else { throw EdXMLError(.malformed, "the package is empty") }
    }

    /// Before the root: an optional BOM, then `<?xml`, or whitespace, comments and processing
    /// instructions. Anything else is named here, because the XML parser's own message is obscure.
    func checkProlog(_ head: Data) throws {
        var bytes = [UInt8](head)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let first = bytes.firstIndex(where: { !Self.isSpace($0) }) else {
            throw EdXMLError(.malformed, "the package has no XML element in its first \(Self.prologWindow) bytes")
        }
        guard bytes[first] == UInt8(ascii: "<") else {
            let (line, column) = Self.position(of: first, in: bytes)
            throw EdXMLError(
                .strayBytes,
                "the package starts with bytes that are not XML before the first '<'; "
                    + "remove them so the file starts with <?xml", line: line, column: column)
        }
        // `<?` at the start may only be the declaration: `EdXMLInputCheck` lets it through unseen.
        if first == 0, bytes.starts(with: Array("<?".utf8)),
            !(bytes.starts(with: Array("<?xml".utf8)) && bytes.count > 5 && Self.isSpace(bytes[5]))
        {
            throw EdXMLError(
                .malformed,
                "the package starts with a processing instruction that is not the "
                    + "<?xml declaration; edXML packages have none: remove it", line: 1, column: 1)
        }
        if first == 0, let declared = Self.declaredEncoding(bytes), !["utf-8", "utf8"].contains(declared.lowercased()) {
            // Only UTF-8 is read: libxml2's switch to another encoding is where it crashed under fuzzing.
            throw EdXMLError(
                .encoding,
                "the package declares encoding \(declared); edXML packages are UTF-8: save "
                    + "it as UTF-8 (encoding=\"UTF-8\") in the software that produced it", line: 1, column: 1)
        }
        if first > 0, bytes[first...].starts(with: Array("<?xml".utf8)) {
            throw EdXMLError(
                .strayBytes, "whitespace before the <?xml declaration; the declaration must come first",
                line: 1, column: 1)
        }
        var index = first
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                if Self.isSpace(bytes[index]) {
                    index += 1
                    continue
                }
                let (line, column) = Self.position(of: index, in: bytes)
                throw EdXMLError(.strayBytes, "text before the root element", line: line, column: column)
            }
            let rest = bytes[index...]
            if rest.starts(with: Array("<!DOCTYPE".utf8)) || rest.starts(with: Array("<!ENTITY".utf8)) {
                let (line, column) = Self.position(of: index, in: bytes)
                throw EdXMLError(
                    .dtd,
                    "the package has a DOCTYPE; edXML packages have none, and LienThong does "
                        + "not read DTDs", line: line, column: column)
            }
            let end: [UInt8]
            if rest.starts(with: Array("<?".utf8)) {
                end = Array("?>".utf8)
            } else if rest.starts(with: Array("<!--".utf8)) {
                end = Array("-->".utf8)
            } else {
                return
            }
            guard let close = Self.find(end, in: bytes, from: index + 2) else { return }
            index = close + end.count
        }
        throw EdXMLError(.malformed, "no root element in the first \(Self.prologWindow) bytes")
    }

    /// - Parameter inputFailure: why the input was refused while it streamed in, if it was: that,
    ///   not what the parser made of a cut-off input, is the error.
    private func parse(
        _ parser: XMLParser, sink: EdXMLAttachmentSink, inputFailure: () -> EdXMLError?
    ) throws
        -> EdXMLPackage
    {
        let builder = EdXMLTreeBuilder(limits: limits, sink: sink)
        let ok = builder.run(parser)
        if let failure = inputFailure() { throw failure }
        if let error = builder.error { throw error }
        if let syntax = builder.syntaxError {
            throw EdXMLError(
                .malformed, "the package is not well-formed XML", line: syntax.line,
                column: syntax.column, cause: syntax.cause)
        }
        guard ok, let root = builder.root else {
            let cause = parser.parserError.map { "\($0)" }
            throw EdXMLError(
                .malformed, "the package is not well-formed XML", line: parser.lineNumber,
                column: parser.columnNumber, cause: cause)
        }
        guard builder.rootClosed else {
            throw EdXMLError(
                .malformed, "the package ends before its root element is closed; it was cut short",
                line: parser.lineNumber, column: parser.columnNumber)
        }
        return try EdXMLMapper.package(root, attachments: builder.attachmentSizes)
    }

    /// The `encoding` pseudo-attribute of the XML declaration at the start of `bytes`, if any.
    static func declaredEncoding(_ bytes: [UInt8]) -> String? {
        guard bytes.starts(with: Array("<?xml".utf8)), let end = find(Array("?>".utf8), in: bytes, from: 5)
        else { return nil }
        let declaration = String(decoding: bytes[5..<end], as: UTF8.self)
        guard let key = declaration.range(of: "encoding") else { return nil }
        let rest = declaration[key.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\t" }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return "" }
        return String(rest.dropFirst().prefix { $0 != quote })
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        for index in start...(bytes.count - needle.count)
        where bytes[index..<index + needle.count].elementsEqual(needle) {
            return index
        }
        return nil
    }

    private static func position(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        let before = bytes[..<offset]
        let line = before.filter { $0 == 0x0A }.count + 1
        let lastNewline = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        return (line, offset - lastNewline + 1)
    }
}
