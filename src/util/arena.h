// Arena: one growable block of memory from which a forward pass takes all its buffers, laid out
// by one function that runs twice (to count, then to hand out), so sizes are written once.
#ifndef GGUFEMBED_UTIL_ARENA_H_
#define GGUFEMBED_UTIL_ARENA_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "ggufembed/status.h"
#include "util/check.h"
#include "util/error.h"

namespace ggufembed {

class Arena {
 public:
  static constexpr size_t kAlignment = 64;  // a cache line, and enough for any SIMD load

  // Lays out buffers with `plan(arena)`, a function that only calls Alloc (the same calls every
  // time for the same inputs): runs it once to count the bytes, makes room (allocating only
  // when the capacity grows, so a pass of a size seen before allocates nothing) and runs it
  // again, when Alloc hands out the buffers. Earlier buffers are forgotten.
  // The most bytes a plan may take: what size_t can address (32 bits in WebAssembly), at most
  // 2^48. A plan's sizes are counted in 64 bits, so a corrupt file's dimensions cannot wrap them.
  static constexpr uint64_t kMaxBytes =
      std::min<uint64_t>(uint64_t{SIZE_MAX} - kAlignment, uint64_t{1} << 48);

  template <class Plan>
  Status Carve(Plan&& plan) {
    counting_ = true;
    used_ = 0;
    plan(*this);
    counting_ = false;
    if (used_ > kMaxBytes) {
      return Error(StatusCode::kOutOfMemory,
                   "the pass needs more than %llu bytes of working memory, more than this build "
                   "can address",
                   static_cast<unsigned long long>(kMaxBytes));
    }
    GGUFEMBED_RETURN_IF_ERROR(Reserve(static_cast<size_t>(used_)));
    used_ = 0;
    plan(*this);
    return OkStatus();
  }

  // `n` values of T, aligned to kAlignment. While Carve counts, returns nullptr.
  template <typename T>
  T* Alloc(uint64_t n) {
    const uint64_t start = (used_ + kAlignment - 1) & ~uint64_t{kAlignment - 1};
    if (start > kMaxBytes || n > (kMaxBytes - start) / sizeof(T)) {
      GGUFEMBED_DCHECK(counting_);  // Carve refuses such a plan before handing anything out
      used_ = kMaxBytes + 1;
      return nullptr;
    }
    used_ = start + n * sizeof(T);
    if (counting_) return nullptr;
    GGUFEMBED_DCHECK(used_ <= capacity_);  // Carve counted these very calls
    return reinterpret_cast<T*>(base() + start);
  }

  size_t capacity() const { return capacity_; }
  size_t used() const { return static_cast<size_t>(used_); }

 private:
  // malloc, not new (std::nothrow): a Status, also in a build without exceptions.
  Status Reserve(size_t bytes) {
    if (bytes > capacity_) {
      Storage grown(static_cast<uint8_t*>(std::malloc(bytes + kAlignment)));
      if (!grown) {
        return Error(StatusCode::kOutOfMemory, "cannot allocate %zu bytes of working memory",
                     bytes);
      }
      storage_ = std::move(grown);
      capacity_ = bytes;
    }
    return OkStatus();
  }
  uint8_t* base() const {
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage_.get());
    return reinterpret_cast<uint8_t*>((p + kAlignment - 1) & ~uintptr_t{kAlignment - 1});
  }

  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  using Storage = std::unique_ptr<uint8_t, Free>;

  Storage storage_;
  size_t capacity_ = 0;
  uint64_t used_ = 0;
  bool counting_ = false;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_ARENA_H_
