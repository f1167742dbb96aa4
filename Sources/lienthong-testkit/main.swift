import Envelope
import Foundation
import Spool

// lienthong-testkit: helper processes that tests start and kill. Never installed.
//
//   lienthong-testkit spool-writer --db PATH --envelope FILE --pause-ms N
//       Stores the envelope FILE (EnvelopeFile format) into the spool chunk by chunk, one
//       transaction per chunk, printing "stored K" after each commit, pausing between chunks,
//       so a test can SIGKILL it mid-transfer and check what the spool holds.
#if canImport(Glibc)
import Glibc
#endif

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func spoolWriter() throws {
    guard let db = option("--db"), let file = option("--envelope") else {
        throw SpoolError(.invalidArgument, "spool-writer needs --db PATH --envelope FILE")
    }
    let pause = UInt32(option("--pause-ms").flatMap(Int.init) ?? 50)
    let spool = try Spool(path: db)
    let source = try FileSource(path: file)
    let header = try EnvelopeFile.readHeader(from: source)
    let verifier = try ChunkVerifier(header: header, table: try EnvelopeFile.readTable(from: source, header: header))
    guard case .resume(let start) = try spool.begin(verifier, from: "testkit", now: 0) else {
        print("duplicate")
        return
    }
    for i in 0..<header.layout.chunkCount {
        let chunk = try source.readExactly(header.layout.ciphertextLength(of: i), what: "chunk")
        guard i >= start else { continue }
        try spool.appendChunks(verifier, first: i, chunks: [chunk])
        // Written straight to fd 1, unbuffered: the test reads it to time its SIGKILL.
        FileHandle.standardOutput.write(Data("stored \(i + 1)\n".utf8))
        usleep(pause * 1000)
    }
    print("done")
}

do {
    switch CommandLine.arguments.dropFirst().first {
    case "spool-writer": try spoolWriter()
    default:
        FileHandle.standardError.write(
            Data("usage: lienthong-testkit spool-writer --db PATH --envelope FILE [--pause-ms N]\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("lienthong-testkit: \(error)\n".utf8))
    exit(1)
}
