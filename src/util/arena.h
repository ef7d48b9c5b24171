// Arena: one growable block of memory from which the forward pass takes all its buffers.
#ifndef GGUFEMBED_SRC_ARENA_H_
#define GGUFEMBED_SRC_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "ggufembed/status.h"

namespace ggufembed {

class Arena {
 public:
  static constexpr size_t kAlignment = 64;  // a cache line, and enough for any SIMD load

  // Makes room for `bytes` (plus alignment padding) and forgets earlier buffers. Allocates only
  // when the capacity grows, so a forward pass of a size seen before allocates nothing.
  Status Reset(size_t bytes) {
    if (bytes > capacity_) {
      std::unique_ptr<uint8_t[]> grown(new (std::nothrow) uint8_t[bytes + kAlignment]);
      if (!grown) {
        return Error(StatusCode::kOutOfMemory, "cannot allocate %zu bytes of working memory",
                     bytes);
      }
      storage_ = std::move(grown);
      capacity_ = bytes;
    }
    used_ = 0;
    return OkStatus();
  }

  // `n` values of T, aligned to kAlignment, from the reserved block (the caller sized it with
  // Bytes<T>).
  template <typename T>
  T* Alloc(size_t n) {
    uint8_t* base = storage_.get();
    const uintptr_t start = reinterpret_cast<uintptr_t>(base) + used_;
    const uintptr_t aligned = (start + kAlignment - 1) & ~uintptr_t{kAlignment - 1};
    used_ = aligned - reinterpret_cast<uintptr_t>(base) + n * sizeof(T);
    return reinterpret_cast<T*>(aligned);
  }

  // The room `n` values of T take in an arena, padding included.
  template <typename T>
  static size_t Bytes(size_t n) {
    return n * sizeof(T) + kAlignment;
  }

  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }

 private:
  std::unique_ptr<uint8_t[]> storage_;
  size_t capacity_ = 0;
  size_t used_ = 0;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_SRC_ARENA_H_
