// Vocabulary::Partition against llama.cpp's tokenizer_st_partition written out plainly (one search
// of the text per special token, longest first, equal lengths by id), on random vocabularies of
// overlapping special tokens over a three-letter alphabet and random texts of it.
#include "text/vocabulary.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "synth/gguf_writer.h"
#include "test_util.h"

namespace ggufembed {
namespace {

// llama.cpp's algorithm: for each special token in turn, split every raw fragment at its
// non-overlapping occurrences, left to right.
std::vector<TextFragment> PartitionReference(const Vocabulary& v, std::string_view text,
                                             bool parse_special) {
  std::vector<int32_t> specials;
  for (int32_t id = 0; id < v.size(); ++id) {
    const int32_t type = v.Type(id);
    if (type == kTokenControl || type == kTokenUserDefined || type == kTokenUnknown) {
      specials.push_back(id);
    }
  }
  std::stable_sort(specials.begin(), specials.end(),
                   [&](int32_t a, int32_t b) { return v.Piece(a).size() > v.Piece(b).size(); });
  std::vector<TextFragment> fragments, next;
  if (!text.empty()) fragments.push_back({-1, 0, text.size()});
  for (int32_t id : specials) {
    const int32_t type = v.Type(id);
    if (!parse_special && (type == kTokenControl || type == kTokenUnknown)) continue;
    const std::string_view special = v.Piece(id);
    next.clear();
    for (const TextFragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t begin = f.offset;
      const size_t end = f.offset + f.length;
      while (true) {
        const size_t match = text.substr(0, end).find(special, begin);
        if (match == std::string_view::npos) break;
        if (match > begin) next.push_back({-1, begin, match - begin});
        next.push_back({id, 0, 0});
        begin = match + special.size();
      }
      if (begin < end) next.push_back({-1, begin, end - begin});
    }
    fragments.swap(next);
  }
  return fragments;
}

// A vocabulary of `pieces` with `types`, through a GGUF file as a model's is read.
Vocabulary LoadVocabulary(const std::vector<std::string>& pieces,
                          const std::vector<int32_t>& types) {
  GgufWriter w;
  w.SetStringArray("tokenizer.ggml.tokens", pieces);
  w.SetI32Array("tokenizer.ggml.token_type", types);
  const std::string path = testing::TempPath("partition.gguf");
  REQUIRE(w.WriteFile(path).ok());
  Result<GgufFile> file = GgufFile::Open(path);
  REQUIRE(file.ok());
  Result<Vocabulary> vocab = Vocabulary::FromGguf(*file);
  REQUIRE(vocab.ok());
  return std::move(vocab).value();
}

bool Same(const std::vector<TextFragment>& a, const std::vector<TextFragment>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].token != b[i].token || a[i].offset != b[i].offset || a[i].length != b[i].length) {
      return false;
    }
  }
  return true;
}

TEST_CASE("Partition equals llama.cpp's partition on overlapping special tokens", "[tokenizer]") {
  std::mt19937 rng(20261205);
  const auto word = [&](size_t min, size_t max) {
    std::string s(std::uniform_int_distribution<size_t>(min, max)(rng), 'a');
    for (char& c : s) c = "abc"[rng() % 3];
    return s;
  };
  int compared = 0, with_specials = 0;
  for (int round = 0; round < 60; ++round) {
    // Ordinary pieces a, b, c, then specials of lengths 1 to 6 (some of equal length, many
    // overlapping each other), of every special type.
    std::vector<std::string> pieces = {"a", "b", "c"};
    std::vector<int32_t> types = {kTokenNormal, kTokenNormal, kTokenNormal};
    const int n_special = 2 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n_special; ++i) {
      std::string s = word(1, 6);
      if (std::find(pieces.begin(), pieces.end(), s) != pieces.end()) continue;
      pieces.push_back(s);
      types.push_back(
          std::vector<int32_t>{kTokenControl, kTokenUserDefined, kTokenUnknown}[rng() % 3]);
    }
    if (round % 2 == 1) std::swap(pieces[3], pieces.back()), std::swap(types[3], types.back());
    const Vocabulary vocab = LoadVocabulary(pieces, types);
    std::vector<TextFragment> fragments;
    PartitionScratch scratch;
    for (int t = 0; t < 200; ++t) {
      const std::string text = word(0, t < 100 ? 12 : 80);
      for (bool parse_special : {true, false}) {
        vocab.Partition(text, parse_special, fragments, scratch);
        const std::vector<TextFragment> want = PartitionReference(vocab, text, parse_special);
        INFO("round " << round << " text '" << text << "' parse_special " << parse_special);
        REQUIRE(Same(fragments, want));
        ++compared;
        with_specials += want.size() > 1 || (!want.empty() && want[0].token >= 0);
      }
    }
  }
  CHECK(compared == 24000);
  CHECK(with_specials > 10000);  // most texts hold special tokens
}

// A vocabulary changed after loading (llama.cpp's overrides) partitions as its new types say.
TEST_CASE("Partition after MakeControl and MakeNormal", "[tokenizer]") {
  Vocabulary vocab =
      LoadVocabulary({"a", "b", "ab", "ba", "aba"},
                     {kTokenNormal, kTokenNormal, kTokenUserDefined, kTokenNormal, kTokenControl});
  std::vector<TextFragment> fragments;
  PartitionScratch scratch;
  const auto check = [&](const std::string& text, bool parse_special) {
    vocab.Partition(text, parse_special, fragments, scratch);
    CHECK(Same(fragments, PartitionReference(vocab, text, parse_special)));
  };
  vocab.MakeControl(3);  // "ba", NORMAL before: now split out when parsing specials
  vocab.Partition("abab", true, fragments, scratch);
  REQUIRE(fragments.size() == 2);
  CHECK(fragments[0].token == 4);  // "aba" is longer
  CHECK(fragments[1].token == -1);
  for (const char* text : {"abab", "baba", "bab", "ababa"}) {
    check(text, true);
    check(text, false);
  }
  vocab.MakeNormal(4);  // "aba": now ordinary text
  vocab.Partition("abab", true, fragments, scratch);
  REQUIRE(fragments.size() == 2);
  CHECK(fragments[0].token == 2);  // "ab", leftmost
  CHECK(fragments[1].token == 2);
  for (const char* text : {"abab", "baba", "bab", "ababa"}) {
    check(text, true);
    check(text, false);
  }
}

}  // namespace
}  // namespace ggufembed
