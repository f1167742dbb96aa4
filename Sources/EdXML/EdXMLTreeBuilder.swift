import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// One parsed element with where it started, for errors that name a line and column.
final class EdXMLNode {
    let namespace: String?
    let name: String
    let attributes: [EdXMLElement.Attribute]
    let line: Int
    let column: Int
    var text = ""
    var children: [EdXMLNode] = []

    init(namespace: String?, name: String, attributes: [EdXMLElement.Attribute], line: Int, column: Int) {
        self.namespace = namespace
        self.name = name
        self.attributes = attributes
        self.line = line
        self.column = column
    }

    var isEdXML: Bool { namespace == EdXMLNamespace.uri }

    /// Children in the edXML namespace with this local name.
    func all(_ name: String) -> [EdXMLNode] { children.filter { $0.isEdXML && $0.name == name } }
    func first(_ name: String) -> EdXMLNode? { children.first { $0.isEdXML && $0.name == name } }

    /// Trimmed text of a child, nil when absent or empty.
    func string(_ name: String) -> String? {
        guard let text = first(name)?.text.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            return nil
        }
        return text
    }

    var element: EdXMLElement {
        EdXMLElement(
            namespace: namespace, name: name, attributes: attributes, text: text,
            children: children.map(\.element))
    }
}

/// The `XMLParser` delegate: builds a bounded tree of the package, except the base64 of each
/// attachment, which is decoded as it arrives into the sink. Every limit is checked before the
/// bytes it counts are kept; the first error aborts the parse.
final class EdXMLTreeBuilder: NSObject, XMLParserDelegate {
    private let limits: EdXMLLimits
    private let sink: EdXMLAttachmentSink
    private var stack: [EdXMLNode] = []
    private(set) var root: EdXMLNode?
    private(set) var error: EdXMLError?
    /// Where the XML parser first reported an error (its position after the parse may be the end).
    private(set) var syntaxError: (line: Int, column: Int, cause: String)?
    /// The root's end tag was seen: a package cut short is refused even if the parser does not say so.
    private(set) var rootClosed = false
    private var treeBytes = 0
    private var recipients = 0
    private var decoder: EdXMLBase64Decoder?
    /// Attachments streamed so far, with their decoded size in order.
    private(set) var attachmentSizes: [UInt64] = []
    private var attachmentOpen = false
    private weak var parser: XMLParser?

    init(limits: EdXMLLimits, sink: EdXMLAttachmentSink) {
        self.limits = limits
        self.sink = sink
    }

    func run(_ parser: XMLParser) -> Bool {
        self.parser = parser
        parser.delegate = self
        parser.shouldProcessNamespaces = true
        parser.shouldReportNamespacePrefixes = false
        parser.shouldResolveExternalEntities = false
        return parser.parse()
    }

    private func fail(_ code: EdXMLError.Code, _ message: String, cause: String? = nil) {
        guard error == nil else { return }
        error = EdXMLError(code, message, line: parser?.lineNumber, column: parser?.columnNumber, cause: cause)
        parser?.abortParsing()
    }

    /// True when the innermost open elements are `edXML/AttachmentEncoded/…` down to `name`, at
    /// exactly that depth: an element of the same name anywhere else is an ordinary element.
    private func at(_ path: [String]) -> Bool {
        guard stack.count == path.count + 1 else { return false }
        return zip(stack.dropFirst(), path).allSatisfy { $0.isEdXML && $0.name == $1 }
    }

    /// True inside `edXML/AttachmentEncoded/Attachment/ContentTransferEncoded` of an attachment begun.
    private var inAttachmentBody: Bool {
        attachmentOpen && at(["AttachmentEncoded", "Attachment", "ContentTransferEncoded"])
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        guard error == nil, !stopAfterSyntaxError(parser) else { return }
        guard stack.count < limits.maxDepth else {
            return fail(.tooDeep, "elements are nested more than \(limits.maxDepth) deep")
        }
        if root != nil && stack.isEmpty { return fail(.malformed, "a second root element") }
        let attributes = attributeDict.sorted { $0.key < $1.key }
            .map { EdXMLElement.Attribute(name: $0.key, value: $0.value) }
        let cost =
            64 + elementName.utf8.count
            + attributes.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        guard add(cost) else { return }
        let node = EdXMLNode(
            namespace: namespaceURI?.isEmpty == true ? nil : namespaceURI, name: elementName,
            attributes: attributes, line: parser.lineNumber, column: parser.columnNumber)
        if let parent = stack.last {
            if node.isEdXML && node.name == "To" && parent.name == "MessageHeader" {
                recipients += 1
                guard recipients <= limits.maxRecipients else {
                    return fail(.tooMany, "more than \(limits.maxRecipients) To recipients in one package")
                }
            }
            guard parent.children.count < limits.maxRepeats else {
                return fail(.tooMany, "more than \(limits.maxRepeats) elements inside \(parent.name)")
            }
            parent.children.append(node)
        } else {
            root = node
        }
        stack.append(node)
        if at(["AttachmentEncoded", "Attachment"]) { beginAttachment() }
        if inAttachmentBody { decoder = EdXMLBase64Decoder() }
    }

