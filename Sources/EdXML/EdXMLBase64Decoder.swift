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
        var index = 0
        while true {
            // The common case in locals (no access to self per byte): data characters before padding.
            index = text.withUTF8 { bytes in Self.fastDecode(bytes, from: index, into: &self) }
            if buffer.count >= bufferSize { try flushBuffer(flush) }
            guard index < text.utf8.count else { return }
            let byte = text.withUTF8 { $0[index] }
            if Self.table[Int(byte)] < 64 && padding == 0 { continue }  // stopped only for a full buffer
            index += 1
            switch Self.table[Int(byte)] {
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
                throw EdXMLBase64Error.misplacedPadding
            }
        }
    }

    /// Decodes data characters from `start` until the end, a full buffer, or a byte that needs the slow
    /// path (whitespace, padding, a bad character, anything after padding); returns where it stopped.
    private static func fastDecode(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int,
        into state: inout EdXMLBase64Decoder
    ) -> Int {
        var quad = state.quad
        var count = state.count
        var total = state.total
        var index = start
        let limit = state.bufferSize + 3
        table.withUnsafeBufferPointer { table in
            while index < bytes.count {
                let value = table[Int(bytes[index])]
                guard value < 64, state.padding == 0, state.buffer.count < limit else { return }
                quad = quad << 6 | UInt32(value)
                count += 1
                index += 1
                if count == 4 {
                    state.buffer.append(UInt8(truncatingIfNeeded: quad >> 16))
                    state.buffer.append(UInt8(truncatingIfNeeded: quad >> 8))
                    state.buffer.append(UInt8(truncatingIfNeeded: quad))
                    total += 3
                    quad = 0
                    count = 0
                }
            }
        }
        state.quad = quad
        state.count = count
        state.total = total
        return index
    }

    /// Ends the text: checks nothing is left half-decoded and flushes the rest.
    mutating func finish(flush: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard count == 0 else { throw EdXMLBase64Error.truncated }
        try flushBuffer(flush)
    }

    private mutating func emitQuad(flush: (UnsafeRawBufferPointer) throws -> Void) throws {
        let keep = 3 - padding
        guard keep >= 1 else { throw EdXMLBase64Error.misplacedPadding }
        buffer.append(UInt8(truncatingIfNeeded: quad >> 16))
        if keep > 1 { buffer.append(UInt8(truncatingIfNeeded: quad >> 8)) }
        if keep > 2 { buffer.append(UInt8(truncatingIfNeeded: quad)) }
        total += UInt64(keep)
        quad = 0
        count = 0
        if buffer.count >= bufferSize { try flushBuffer(flush) }
    }

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
