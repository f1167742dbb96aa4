// The node daemon: `lienthongd --home DIR` (the same as `lienthong run --home DIR`).
import LienThongCLI
import Node

// Before any other thread allocates: an arena a thread already has stays its own.
AllocatorTuning.apply()
await Entry.main(DaemonCommand.self)
