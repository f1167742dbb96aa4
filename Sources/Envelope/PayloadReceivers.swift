import Foundation

/// JSON for metadata: sorted keys, so the same metadata always encodes to the same bytes.
enum JSONCoding {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        do { return Array(try e.encode(value)) } catch {
            throw EnvelopeError(.invalidArgument, "metadata cannot be encoded", cause: "\(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw EnvelopeError(.payloadMalformed, "metadata is not valid \(type) JSON", cause: "\(error)")
        }
    }
}

/// Keeps a whole decoded payload in memory. For tests and small control payloads only.
public final class MemoryPayload: PayloadReceiver {
    public struct File: Equatable, Sendable {
        public let name: String
        public let mediaType: String
        public var bytes: [UInt8]
    }

    public private(set) var kind: EnvelopeKind?
    public private(set) var metadataBytes: [UInt8] = []
    public private(set) var files: [File] = []

    public init() {}

    public func metadata() throws -> DocumentMetadata { try JSONCoding.decode(DocumentMetadata.self, metadataBytes) }

    public func receive(kind: EnvelopeKind, metadata: [UInt8]) throws {
        self.kind = kind
        metadataBytes = metadata
    }
    public func beginFile(name: String, mediaType: String, size: UInt64) throws {
        files.append(File(name: name, mediaType: mediaType, bytes: []))
    }
    public func fileBytes(_ bytes: UnsafeRawBufferPointer) throws {
        files[files.count - 1].bytes.append(contentsOf: bytes)
    }
    public func endFile() throws {}
}

/// Writes a decoded document into a directory: `metadata.json` and each attached file, fsync'd.
///
/// Security note: file names were checked by the decoder to be plain names, so nothing is
/// written outside `directory`; existing files are never overwritten.
public final class DirectoryPayloadWriter: PayloadReceiver {
    public let directory: String
    private var sink: FileSink?
    public private(set) var fileNames: [String] = []
    public private(set) var metadataBytes: [UInt8] = []

    public init(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw EnvelopeError(.io, "cannot create directory \(directory)", cause: "\(error)")
        }
        self.directory = directory
    }

    public func receive(kind: EnvelopeKind, metadata: [UInt8]) throws {
        metadataBytes = metadata
        let s = try FileSink(path: directory + "/metadata.json", mode: 0o600)
        try metadata.withUnsafeBytes { try s.write($0) }
        try s.close()
    }

    public func beginFile(name: String, mediaType: String, size: UInt64) throws {
        sink = try FileSink(path: directory + "/" + name, mode: 0o600)
        fileNames.append(name)
    }

    public func fileBytes(_ bytes: UnsafeRawBufferPointer) throws { try sink?.write(bytes) }

    public func endFile() throws {
        try sink?.close()
        sink = nil
    }
}
