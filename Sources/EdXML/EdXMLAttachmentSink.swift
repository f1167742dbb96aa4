import Foundation

/// Where the reader writes each attachment's decoded bytes as they arrive. The reader calls
/// `begin`, then `write` any number of times, then `end` with the attachment's fields (which may
/// come after its bytes in the package). An error thrown here aborts the read.
public protocol EdXMLAttachmentSink: AnyObject {
    func begin(index: Int) throws
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func end(_ attachment: EdXMLAttachment) throws
}

/// Counts and drops the bytes: for reading a package's metadata only.
public final class EdXMLDiscardSink: EdXMLAttachmentSink {
    public init() {}
    public func begin(index: Int) throws {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws {}
    public func end(_ attachment: EdXMLAttachment) throws {}
}

/// Writes each attachment to a file in a directory, under its `AttachmentName` made safe (no path
/// separators, no leading dot, unique within the directory). Bytes go to `.part` files that are
/// renamed only once complete, so a failed read never leaves a file that looks whole.
public final class EdXMLDirectorySink: EdXMLAttachmentSink {
    public let directory: URL
    /// The files written, in package order.
    public private(set) var files: [(attachment: EdXMLAttachment, url: URL)] = []
    private var handle: FileHandle?
    private var partURL: URL?
    private var taken: Set<String> = []

    public init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw EdXMLError(
                .io, "cannot create \(directory.path); check the path and its permissions",
                cause: "\(error)")
        }
    }

    public func begin(index: Int) throws {
        let url = directory.appendingPathComponent(".attachment-\(index).part")
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
            let handle = FileHandle(forWritingAtPath: url.path)
        else {
            throw EdXMLError(.io, "cannot write \(url.path); check free space and permissions")
        }
        self.handle = handle
        partURL = url
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let handle else { return }
        do { try handle.write(contentsOf: Data(bytes)) } catch {
            throw EdXMLError(
                .io, "cannot write an attachment in \(directory.path); check free space",
                cause: "\(error)")
        }
    }

    public func end(_ attachment: EdXMLAttachment) throws {
        guard let handle, let partURL else { return }
        self.handle = nil
        self.partURL = nil
        try? handle.close()
        let url = directory.appendingPathComponent(uniqueName(for: attachment.name))
        do { try FileManager.default.moveItem(at: partURL, to: url) } catch {
            throw EdXMLError(.io, "cannot name the attachment \(url.path)", cause: "\(error)")
        }
        files.append((attachment, url))
    }

    /// Safe file name: path separators and control characters become `_`, no leading dot.
    public static func safeName(_ name: String) -> String {
        var cleaned = String(
            name.unicodeScalars.map { scalar -> Character in
                if scalar == "/" || scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F { return "_" }
                return Character(scalar)
            })
        while cleaned.hasPrefix(".") { cleaned.removeFirst() }
        if cleaned.isEmpty { cleaned = "attachment" }
        return String(cleaned.prefix(200))
    }

    private func uniqueName(for name: String) -> String {
        let base = Self.safeName(name)
        var candidate = base
        var counter = 1
        while taken.contains(candidate)
            || FileManager.default.fileExists(atPath: directory.appendingPathComponent(candidate).path)
        {
            counter += 1
            let ext = (base as NSString).pathExtension
            let stem = (base as NSString).deletingPathExtension
            candidate = ext.isEmpty ? "\(stem)-\(counter)" : "\(stem)-\(counter).\(ext)"
        }
        taken.insert(candidate)
        return candidate
    }

    deinit {
        try? handle?.close()
        if let partURL { try? FileManager.default.removeItem(at: partURL) }
    }
}
