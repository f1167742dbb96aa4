#ifndef LIENTHONG_CALLOCATOR_SHIM_H
#define LIENTHONG_CALLOCATOR_SHIM_H
// glibc's allocator controls (mallopt, malloc_trim), which Swift's Glibc module does not export.
// Used by Node's AllocatorTuning only.
// <features.h> defines __GLIBC__; without it first, the test below always took the no-op branch.
#if defined(__linux__)
#include <features.h>
#endif
#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
static const int lt_M_MMAP_THRESHOLD = M_MMAP_THRESHOLD;
static const int lt_M_TRIM_THRESHOLD = M_TRIM_THRESHOLD;
static const int lt_M_ARENA_MAX = M_ARENA_MAX;
static inline int lt_mallopt(int param, int value) { return mallopt(param, value); }
static inline int lt_malloc_trim(void) { return malloc_trim(0); }
#define LT_HAVE_MALLOPT 1
#else
static const int lt_M_MMAP_THRESHOLD = 0;
static const int lt_M_TRIM_THRESHOLD = 0;
static const int lt_M_ARENA_MAX = 0;
static inline int lt_mallopt(int param, int value) { (void)param; (void)value; return 0; }
static inline int lt_malloc_trim(void) { return 0; }
#define LT_HAVE_MALLOPT 0
#endif
#endif
