import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// What the XML parser must never see, checked incrementally before it does: bytes that are not
/// UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), and processing
/// instructions (`<?…?>`) other than the XML declaration at the very start.
///
/// Why: Foundation's XMLParser on Linux force-unwraps element, attribute and comment names as
/// UTF-8, and libxml2 in recovery mode hands it invalid bytes; it also reads a processing
/// instruction's data as a C string even when libxml2 passes none. One byte 0xFF in a tag name, or
/// `<?x?>`, crashed the process (found by the `edxml` fuzz target). edXML packages are UTF-8 and
/// have no processing instructions, so both are refused instead.
struct EdXMLInputCheck {
    enum Failure: Equatable {
        case notUTF8
        case processingInstruction
    }
    private var need = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF
    private var previous: UInt8 = 0
    /// The input starts with a UTF-8 byte-order mark (the declaration then starts at byte 3).
    private var bom = false
    /// Bytes accepted so far; at a failure, the offset of the first bad byte.
    private(set) var offset: UInt64 = 0
    private(set) var failure: Failure?

    /// Checks the next bytes; false at the first refused one.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let count = bytes.count
        if offset == 0 {
            bom = count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
        }
        while i < count {
            if need == 0 && previous != UInt8(ascii: "<") {
                // Fast path: eight ASCII bytes at a time with no '<' (base64 attachments are all ASCII).
                while i + 8 <= count {
                    let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    guard word & 0x8080_8080_8080_8080 == 0, !Self.has(word, UInt8(ascii: "<")) else { break }
                    i += 8
                }
                guard i < count else { break }
            }
            let b = bytes[i]
            if need == 0 {
                if b == UInt8(ascii: "?") && previous == UInt8(ascii: "<") && !isDeclaration(at: offset + UInt64(i)) {
                    return fail(.processingInstruction, at: i - 1)
                }
                switch b {
                case 0x00...0x7F: break
                case 0xC2...0xDF: need = 1
                case 0xE0:
                    need = 2
                    lower = 0xA0
                case 0xE1...0xEC, 0xEE, 0xEF: need = 2
                case 0xED:
                    need = 2
                    upper = 0x9F
                case 0xF0:
                    need = 3
                    lower = 0x90
                case 0xF1...0xF3: need = 3
                case 0xF4:
                    need = 3
                    upper = 0x8F
                default: return fail(.notUTF8, at: i)
                }
            } else {
                guard b >= lower && b <= upper else { return fail(.notUTF8, at: i) }
                lower = 0x80
                upper = 0xBF
                need -= 1
            }
            previous = b
            i += 1
        }
        offset += UInt64(count)
        return true
    }

    /// True when the bytes so far do not end inside a character.
    var atCharacterBoundary: Bool { need == 0 }

    /// `<?` at the start of the input (after a byte-order mark): the XML declaration.
    private func isDeclaration(at questionMark: UInt64) -> Bool { questionMark == (bom ? 4 : 1) }

    private mutating func fail(_ why: Failure, at i: Int) -> Bool {
        failure = why
        offset = UInt64(max(0, Int64(offset) + Int64(i)))
        return false
    }

    /// Whether any byte of `word` is `byte` (the classic has-zero-byte test on `word ^ byte…`).
    private static func has(_ word: UInt64, _ byte: UInt8) -> Bool {
        let v = word ^ (0x0101_0101_0101_0101 &* UInt64(byte))
        return (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080 != 0
    }

    /// The error for a refused input.
    func error() -> EdXMLError {
        switch failure {
        case .processingInstruction:
            EdXMLError(
                .malformed,
                "the package has a processing instruction (<?…?>) at byte \(offset), after its "
                    + "XML declaration; edXML packages have none: remove it")
        case .notUTF8, nil:
            EdXMLError(
                .encoding,
                "byte \(offset) of the package is not UTF-8; edXML packages are UTF-8: save the "
                    + "file as UTF-8 in the software that produced it")
        }
    }
}

/// A file as an `InputStream` for XMLParser, checked (`EdXMLInputCheck`) while it is read: at the
/// first refused byte it reports end of input, and `failure` says why.
final class EdXMLCheckedFileStream: InputStream {
    private let handle: FileHandle
    private var check = EdXMLInputCheck()
    private var finished = false
    /// Why the input was refused (a byte that is not UTF-8, a character cut off by the end, a
    /// processing instruction), if it was.
    private(set) var failure: EdXMLError?

    init(handle: FileHandle) {
        self.handle = handle
        super.init(data: Data())
    }

    override func open() {}
    override func close() {}
    override var hasBytesAvailable: Bool { !finished }

    override func read(_ buffer: UnsafeMutablePointer<UInt8>, maxLength len: Int) -> Int {
        guard !finished else { return 0 }
        let n = readRetrying(handle.fileDescriptor, buffer, len)
        guard n > 0 else {
            finished = true
            if n == 0 && !check.atCharacterBoundary { failure = check.error() }
            return n < 0 ? -1 : 0
        }
        guard check.feed(UnsafeRawBufferPointer(start: buffer, count: n)) else {
            failure = check.error()
            finished = true
            return 0
        }
        return n
    }
}

/// `read(2)`, retried when interrupted.
private func readRetrying(_ fd: Int32, _ buffer: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int {
    while true {
        let n = read(fd, buffer, count)
        if n < 0 && errno == EINTR { continue }
        return n
    }
}
