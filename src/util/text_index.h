// TextIndex: the open-addressing hash table from a text to the id of the item that carries it —
// the one table behind the vocabulary, the BPE merges, tokenizer.json's pieces and the JSON
// reader's duplicate-key check.
//
// Items live elsewhere (usually as views into a mapped file); the table keeps only a 64-bit slot
// per entry: the upper half of the text's hash as a fingerprint and the item's id. A probe
// compares fingerprints in the table's own cache lines and touches an item only when they agree,
// and Build prefetches the slots of items a few ahead: loading Gemma's 514,906 merges is bounded
// by cache misses, not by hashing.
#ifndef GGUFEMBED_UTIL_TEXT_INDEX_H_
#define GGUFEMBED_UTIL_TEXT_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "util/huge_pages.h"

namespace ggufembed {

// FNV-1a with a final mix: short keys, good spread, no library dependence.
inline uint64_t HashText(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

// The hash of an ordered pair of texts (a BPE merge's two sides).
inline uint64_t HashTextPair(std::string_view left, std::string_view right) {
  return HashText(left) ^ (HashText(right) * 0x9E3779B97F4A7C15ull);
}

class TextIndex {
 public:
  // Indexes items [0, n) in order: hash_of(i) is item i's hash, same(a, b) whether items a and b
  // carry the same text. An item whose text an earlier item carries is not indexed (the first
  // wins, as in llama.cpp's maps); the first such pair (earlier id, later id) is returned.
  template <class HashOf, class Same>
  std::optional<std::pair<int32_t, int32_t>> Build(size_t n, HashOf&& hash_of, Same&& same) {
    size_t capacity = 16;
    while (capacity < n + n / 2) capacity *= 2;  // at most 2/3 full
    ReserveHugePages(slots_, capacity);
    slots_.assign(capacity, kEmpty);
    mask_ = capacity - 1;
    std::optional<std::pair<int32_t, int32_t>> duplicate;
    // Item i's slot is prefetched kAhead items before it is inserted.
    constexpr size_t kAhead = 64;
    uint64_t ahead[kAhead];
    for (size_t i = 0; i < n + kAhead; ++i) {
      uint64_t& hash = ahead[i % kAhead];  // item i - kAhead's, then item i's
      if (i >= kAhead) {
        const int32_t id = static_cast<int32_t>(i - kAhead);
        const int32_t first = Insert(hash, id, same);
        if (first >= 0 && !duplicate) duplicate = std::make_pair(first, id);
      }
      if (i < n) {
        hash = hash_of(i);
        __builtin_prefetch(&slots_[hash & mask_]);
      }
    }
    return duplicate;
  }

  // The id of the item with hash `hash` for which matches(id) holds, or -1.
  template <class Matches>
  int32_t Find(uint64_t hash, Matches&& matches) const {
    if (slots_.empty()) return -1;
    const uint64_t fingerprint = hash >> 32 << 32;
    for (uint64_t s = hash & mask_;; s = (s + 1) & mask_) {
      const uint64_t slot = slots_[s];
      if (slot == kEmpty) return -1;
      const int32_t id = static_cast<int32_t>(slot & 0xFFFFFFFFu);
      if ((slot & ~0xFFFFFFFFull) == fingerprint && matches(id)) return id;
    }
  }

  bool empty() const { return slots_.empty(); }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // id 0xFFFFFFFF is never an item's

  // Inserts `id` unless an item with the same text is there; returns that item's id, or -1.
  template <class Same>
  int32_t Insert(uint64_t hash, int32_t id, Same& same) {
    const uint64_t fingerprint = hash >> 32 << 32;
    for (uint64_t s = hash & mask_;; s = (s + 1) & mask_) {
      const uint64_t slot = slots_[s];
      if (slot == kEmpty) {
        slots_[s] = fingerprint | static_cast<uint32_t>(id);
        return -1;
      }
      const int32_t other = static_cast<int32_t>(slot & 0xFFFFFFFFu);
      if ((slot & ~0xFFFFFFFFull) == fingerprint && same(other, id)) return other;
    }
  }

  std::vector<uint64_t> slots_;  // fingerprint << 32 | id, or kEmpty
  uint64_t mask_ = 0;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_TEXT_INDEX_H_
