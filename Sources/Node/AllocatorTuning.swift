import CAllocator

/// Keeps the daemon's large, short-lived buffers in the heap instead of fresh `mmap`s.
///
/// A relay allocates and frees the same few sizes all the time: 64 KiB chunks, 4 MiB commit
/// batches, frame buffers. glibc serves anything over its (dynamic) mmap threshold with a new
/// mapping and returns trimmed heap tops to the kernel, so each batch touched fresh zeroed pages:
/// page faults and `madvise` were about a fifth of a relay's CPU in `Scripts/bench` b. A fixed
/// 32 MiB mmap threshold (the most 64-bit glibc accepts: half its 64 MiB arena heap size) and a
/// 64 MiB trim threshold let those buffers be reused. The cost is resident memory: each of
/// glibc's per-thread arenas may keep up to 64 MiB it has freed, and nothing calls `malloc_trim`.
/// Measured side by side (docs/BENCHMARKS.md): without it a relay in b made about 460
/// `madvise(MADV_DONTNEED)` calls and faulted the pages back in; with it, one. The relay's peak
/// while relaying 5 × 50 MiB rose from 47 to 51 MiB, under the 64 MiB target; idle RSS per node
/// did not move. `AllocatorTuningTests` checks glibc takes both.
///
/// Security note: touches no input; it only sets two allocator parameters of this process.
public enum AllocatorTuning {
    static let mmapThreshold: Int32 = 32 << 20
    static let trimThreshold: Int32 = 64 << 20

    /// Whether this build can set them: true where the C library is glibc.
    public static var isAvailable: Bool { LT_HAVE_MALLOPT != 0 }

    /// Applies the settings; the daemon calls it first thing, before it builds its runtime.
    /// Returns whether the C library took both (always false where `isAvailable` is false).
    @discardableResult
    public static func apply() -> Bool {
        let mmap = lt_mallopt(lt_M_MMAP_THRESHOLD, mmapThreshold)
        let trim = lt_mallopt(lt_M_TRIM_THRESHOLD, trimThreshold)
        return mmap == 1 && trim == 1
    }
}
