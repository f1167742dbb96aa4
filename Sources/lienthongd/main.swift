// The node daemon: `lienthongd --home DIR` (the same as `lienthong run --home DIR`).
import LienThongCLI

await Entry.main(DaemonCommand.self)
