import Envelope
import Foundation
import SodiumKit
import Spool

// lienthong-bench: measurements for Scripts/bench-*. Not installed for operators.
//
//   lienthong-bench crypto [--runs N]                 seal/open throughput next to raw secretstream
//   lienthong-bench memory --mib N [--max-rss-mib M]  seal + open N MiB through files, report peak RSS
#if canImport(Glibc)
import Glibc
#endif

struct BenchError: Error, CustomStringConvertible { let description: String }

func argument(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return value }
    return v
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024  // ru_maxrss is in KiB on Linux
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s[s.count / 2]
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

struct Parties {
    let origin = SigningKeyPair()
    let recipient = BoxKeyPair()
    let originID: NodeID
    let recipientID: NodeID

    init() throws {
        originID = try NodeID("000.00.01.H27")
        recipientID = try NodeID("000.01.11.H27")
    }

    func parameters(kind: EnvelopeKind = .document) -> SealParameters {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return SealParameters(
            kind: kind, urgency: .thuong, origin: originID,
            recipients: [SealRecipient(id: recipientID, encryptionKey: recipient.publicKey)],
            createdAt: now, expiresAt: now + 86_400_000)
    }
}

/// Seals and opens `mib` MiB through real files, checks the output, reports peak RSS.
func memoryCheck() throws {
    let mib = argument("--mib", default: 200)
    let limit = argument("--max-rss-mib", default: 64)
    let dir = NSTemporaryDirectory() + "lienthong-memcheck-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let p = try Parties()

    let input = try FileSink(path: dir + "/scan.pdf", replace: true)
    let piece = Sodium.randomBytes(1 << 20)
    let inputHash = Blake2bHasher()
    for i in 0..<mib {
        var block = piece
        block[0] = UInt8(i & 0xff)
        block[1] = UInt8(i >> 8)
        inputHash.update(block)
        try block.withUnsafeBytes { try input.write($0) }
    }
    try input.close()
    let before = peakRSSMiB()

    let metadata = DocumentMetadata(subject: "Memory check", codeNumber: "1", codeNotation: "KT/LT")
    let sealTime = try seconds {
        _ = try DocumentEnvelope.seal(
            metadata: metadata,
            files: [AttachedFile(name: "scan.pdf", mediaType: "application/pdf", content: .path(dir + "/scan.pdf"))],
            parameters: p.parameters(), signer: p.origin, to: dir + "/env.lte")
    }
    let afterSeal = peakRSSMiB()
    let writer = try DirectoryPayloadWriter(directory: dir + "/out")
    let openTime = try seconds {
        try DocumentEnvelope.open(
            path: dir + "/env.lte", originKey: { _ in p.origin.publicKey }, recipient: p.recipientID,
            keys: p.recipient, now: Int64(Date().timeIntervalSince1970 * 1000), into: writer)
    }
    let afterOpen = peakRSSMiB()

    let output = try FileSource(path: dir + "/out/scan.pdf")
    let outputHash = Blake2bHasher()
    var buf = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = try buf.withUnsafeMutableBytes { try output.read(into: $0) }
        if n == 0 { break }
        buf.withUnsafeBytes { outputHash.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
    guard inputHash.finalize() == outputHash.finalize() else {
        throw BenchError(description: "opened file differs from the input")
    }
    print(
        String(
            format: "memory: %d MiB sealed in %.2f s and opened in %.2f s, output identical", mib, sealTime, openTime))
    print(
        String(
            format: "memory: peak RSS %.1f MiB before, %.1f MiB after seal, %.1f MiB after open (limit %d MiB)", before,
            afterSeal, afterOpen, limit))
    guard afterOpen <= Double(limit) else {
        throw BenchError(description: String(format: "peak RSS %.1f MiB is over the %d MiB limit", afterOpen, limit))
    }
}

/// Seal/open throughput next to raw secretstream push/pull, measured in the same run.
func cryptoBench() throws {
    let runs = argument("--runs", default: 5)
    let p = try Parties()
    let chunk = SealParameters.defaultChunkSize
    print("crypto: libsodium \(Sodium.versionString), \(runs) runs each, median; chunk \(chunk / 1024) KiB")

    func raw(_ size: Int) throws -> (push: Double, pull: Double) {
        let plain = Sodium.randomBytes(chunk)
        var cipher = [UInt8](repeating: 0, count: chunk + SecretStream.chunkOverhead)
        var out = [UInt8](repeating: 0, count: chunk)
        let n = size / chunk
        var pushes: [Double] = []
        var pulls: [Double] = []
        for _ in 0..<runs {
            let key = SecretStream.makeKey()
            let pusher = try SecretStreamPusher(key: key)
            var chunks: [[UInt8]] = []
            pushes.append(
                try seconds {
                    for i in 0..<n {
                        try plain.withUnsafeBytes { pt in
                            try cipher.withUnsafeMutableBytes { try pusher.push(pt, into: $0, isFinal: i == n - 1) }
                        }
                        if i < 64 { chunks.append(cipher) }
                    }
                })
            // Pull needs real consecutive chunks; time 64 and scale (pull cost per chunk is constant).
            let puller = try SecretStreamPuller(key: key, header: pusher.header)
            let m = min(64, n)
            let t = try seconds {
                for i in 0..<m {
                    try chunks[i].withUnsafeBytes { c in
                        try out.withUnsafeMutableBytes { _ = try puller.pull(c, into: $0) }
                    }
                }
            }
            pulls.append(t * Double(n) / Double(m))
        }
        return (Double(size) / median(pushes) / 1e6, Double(size) / median(pulls) / 1e6)
    }

    func sealOpen(_ size: Int) throws -> (seal: Double, open: Double) {
        let payload = Sodium.randomBytes(size)
        var seals: [Double] = []
        var opens: [Double] = []
        // One untimed seal keeps a body to open; timed seals write to a discarding sink, so
        // the figures are the envelope code's, not a growing in-memory buffer's.
        let body = MemorySink()
        let s = try EnvelopeSealer.seal(
            p.parameters(), signer: p.origin, payloadSize: UInt64(size), source: MemorySource(payload), body: body)
        for _ in 0..<runs {
            seals.append(
                try seconds {
                    _ = try EnvelopeSealer.seal(
                        p.parameters(), signer: p.origin, payloadSize: UInt64(size), source: MemorySource(payload),
                        body: DiscardSink())
                })
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            opens.append(
                try seconds {
                    let opener = try EnvelopeOpener(
                        header: s.header, table: s.table, originKey: p.origin.publicKey,
                        recipient: p.recipientID, keys: p.recipient, now: now)
                    try opener.open(body: MemorySource(body.bytes), into: DiscardSink())
                })
        }
        return (Double(size) / median(seals) / 1e6, Double(size) / median(opens) / 1e6)
    }

    let r = try raw(64 << 20)
    print(String(format: "raw secretstream (64 MiB, 1 thread): push %.0f MB/s, pull %.0f MB/s", r.push, r.pull))
    for size in [1 << 20, 64 << 20] {
        let s = try sealOpen(size)
        print(
            String(
                format: "envelope %2d MiB: seal %.0f MB/s (%.0f%% of raw push), open %.0f MB/s (%.0f%% of raw pull)",
                size >> 20, s.seal, 100 * s.seal / r.push, s.open, 100 * s.open / r.pull))
    }
    // Small documents: whole envelopes per second (signing, sealed boxes and headers dominate).
    let small = Sodium.randomBytes(4096)
    let count = 2000
    var sealRates: [Double] = []
    var openRates: [Double] = []
    for _ in 0..<runs {
        var envelopes: [(SealedEnvelope, [UInt8])] = []
        envelopes.reserveCapacity(count)
        sealRates.append(
            Double(count)
                / (try seconds {
                    for _ in 0..<count {
                        let body = MemorySink()
                        envelopes.append(
                            (
                                try EnvelopeSealer.seal(
                                    p.parameters(), signer: p.origin, payloadSize: 4096, source: MemorySource(small),
                                    body: body), body.bytes
                            ))
                    }
                }))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        openRates.append(
            Double(count)
                / (try seconds {
                    for (s, body) in envelopes {
                        try EnvelopeOpener(
                            header: s.header, table: s.table, originKey: p.origin.publicKey, recipient: p.recipientID,
                            keys: p.recipient, now: now
                        )
                        .open(body: MemorySource(body), into: DiscardSink())
                    }
                }))
    }
    print(
        String(
            format: "envelope 4 KiB: seal %.0f envelopes/s, open %.0f envelopes/s", median(sealRates), median(openRates)
        ))
}

do {
    switch CommandLine.arguments.dropFirst().first {
    case "memory": try memoryCheck()
    case "crypto": try cryptoBench()
    case "spool": try spoolBench()
    case "link": try await linkBench()
    case "edxml": try edxmlBench()
    default:
        FileHandle.standardError.write(
            Data(
                """
                usage: lienthong-bench crypto [--runs N] | memory --mib N [--max-rss-mib M] | spool [--runs N] \
                [--list N] | link [--runs N] [--small N] | edxml --mib N [--runs N] [--max-rss-mib M]\n
                """
                .utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("lienthong-bench: \(error)\n".utf8))
    exit(1)
}
