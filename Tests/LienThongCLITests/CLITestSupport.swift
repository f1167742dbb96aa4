import Foundation
import ArgumentParser
@testable import LienThongCLI

/// Runs `lienthong ARGS…` in-process, as the executable would (minus printing the error).
func lienthong(_ args: String...) throws {
    var command = try LienThongCommand.parseAsRoot(args)
    try command.run()
}

/// The repository root, from this file's location.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

let smallTopology = repositoryRoot + "/Topology/small.json"
let hoaBinhTopology = repositoryRoot + "/Topology/hoa-binh.json"

func temporaryDirectory() throws -> String {
    let d = NSTemporaryDirectory() + "lt-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

func mode(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
}

/// The message of whatever `body` throws, for matching error text.
func errorText(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}
