/// Receives a decoded payload piece by piece, so files can go straight to disk.
public protocol PayloadReceiver: AnyObject {
    func receive(kind: EnvelopeKind, metadata: [UInt8]) throws
    func beginFile(name: String, mediaType: String, size: UInt64) throws
    func fileBytes(_ bytes: UnsafeRawBufferPointer) throws
    func endFile() throws
}

/// Parses the plaintext payload stream (docs/PROTOCOL.md §2) incrementally, as a `ByteSink`.
///
/// A state machine over arbitrary slices: fields are accumulated in a small buffer whose size is
/// checked against the format's limits before anything is buffered; file bytes pass straight
/// through to the receiver.
///
/// Security note: the payload comes from the origin, which is authenticated but not trusted to be
/// well-behaved. Every length is bounded, file names are checked to be plain names, and trailing
/// bytes or a short payload are errors.
public final class PayloadDecoder: ByteSink {
    private enum State {
        case preamble
        case metadata(length: Int)
        case fileCount
        case nameLength
        case name(length: Int)
        case mediaTypeLength(name: String)
        case mediaType(length: Int, name: String)
        case fileSize(name: String, mediaType: String)
        case fileBody(remaining: UInt64)
        case done
    }

    private let receiver: any PayloadReceiver
    private var state: State = .preamble
    private var field: [UInt8] = []
    private var kind: EnvelopeKind = .document
    private var filesLeft = 0
    private var names = Set<String>()

    public init(receiver: any PayloadReceiver) { self.receiver = receiver }

    /// Bytes the current state needs before it can advance (0 for pass-through states).
    private var need: Int {
        switch state {
        case .preamble: 10
        case .metadata(let n): n
        case .fileCount, .nameLength: 2
        case .name(let n): n
        case .mediaTypeLength: 1
        case .mediaType(let n, _): n
        case .fileSize: 8
        case .fileBody, .done: 0
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            if case .fileBody(let remaining) = state {
                let n = Int(min(UInt64(rest.count), remaining))
                try receiver.fileBytes(UnsafeRawBufferPointer(rebasing: rest.prefix(n)))
                rest = rest.dropFirst(n)
                try finishFileIfDone(remaining: remaining - UInt64(n))
                continue
            }
            if case .done = state {
                throw EnvelopeError(.payloadMalformed, "payload has \(rest.count) bytes after its last file")
            }
            let take = min(need - field.count, rest.count)
            field.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            if field.count == need { try advance() }
        }
    }

    /// Call after the last byte: throws `payloadMalformed` if the payload stopped early.
    public func finish() throws {
        guard case .done = state else {
            throw EnvelopeError(.payloadMalformed, "payload ended before its last file was complete")
        }
    }

    private func advance() throws {
        var r = ByteReader(field, what: "payload")
        field.removeAll(keepingCapacity: true)
        switch state {
        case .preamble:
            guard Array(try r.take(4)) == PayloadFormat.magic else {
                throw EnvelopeError(.payloadMalformed, "decrypted payload does not start with the payload magic")
            }
            guard PayloadFormat.supportedVersions.contains(try r.u8()) else {
                throw EnvelopeError(.unsupportedVersion, "payload format version is not supported by this node")
            }
            guard let k = EnvelopeKind(rawValue: try r.u8()) else {
                throw EnvelopeError(.payloadMalformed, "payload kind is unknown")
            }
            kind = k
            let length = Int(try r.u32())
            guard length <= PayloadFormat.maxMetadataBytes else {
                throw EnvelopeError(
                    .tooLarge, "payload metadata of \(length) bytes is over \(PayloadFormat.maxMetadataBytes)")
            }
            state = .metadata(length: length)
            if length == 0 { try advance() }
        case .metadata:
            try receiver.receive(kind: kind, metadata: try r.array(r.remaining))
            state = .fileCount
        case .fileCount:
            filesLeft = Int(try r.u16())
            guard filesLeft <= PayloadFormat.maxFiles else {
                throw EnvelopeError(.tooLarge, "payload declares \(filesLeft) files, over \(PayloadFormat.maxFiles)")
            }
            state = filesLeft == 0 ? .done : .nameLength
        case .nameLength:
            let n = Int(try r.u16())
            guard (1...PayloadFormat.maxNameBytes).contains(n) else {
                throw EnvelopeError(
                    .payloadMalformed, "file name length \(n) is outside 1…\(PayloadFormat.maxNameBytes)")
            }
            state = .name(length: n)
        case .name:
            guard let name = String(validating: try r.array(r.remaining), as: UTF8.self) else {
                throw EnvelopeError(.payloadMalformed, "file name is not valid UTF-8")
            }
            try PayloadFormat.checkFileName(name)
            guard names.insert(name).inserted else {
                throw EnvelopeError(.payloadMalformed, "file name '\(name)' appears twice")
            }
            state = .mediaTypeLength(name: name)
        case .mediaTypeLength(let name):
            let n = Int(try r.u8())
            guard n >= 1 else { throw EnvelopeError(.payloadMalformed, "empty media type for \(name)") }
            state = .mediaType(length: n, name: name)
        case .mediaType(_, let name):
            state = .fileSize(name: name, mediaType: String(decoding: try r.array(r.remaining), as: UTF8.self))
        case .fileSize(let name, let mediaType):
            let size = try r.u64()
            try receiver.beginFile(name: name, mediaType: mediaType, size: size)
            state = .fileBody(remaining: size)
            try finishFileIfDone(remaining: size)
        case .fileBody, .done:
            break
        }
    }

    private func finishFileIfDone(remaining: UInt64) throws {
        guard remaining == 0 else {
            state = .fileBody(remaining: remaining)
            return
        }
        try receiver.endFile()
        filesLeft -= 1
        state = filesLeft == 0 ? .done : .nameLength
    }
}
