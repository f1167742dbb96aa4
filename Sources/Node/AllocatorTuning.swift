import CAllocator

/// Keeps the daemon's large, short-lived buffers in the heap instead of fresh `mmap`s.
///
/// A relay allocates and frees the same few sizes all the time: 64 KiB chunks, 4 MiB commit
/// batches, frame buffers. glibc serves anything over its (dynamic) mmap threshold with a new
/// mapping and returns trimmed heap tops to the kernel, so each batch touched fresh zeroed pages:
/// page faults were about a tenth of a relay's CPU in `Scripts/bench` b. A fixed 32 MiB mmap
/// threshold and a 64 MiB trim threshold let those buffers be reused. Peak RSS is what it was
/// (the same buffers, now recycled); what changes is that up to 64 MiB freed at a heap's top may
/// stay resident until a later `malloc_trim`. Measured in docs/BENCHMARKS.md (f stays ≤ 64 MiB).
///
/// Security note: touches no input; it only sets two allocator parameters of this process.
enum AllocatorTuning {
    static let mmapThreshold: Int32 = 32 << 20
    static let trimThreshold: Int32 = 64 << 20

    /// Applies the settings; call once, before the daemon starts its threads.
    static func apply() {
        // A no-op where the C library is not glibc (the shim says so).
        _ = lt_mallopt(lt_M_MMAP_THRESHOLD, mmapThreshold)
        _ = lt_mallopt(lt_M_TRIM_THRESHOLD, trimThreshold)
    }
}
