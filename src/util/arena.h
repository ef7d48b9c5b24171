// Arena: one growable block of memory from which a forward pass takes all its buffers, laid out
// by one function that runs twice (to count, then to hand out), so sizes are written once.
#ifndef GGUFEMBED_UTIL_ARENA_H_
#define GGUFEMBED_UTIL_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "ggufembed/status.h"
#include "util/check.h"

namespace ggufembed {

class Arena {
 public:
  static constexpr size_t kAlignment = 64;  // a cache line, and enough for any SIMD load

  // Lays out buffers with `plan(arena)`, a function that only calls Alloc (the same calls every
  // time for the same inputs): runs it once to count the bytes, makes room (allocating only
  // when the capacity grows, so a pass of a size seen before allocates nothing) and runs it
  // again, when Alloc hands out the buffers. Earlier buffers are forgotten.
  template <class Plan>
  Status Carve(Plan&& plan) {
    counting_ = true;
    used_ = 0;
    plan(*this);
    counting_ = false;
    GGUFEMBED_RETURN_IF_ERROR(Reserve(used_));
    used_ = 0;
    plan(*this);
    return OkStatus();
  }

  // `n` values of T, aligned to kAlignment. While Carve counts, returns nullptr.
  template <typename T>
  T* Alloc(size_t n) {
    const size_t start = (used_ + kAlignment - 1) & ~(kAlignment - 1);
    used_ = start + n * sizeof(T);
    if (counting_) return nullptr;
    GGUFEMBED_DCHECK(used_ <= capacity_);  // Carve counted these very calls
    return reinterpret_cast<T*>(base() + start);
  }

  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }

 private:
  Status Reserve(size_t bytes) {
    if (bytes > capacity_) {
      std::unique_ptr<uint8_t[]> grown(new (std::nothrow) uint8_t[bytes + kAlignment]);
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

  std::unique_ptr<uint8_t[]> storage_;
  size_t capacity_ = 0;
  size_t used_ = 0;
  bool counting_ = false;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_ARENA_H_
