import Foundation

/// A buffered, streaming XML writer: text goes out through `emit` in pieces of about 64 KiB, so a
/// package of any size is written with bounded memory.
struct EdXMLOutput {
    private var buffer: [UInt8] = []
    private let emit: (UnsafeRawBufferPointer) throws -> Void
    static let bufferSize = 64 * 1024

    init(emit: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.emit = emit
        buffer.reserveCapacity(Self.bufferSize)
    }

    mutating func raw(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.bufferSize { try flush() }
    }

    mutating func raw(_ bytes: Data) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.bufferSize { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try emit($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// `<edXML:name>value</edXML:name>`, or nothing when the value is nil.
    mutating func leaf(_ name: String, _ value: String?) throws {
        guard let value else { return }
        try raw("<edXML:\(name)>\(Self.escape(value))</edXML:\(name)>")
    }

    mutating func leaf(_ name: String, _ value: Int?) throws { try leaf(name, value.map(String.init)) }

    mutating func open(_ name: String, _ attributes: String = "") throws { try raw("<edXML:\(name)\(attributes)>") }
    mutating func close(_ name: String) throws { try raw("</edXML:\(name)>") }

    /// Writes a kept element as it was read, declaring namespaces where they differ from the one in force.
    mutating func element(_ element: EdXMLElement, defaultNamespace: String) throws {
        // Declared where it differs from the namespace in force, so the element is right at any depth.
        let namespace = element.namespace ?? ""
        let name = element.name
        let declaration =
            namespace == defaultNamespace
            ? "" : " xmlns=\"\(Self.escape(namespace, attribute: true))\""
        let inner = namespace
        let attributes = element.attributes
            .map { " \($0.name)=\"\(Self.escape($0.value, attribute: true))\"" }.joined()
        try raw("<\(name)\(declaration)\(attributes)>\(Self.escape(element.text))")
        for child in element.children { try self.element(child, defaultNamespace: inner) }
        try raw("</\(name)>")
    }

    /// XML escaping; characters XML 1.0 cannot carry (most C0 controls) are dropped.
    static func escape(_ text: String, attribute: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where attribute: out += "&quot;"
            case "\r": out += "&#13;"
            case "\n" where attribute: out += "&#10;"
            case "\t" where attribute: out += "&#9;"
            case "\n", "\t": out.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                if value < 0x20 || value == 0xFFFE || value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
