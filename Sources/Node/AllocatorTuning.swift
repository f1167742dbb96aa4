import CAllocator

/// Keeps the daemon's large, short-lived buffers in the heap instead of fresh `mmap`s.
///
/// A relay allocates and frees the same few sizes all the time: 64 KiB chunks, 4 MiB commit
/// batches, frame buffers. glibc serves anything over its (dynamic) mmap threshold with a new
/// mapping and returns trimmed heap tops to the kernel, so each batch touched fresh zeroed pages:
/// page faults were about a tenth of a relay's CPU in `Scripts/bench` b. A fixed 32 MiB mmap
/// threshold and a 64 MiB trim threshold let those buffers be reused. The cost is resident
/// memory: each of glibc's per-thread arenas may keep up to 64 MiB it has freed, and nothing
/// calls `malloc_trim`. Measured with it (docs/BENCHMARKS.md, f): the relay's peak while relaying
/// 5 × 50 MiB stays under the 64 MiB target, and idle RSS per node barely moved.
///
/// Security note: touches no input; it only sets two allocator parameters of this process.
enum AllocatorTuning {
    static let mmapThreshold: Int32 = 32 << 20
    static let trimThreshold: Int32 = 64 << 20

    /// Applies the settings; the daemon calls it first thing, before it builds its runtime.
    static func apply() {
        // A no-op where the C library is not glibc (the shim says so).
        _ = lt_mallopt(lt_M_MMAP_THRESHOLD, mmapThreshold)
        _ = lt_mallopt(lt_M_TRIM_THRESHOLD, trimThreshold)
    }
}
