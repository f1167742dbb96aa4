// The operator CLI. All logic lives in LienThongCLI so it can be tested and fuzzed without a main.
import LienThongCLI

await Entry.main(LienThongCommand.self)
