/// Decodes base64 as it arrives, in pieces of any size, into a bounded output buffer that is
/// flushed to a closure. Whitespace is skipped (packages wrap lines); `=` padding is accepted only at
/// the end. Never holds more than `bufferSize` decoded bytes.
struct EdXMLBase64Decoder {
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (value, char) in alphabet.enumerated() { table[Int(char)] = UInt8(value) }
        for space in [UInt8(ascii: " "), 0x09, 0x0A, 0x0D] { table[Int(space)] = 0xFE }
        table[Int(UInt8(ascii: "="))] = 0xFD
        return table
    }()

    private var quad: UInt32 = 0
    private var count = 0
    private var padding = 0
    private var buffer: [UInt8] = []
    private let bufferSize: Int
    /// Decoded bytes so far.
    private(set) var total: UInt64 = 0

    init(bufferSize: Int = 64 * 1024) {
        self.bufferSize = bufferSize
        buffer.reserveCapacity(bufferSize)
    }

    /// Feeds base64 text; `flush` receives decoded bytes. Throws a message on a bad character.
    mutating func feed(_ text: String, flush: (UnsafeRawBufferPointer) throws -> Void) throws {
        var text = text
        try text.withUTF8 { bytes in
            for byte in bytes {
                let value = Self.table[Int(byte)]
                switch value {
                case 0xFE: continue
                case 0xFD:
                    guard count >= 2 else { throw EdXMLBase64Error.misplacedPadding }
                    padding += 1
                    count += 1
                    quad <<= 6
                    if count == 4 { try emitQuad(flush: flush) }
                case 0xFF:
                    throw EdXMLBase64Error.badCharacter(byte)
                default:
                    guard padding == 0 else { throw EdXMLBase64Error.misplacedPadding }
                    quad = quad << 6 | UInt32(value)
                    count += 1
                    if count == 4 { try emitQuad(flush: flush) }
                }
            }
        }
    }

    /// Ends the text: checks nothing is left half-decoded and flushes the rest.
    mutating func finish(flush: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard count == 0 else { throw EdXMLBase64Error.truncated }
        try flushBuffer(flush)
    }

    private mutating func emitQuad(flush: (UnsafeRawBufferPointer) throws -> Void) throws {
        if ended { throw EdXMLBase64Error.misplacedPadding }
        let bytes = [UInt8(quad >> 16 & 0xFF), UInt8(quad >> 8 & 0xFF), UInt8(quad & 0xFF)]
        let keep = 3 - padding
        guard keep >= 1 else { throw EdXMLBase64Error.misplacedPadding }
        buffer.append(contentsOf: bytes[0..<keep])
        total += UInt64(keep)
        quad = 0
        count = 0
        if padding > 0 { ended = true }
        if buffer.count >= bufferSize { try flushBuffer(flush) }
    }

    /// After a padded quad nothing but whitespace may follow.
    private var ended = false

    private mutating func flushBuffer(_ flush: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try flush($0) }
        buffer.removeAll(keepingCapacity: true)
    }
}

enum EdXMLBase64Error: Error, CustomStringConvertible {
    case badCharacter(UInt8)
    case misplacedPadding
    case truncated

    var description: String {
        switch self {
        case .badCharacter(let byte): "a character that is not base64 (byte 0x\(String(byte, radix: 16)))"
        case .misplacedPadding: "'=' padding before the end of the base64 text"
        case .truncated: "the base64 text ends in the middle of a group of four characters"
        }
    }
}
