// ReserveHugePages: room for a large vector, backed by transparent huge pages where the host has
// them. The tokenizer's tables (8 MB of merge slots, 4 MB of merges for Gemma's vocabulary) are
// filled in random order; with 4 KiB pages their first touches and TLB misses, not the hashing,
// dominate a load.
#ifndef GGUFEMBED_UTIL_HUGE_PAGES_H_
#define GGUFEMBED_UTIL_HUGE_PAGES_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace ggufembed {

// Reserves `n` elements in the empty vector `v` and asks for huge pages on the whole 2 MiB pages
// inside that storage (before anything touches it). Only a hint: without THP nothing changes.
template <class T>
void ReserveHugePages(std::vector<T>& v, size_t n) {
  v.clear();
  v.reserve(n);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(v.data()) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(v.data() + n)) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_HUGE_PAGES_H_
