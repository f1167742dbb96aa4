import Foundation
import Testing

/// A node whose spool file is damaged refuses to start, says why and what to do, and leaves
/// the file exactly as it found it (the operator may still want to recover from it).
@Suite struct StartupRefusalTests {
    @Test(arguments: ["garbage", "truncated"])
    func aCorruptSpoolIsRefusedAtStartAndLeftUntouched(damage: String) throws {
        let net = try TestNetwork()
        try net.start([commune11])
        #expect(net.stop(commune11) == 0)
        let path = net.home(commune11) + "/spool.sqlite"
        var bytes = try #require(FileManager.default.contents(atPath: path))
        switch damage {
        case "garbage":
            // Overwrite pages 2 and 3 (their b-tree headers): SQLite opens the file, the integrity
            // check fails. The page size is in the header (big-endian at offset 16).
            let pageSize = Int(bytes[16]) << 8 | Int(bytes[17])
            try #require(pageSize >= 512 && bytes.count >= 3 * pageSize, "a spool of \(bytes.count) bytes, pages of \(pageSize)")
            for i in pageSize..<min(bytes.count, 3 * pageSize) { bytes[i] = UInt8(truncatingIfNeeded: i &* 131 &+ 17) }
        default:
            bytes = bytes.prefix(100)
        }
        try bytes.write(to: URL(fileURLWithPath: path))
        let wal = FileManager.default.contents(atPath: path + "-wal")

        let p = Process()
        p.executableURL = URL(fileURLWithPath: net.binaries + "/lienthongd")
        p.arguments = ["--home", net.home(commune11)]
        let err = Pipe(), out = Pipe()
        p.standardError = err
        p.standardOutput = out
        try p.run()
        // A daemon that does not notice the damage would run forever: stop it after a minute.
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if p.isRunning { p.terminate() } }
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile() + out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
        #expect(said.contains("SPOOL-CORRUPT") && said.contains(path), "lienthongd said: \(said)")
        #expect(FileManager.default.contents(atPath: path) == bytes, "the damaged file was changed")
        #expect(FileManager.default.contents(atPath: path + "-wal") == wal, "its WAL was changed (it had \(wal?.count ?? -1) bytes)")
        #expect(!FileManager.default.fileExists(atPath: net.home(commune11) + "/control.sock"))
    }
}
