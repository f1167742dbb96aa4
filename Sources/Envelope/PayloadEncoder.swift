/// A file attached to a document.
public struct AttachedFile: Sendable {
    public enum Content: Sendable {
        /// Streamed from disk when the envelope is sealed; never loaded whole.
        case path(String)
        case bytes([UInt8])
    }

    public let name: String
    public let mediaType: String
    public let content: Content

    public init(name: String, mediaType: String, content: Content) {
        self.name = name
        self.mediaType = mediaType
        self.content = content
    }
}

/// The plaintext payload format v1 (docs/PROTOCOL.md §2), shared by encoder and decoder.
public enum PayloadFormat {
    public static let magic: [UInt8] = Array("LTPL".utf8)
    /// The version written for payloads without edXML metadata, readable by every node.
    public static let version: UInt8 = 1
    /// v2: the same layout; document metadata may carry `EdXML` (docs/PROTOCOL.md §2.2).
    public static let edxmlVersion: UInt8 = 2
    /// Versions this node opens.
    public static let supportedVersions: ClosedRange<UInt8> = 1...2
    public static let maxMetadataBytes = 1 << 20
    public static let maxFiles = 1000
    public static let maxNameBytes = 255
    public static let maxMediaTypeBytes = 255

    /// A file name must be a plain name: it becomes a file on the recipient's disk.
    public static func checkFileName(_ name: String) throws {
        let u = Array(name.utf8)
        guard !u.isEmpty, u.count <= maxNameBytes else {
            throw EnvelopeError(.payloadMalformed, "file name must be 1 to \(maxNameBytes) bytes of UTF-8")
        }
        guard name != ".", name != "..", !name.hasPrefix("."), !u.contains(UInt8(ascii: "/")),
            !u.contains(UInt8(ascii: "\\")),
            !u.contains(where: { $0 < 0x20 || $0 == 0x7f })
        else {
            throw EnvelopeError(
                .payloadMalformed,
                """
                file name '\(name.prefix(60))' is not a plain file name (no '/', '\\\\', leading '.', or \
                control characters)
                """
            )
        }
    }
}

/// Produces the plaintext payload as a stream: preamble, metadata, then each file header and
/// its bytes read straight from disk. The total size is known before sealing starts.
public final class PayloadEncoder: ByteSource {
    private enum Segment {
        case bytes([UInt8])
        case file(FileSource, size: UInt64)
    }

    public let totalSize: UInt64
    private var segments: [Segment]
    private var index = 0
    private var offset: UInt64 = 0

    public init(
        kind: EnvelopeKind, metadata: [UInt8], files: [AttachedFile],
        version: UInt8 = PayloadFormat.version
    ) throws {
        guard metadata.count <= PayloadFormat.maxMetadataBytes else {
            throw EnvelopeError(
                .tooLarge, "metadata of \(metadata.count) bytes is over \(PayloadFormat.maxMetadataBytes)")
        }
        guard files.count <= PayloadFormat.maxFiles else {
            throw EnvelopeError(.tooLarge, "\(files.count) files is over the limit of \(PayloadFormat.maxFiles)")
        }
        guard Set(files.map(\.name)).count == files.count else {
            throw EnvelopeError(.invalidArgument, "two attached files have the same name")
        }
        var w = ByteWriter(capacity: metadata.count + 16)
        w.raw(PayloadFormat.magic)
        w.u8(version)
        w.u8(kind.rawValue)
        w.u32(UInt32(metadata.count))
        w.raw(metadata)
        w.u16(UInt16(files.count))
        var segments: [Segment] = []
        var total: UInt64 = 0
        for f in files {
            try PayloadFormat.checkFileName(f.name)
            guard !f.mediaType.isEmpty, f.mediaType.utf8.count <= PayloadFormat.maxMediaTypeBytes else {
                throw EnvelopeError(.invalidArgument, "media type of \(f.name) must be 1 to 255 bytes")
            }
            let name = Array(f.name.utf8)
            w.u16(UInt16(name.count))
            w.raw(name)
            w.shortString(f.mediaType)
            switch f.content {
            case .bytes(let b):
                w.u64(UInt64(b.count))
                w.raw(b)
            case .path(let path):
                let source = try FileSource(path: path)
                let size = try source.size()
                w.u64(size)
                segments.append(.bytes(w.bytes))
                total += UInt64(w.bytes.count)
                w = ByteWriter()
                segments.append(.file(source, size: size))
                total += size
            }
        }
        if !w.bytes.isEmpty {
            segments.append(.bytes(w.bytes))
            total += UInt64(w.bytes.count)
        }
        self.segments = segments
        self.totalSize = total
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while index < segments.count {
            switch segments[index] {
            case .bytes(let b):
                let n = min(buffer.count, b.count - Int(offset))
                if n > 0 {
                    b.withUnsafeBytes {
                        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<(Int(offset) + n)]))
                    }
                    offset += UInt64(n)
                    return n
                }
            case .file(let source, let size):
                let want = Int(min(UInt64(buffer.count), size - offset))
                if want > 0 {
                    let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
                    guard n > 0 else {
                        throw EnvelopeError(.io, "\(source.path) shrank while it was being sealed; send it again")
                    }
                    offset += UInt64(n)
                    return n
                }
                var probe: UInt8 = 0
                guard try withUnsafeMutableBytes(of: &probe, { try source.read(into: $0) }) == 0 else {
                    throw EnvelopeError(.io, "\(source.path) grew while it was being sealed; send it again")
                }
            }
            index += 1
            offset = 0
        }
        return 0
    }
}
