// TextIndex: every item found, absent texts not, the first of two equal texts wins and is the
// one reported, with hashes that collide fully (one fingerprint, one probe chain) and with the
// real hash over more items than the prefetch distance.
#include "util/text_index.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace ggufembed {
namespace {

void CheckIndex(const std::vector<std::string>& items, uint64_t (*hash)(std::string_view)) {
  TextIndex index;
  const auto duplicate = index.Build(
      items.size(), [&](size_t i) { return hash(items[i]); },
      [&](int32_t a, int32_t b) { return items[a] == items[b]; });
  // The expected answers, by brute force.
  std::optional<std::pair<int32_t, int32_t>> first_duplicate;
  for (size_t i = 0; i < items.size(); ++i) {
    int32_t first = static_cast<int32_t>(i);
    for (size_t j = 0; j < i; ++j) {
      if (items[j] == items[i]) {
        first = static_cast<int32_t>(j);
        break;
      }
    }
    if (first != static_cast<int32_t>(i) && !first_duplicate) {
      first_duplicate = std::make_pair(first, static_cast<int32_t>(i));
    }
    const std::string& text = items[i];
    CHECK(index.Find(hash(text), [&](int32_t id) { return items[id] == text; }) == first);
  }
  CHECK(duplicate == first_duplicate);
  for (const std::string absent : {"", "absent", "x y"}) {
    CHECK(index.Find(hash(absent), [&](int32_t id) { return items[id] == absent; }) == -1);
  }
}

uint64_t Colliding(std::string_view) { return 0x1234567800000005ull; }

TEST_CASE("TextIndex finds every item, and the first of equal texts wins") {
  std::vector<std::string> items;
  for (int i = 0; i < 1000; ++i) items.push_back("piece" + std::to_string(i * 7919 % 1000));
  items.push_back("piece17");  // a duplicate of an earlier item
  items.push_back("tail");
  items.push_back("tail");
  CheckIndex(items, HashText);
  CheckIndex({}, HashText);
  CheckIndex({"a", "b", "a", "c", "b"}, HashText);
  CheckIndex({"a", "b", "a", "c", "b"}, Colliding);
  std::vector<std::string> few(std::vector<std::string>{"q", "r", "s", "t", "u", "q"});
  for (int i = 0; i < 100; ++i) few.push_back(std::to_string(i));
  CheckIndex(few, Colliding);
}

TEST_CASE("HashTextPair depends on the order and the split of the pair") {
  CHECK(HashTextPair("ab", "c") != HashTextPair("c", "ab"));
  CHECK(HashTextPair("ab", "c") != HashTextPair("a", "bc"));
  CHECK(HashTextPair("a", "b") == HashTextPair("a", "b"));
}

}  // namespace
}  // namespace ggufembed
