import CAllocator
import Foundation

/// Keeps the daemon's large, short-lived buffers in the heap instead of fresh `mmap`s, in one
/// heap that can be given back.
///
/// A relay allocates and frees the same few sizes all the time: 64 KiB chunks, 4 MiB commit
/// batches, frame buffers. glibc serves anything over its (dynamic) mmap threshold with a new
/// mapping and returns trimmed heap tops to the kernel, so each batch touched fresh zeroed pages:
/// page faults and `madvise` were about a fifth of a relay's CPU in `Scripts/bench` b. A fixed
/// 32 MiB mmap threshold (the most 64-bit glibc accepts: half its 64 MiB arena heap size) and a
/// 64 MiB trim threshold let those buffers be reused. Measured side by side (docs/BENCHMARKS.md):
/// without them a relay in b made about 460 `madvise(MADV_DONTNEED)` calls and faulted the pages
/// back in; with them, one.
///
/// One arena (`M_ARENA_MAX` 1): glibc's per-thread arenas each kept up to the trim threshold of
/// freed memory at their top, which `malloc_trim` cannot return (it trims only the main arena's
/// top), so what a hostile peer made the node allocate stayed resident, and grew with each
/// attack as other threads' arenas took their turn (docs/RELIABILITY.md, adversarial suite).
/// With one arena, `release()` at the end of a session gives back everything freed; per-thread
/// caches (tcache) keep small allocations off the arena's lock. `LT_MALLOC_ARENA_MAX` overrides
/// the count (0: glibc's default), for measuring the difference side by side.
///
/// Security note: touches no input; it only sets allocator parameters of this process.
public enum AllocatorTuning {
    static let mmapThreshold: Int32 = 32 << 20
    static let trimThreshold: Int32 = 64 << 20
    static let arenaMax: Int32 = 1

    /// Whether this build can set them: true where the C library is glibc.
    public static var isAvailable: Bool { LT_HAVE_MALLOPT != 0 }

    /// Applies the settings; `lienthongd` calls it first thing, before any other thread allocates
    /// (an arena a thread already has stays its own). Returns whether the C library took them
    /// all (always false where `isAvailable` is false).
    @discardableResult
    public static func apply() -> Bool {
        let mmap = lt_mallopt(lt_M_MMAP_THRESHOLD, mmapThreshold)
        let trim = lt_mallopt(lt_M_TRIM_THRESHOLD, trimThreshold)
        let override = ProcessInfo.processInfo.environment["LT_MALLOC_ARENA_MAX"].flatMap { Int32($0) }
        let arenas = override ?? arenaMax
        let arena = arenas > 0 ? lt_mallopt(lt_M_ARENA_MAX, arenas) : 1
        return mmap == 1 && trim == 1 && arena == 1
    }

    /// Returns the heap's free pages to the kernel. Called when a link session ends: what a peer
    /// made the node hold (a hostile one, up to every bound in docs/PROTOCOL.md §6.1) is released
    /// then, not kept up to the trim threshold for the node's life. Sessions end rarely (a link
    /// drop, a restart), so the relay's steady state keeps the reuse the thresholds buy; refused
    /// handshakes, which a stranger can make by the thousand, do not trim.
    public static func release() {
        _ = lt_malloc_trim()
    }
}