    private func beginAttachment() {
        guard attachmentSizes.count < limits.maxAttachments else {
            return fail(.tooMany, "more than \(limits.maxAttachments) attachments in one package")
        }
        do { try sink.begin(index: attachmentSizes.count) } catch {
            return fail(.io, "cannot store an attachment", cause: "\(error)")
        }
        attachmentOpen = true
        attachmentSizes.append(0)
    }

    private func add(_ bytes: Int) -> Bool {
        treeBytes += bytes
        guard treeBytes <= limits.maxTreeBytes else {
            fail(.tooLarge, "the package's metadata is larger than \(limits.maxTreeBytes) bytes")
            return false
        }
        return true
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard error == nil, !stopAfterSyntaxError(parser), let node = stack.last else { return }
        if decoder != nil {
            do {
                try decoder?.feed(string) { try sink.write($0) }
            } catch let failure as EdXMLBase64Error {
                fail(.base64, "attachment \(attachmentSizes.count) is not valid base64: \(failure)")
            } catch {
                fail(.io, "cannot store attachment \(attachmentSizes.count)", cause: "\(error)")
            }
            return
        }
        if node.children.isEmpty || string.contains(where: { !$0.isWhitespace }) {
            guard node.text.utf8.count + string.utf8.count <= limits.maxTextBytes else {
                return fail(.tooLarge, "the text of \(node.name) is longer than \(limits.maxTextBytes) bytes")
            }
            guard add(string.utf8.count) else { return }
            node.text += string
        }
    }

    func parser(_ parser: XMLParser, foundCDATA cdataBlock: Data) {
        self.parser(parser, foundCharacters: String(decoding: cdataBlock, as: UTF8.self))
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?
    ) {
        guard error == nil, !stopAfterSyntaxError(parser), let node = stack.last else { return }
        if decoder != nil {
            do {
                try decoder?.finish { try sink.write($0) }
                // A second ContentTransferEncoded in one Attachment adds to the same file.
                attachmentSizes[attachmentSizes.count - 1] += decoder?.total ?? 0
            } catch let failure as EdXMLBase64Error {
                return fail(.base64, "attachment \(attachmentSizes.count) is not valid base64: \(failure)")
            } catch {
                return fail(.io, "cannot store attachment \(attachmentSizes.count)", cause: "\(error)")
            }
            decoder = nil
        }
        let closesAttachment = attachmentOpen && at(["AttachmentEncoded", "Attachment"])
        stack.removeLast()
        if stack.isEmpty { rootClosed = true }
        if closesAttachment {
            attachmentOpen = false
            let attachment = EdXMLMapper.attachment(node, size: attachmentSizes.last ?? 0)
            do { try sink.end(attachment) } catch { fail(.io, "cannot store an attachment", cause: "\(error)") }
        }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        if syntaxError == nil, error == nil {
            syntaxError = (parser.lineNumber, parser.columnNumber, "\(parseError)")
        }
        // The first error decides; recovering past it only makes Foundation build (and leak, about
        // 1 KiB each) more error objects. Stopped at the next event (`stopAfterSyntaxError`), not
        // here: stopping libxml2 inside its error report crashed it on an encoding error.
    }

    /// After a syntax error, the first event stops the parse.
    private func stopAfterSyntaxError(_ parser: XMLParser) -> Bool {
        guard syntaxError != nil else { return false }
        parser.abortParsing()
        return true
    }

    func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
        fail(.dtd, "the package declares entities; edXML packages have no DTD")
    }

    func parser(
        _ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?,
        systemID: String?
    ) {
        fail(.dtd, "the package declares external entities; edXML packages have no DTD")
    }

    func parser(_ parser: XMLParser, resolveExternalEntityName name: String, systemID: String?) -> Data? {
        fail(.dtd, "the package refers to an external entity; edXML packages have no DTD")
        return nil
    }
}
