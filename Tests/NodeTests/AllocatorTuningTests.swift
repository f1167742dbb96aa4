import Testing
#if canImport(Glibc)
import Glibc
#endif
import Node

/// The allocator settings must reach glibc. Until this test the shim tested `__GLIBC__` before
/// any header had defined it, so `apply()` was a silent no-op in every build; this test fails if
/// that happens again.
@Suite struct AllocatorTuningTests {
    @Test func glibcTakesBothSettings() {
        #if os(Linux) && canImport(Glibc)
        #expect(AllocatorTuning.isAvailable, "the C allocator shim did not see glibc")
        // Under AddressSanitizer malloc is the sanitizer's, whose mallopt refuses everything.
        let asan = dlsym(nil, "__asan_init") != nil
        #expect(AllocatorTuning.apply() || asan, "mallopt refused the mmap or trim threshold or the arena count")
        #else
        #expect(!AllocatorTuning.isAvailable || AllocatorTuning.apply())
        #endif
    }
}
