// lienthong-fuzz: the fuzz targets of FuzzTargets, as a libFuzzer binary (built by Scripts/fuzz
// with -sanitize=fuzzer,address and -D LIENTHONG_LIBFUZZER, where libFuzzer supplies main) or as
// a plain command that replays inputs and writes seeds. No main.swift: with libFuzzer there must
// be no `main` of ours at all.
import Foundation
import FuzzTargets

#if LIENTHONG_LIBFUZZER
@_cdecl("LLVMFuzzerTestOneInput")
public func lienthongFuzzOne(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzEntry.runOne(UnsafeRawBufferPointer(start: start, count: count))
}
#else
@main
struct LienThongFuzz {
    static func main() {
        exit(FuzzEntry.command(CommandLine.arguments))
    }
}
#endif
