import EdXML
import Foundation
import SodiumKit

/// `lienthong-bench edxml --mib N [--runs R] [--max-rss-mib M]`: writes a package with one N MiB
/// attachment, then in the same run copies the file plainly, parses it (attachment decoded to a
/// file) and parses + re-emits it from the model; prints MB/s of package bytes and peak RSS, checks
/// the decoded and re-emitted attachment is byte-identical, and fails above the RSS limit.
func edxmlBench() throws {
    let mib = argument("--mib", default: 100)
    let runs = argument("--runs", default: 1)
    let limit = argument("--max-rss-mib", default: 0)
    let dir = URL(fileURLWithPath: NSTemporaryDirectory() + "lienthong-edxml-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let package = dir.appendingPathComponent("in.edxml")
    let inputHash = try writeBenchPackage(to: package, mib: mib)
    let size = Double(
        (try FileManager.default.attributesOfItem(atPath: package.path)[.size] as? NSNumber)?
            .doubleValue ?? 0)
    let before = peakRSSMiB()
    var copy: [Double] = []
    var parse: [Double] = []
    var both: [Double] = []
    for _ in 0..<runs {
        copy.append(try seconds { try plainCopy(package, to: dir.appendingPathComponent("copy.edxml")) })
        let out = dir.appendingPathComponent("out")
        try? FileManager.default.removeItem(at: out)
        parse.append(
            try seconds {
                _ = try EdXMLReader().read(fileAt: package.path, sink: try EdXMLDirectorySink(directory: out))
            })
        try? FileManager.default.removeItem(at: out)
        let again = dir.appendingPathComponent("again.edxml")
        both.append(
            try seconds {
                let sink = try EdXMLDirectorySink(directory: out)
                guard case .document(let doc) = try EdXMLReader().read(fileAt: package.path, sink: sink) else {
                    throw BenchError(description: "the generated package did not read as a document")
                }
                let sources = try sink.files.map { try EdXMLAttachmentSource.file($0.url, attachment: $0.attachment) }
                try EdXMLWriter.write(document: doc, attachments: sources, toFile: again)
            })
        guard try hashFile(out.appendingPathComponent("large.bin")) == inputHash else {
            throw BenchError(description: "the decoded attachment differs from the one written")
        }
        let check = dir.appendingPathComponent("check")
        try? FileManager.default.removeItem(at: check)
        _ = try EdXMLReader().read(fileAt: again.path, sink: try EdXMLDirectorySink(directory: check))
        guard try hashFile(check.appendingPathComponent("large.bin")) == inputHash else {
            throw BenchError(description: "the re-emitted package's attachment differs from the one written")
        }
        try? FileManager.default.removeItem(at: check)
        try? FileManager.default.removeItem(at: out)
    }
    let peak = peakRSSMiB()
    func rate(_ times: [Double]) -> Double { size / median(times) / 1e6 }
    print(String(format: "edxml %d MiB attachment (package %.1f MB), median of %d:", mib, size / 1e6, runs))
    print(String(format: "  plain copy            %8.1f MB/s", rate(copy)))
    print(
        String(
            format: "  parse (decode to file)%8.1f MB/s  (%.2fx the copy's time)", rate(parse),
            median(parse) / median(copy)))
    print(
        String(
            format: "  parse + re-emit       %8.1f MB/s  (%.2fx the copy's time)", rate(both),
            median(both) / median(copy)))
    print(
        String(
            format: "  peak RSS %.1f MiB (%.1f MiB before parsing)%@", peak, before,
            limit > 0 ? " limit \(limit) MiB" : ""))
    print("  attachment decoded and re-emitted byte-identical")
    if limit > 0, peak > Double(limit) {
        throw BenchError(description: String(format: "peak RSS %.1f MiB is over the %d MiB limit", peak, limit))
    }
}

/// A package in the sample's shape with one attachment of `mib` MiB of varied bytes; returns its hash.
private func writeBenchPackage(to url: URL, mib: Int) throws -> [UInt8] {
    FileManager.default.createFile(atPath: url.path, contents: nil)
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    var header = EdXMLMessageHeader(
        from: EdXMLOrganization(
            organId: "000.00.01.H27",
            organName: "Tỉnh ủy Hòa Bình"))
    header.to = [EdXMLOrganization(organId: "000.01.01.H27", organName: "Phường Thái Bình")]
    header.documentId = "000.00.01.H27,2026/12/04,1/BC-LT"
    header.subject = "Hồ sơ quét (đo hiệu năng)"
    let attachment = EdXMLAttachment(
        contentId: "cid:1", name: "large.bin", description: nil,
        contentType: "application/octet-stream", size: UInt64(mib) << 20)
    let piece = Sodium.randomBytes(1 << 20)
    var block = 0
    var offset = 0
    let hasher = Blake2bHasher()
    let source = EdXMLAttachmentSource(attachment: attachment) { max in
        guard block < mib else { return Data() }
        let count = min(max, piece.count - offset)
        var bytes = Data(piece[offset..<offset + count])
        if offset == 0 {
            bytes[0] = UInt8(block & 0xFF)
            bytes[1] = UInt8(block >> 8 & 0xFF)
        }
        offset += count
        if offset == piece.count {
            offset = 0
            block += 1
        }
        bytes.withUnsafeBytes { hasher.update($0) }
        return bytes
    }
    try EdXMLWriter.write(document: EdXMLDocument(header: header), attachments: [source]) {
        try handle.write(contentsOf: Data($0))
    }
    return hasher.finalize()
}

private func plainCopy(_ from: URL, to: URL) throws {
    guard let input = FileHandle(forReadingAtPath: from.path) else { throw BenchError(description: "cannot read") }
    FileManager.default.createFile(atPath: to.path, contents: nil)
    let output = try FileHandle(forWritingTo: to)
    defer {
        try? input.close()
        try? output.close()
    }
    while let data = try input.read(upToCount: 64 * 1024), !data.isEmpty { try output.write(contentsOf: data) }
}

private func hashFile(_ url: URL) throws -> [UInt8] {
    guard let input = FileHandle(forReadingAtPath: url.path) else {
        throw BenchError(description: "missing \(url.path)")
    }
    defer { try? input.close() }
    let hasher = Blake2bHasher()
    while let data = try input.read(upToCount: 1 << 20), !data.isEmpty { data.withUnsafeBytes { hasher.update($0) } }
    return hasher.finalize()
}
