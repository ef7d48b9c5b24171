// BPE merging for "gemma4" vocabularies as llama.cpp's `llm_tokenizer_bpe_session` does it:
// merges from tokenizer.ggml.merges ("left right", rank = position), applied to adjacent
// symbols lowest rank first, leftmost on ties, over UTF-8 characters (no byte-level alphabet).
#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstring>

#include "text/merge_queue.h"
#include "text/tokenizer.h"
#include "util/error.h"
#include "util/huge_pages.h"

namespace ggufembed {
namespace {

using Bigram = TokenizerScratch::Bigram;

// Lowest rank first; on equal ranks the leftmost pair first (llm_bigram_bpe::comparator).
struct RankOrder {
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

}  // namespace

Status Tokenizer::LoadMerges(const GgufFile& file) {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufValue merges, file.GetArray("tokenizer.ggml.merges"));
  if (merges.element_type != GgufType::kString) {
    return Error(StatusCode::kInvalidFile,
                 "%s: tokenizer.ggml.merges is an array of %s, not strings", file.name().c_str(),
                 GgufTypeName(merges.element_type));
  }
  if (merges.count > kMaxMerges) {
    return Error(StatusCode::kInvalidFile,
                 "%s: tokenizer.ggml.merges has %" PRIu64
                 " merges, more than the limit of %" PRIu64,
                 file.name().c_str(), merges.count, kMaxMerges);
  }
  merges_base_ = merges.data;
  ReserveHugePages(merges_, merges.count);
  // The array was checked when the file was parsed: each string is a u64 length and its bytes.
  // Walking it here keeps only 8 bytes per merge (514,906 of them in Gemma's vocabulary).
  const uint8_t* p = merges.data;
  for (uint64_t i = 0; i < merges.count; ++i) {
    uint64_t n;
    std::memcpy(&n, p, sizeof(n));
    const std::string_view line(reinterpret_cast<const char*>(p + sizeof(n)), n);
    // llama.cpp splits at the first space after the first byte; a line without one is the
    // pair ("", "").
    const size_t space = line.size() > 1 ? line.find(' ', 1) : std::string_view::npos;
    if (static_cast<uint64_t>(p + sizeof(n) - merges_base_) > UINT32_MAX) {  // offsets are 32 bits
      return Error(StatusCode::kInvalidFile,
                   "%s: tokenizer.ggml.merges: merge %" PRIu64
                   " starts more than 4 GiB into the "
                   "array, more than the limit of 4 GiB",
                   file.name().c_str(), i);
    }
    Merge m{0, 0, 0};
    if (space != std::string_view::npos && space < 65536 && line.size() - space - 1 < 65536) {
      m = {static_cast<uint32_t>(p + sizeof(n) - merges_base_), static_cast<uint16_t>(space),
           static_cast<uint16_t>(line.size() - space - 1)};
    }
    p += sizeof(n) + n;
    merges_.push_back(m);
  }
  // A pair listed twice keeps its first (lowest) rank, as llama.cpp's bpe_ranks map does.
  merge_index_.Build(
      merges_.size(), [&](size_t i) { return HashTextPair(Left(merges_[i]), Right(merges_[i])); },
      [&](int32_t a, int32_t b) {
        return Left(merges_[a]) == Left(merges_[b]) && Right(merges_[a]) == Right(merges_[b]);
      });
  return OkStatus();
}

int32_t Tokenizer::MergeRank(std::string_view left, std::string_view right) const {
  return merge_index_.Find(HashTextPair(left, right), [&](int32_t rank) {
    return Left(merges_[rank]) == left && Right(merges_[rank]) == right;
  });
}

void Tokenizer::MergeByRank(std::string_view word, TokenizerScratch& scratch) const {
  // A run of newlines that is itself a token is taken whole (llama.cpp's gemma4 rule).
  if (word.find_first_not_of('\n') == std::string_view::npos && vocab_.Find(word) >= 0) {
    scratch.symbols.assign(1, {-1, -1, word.data(), word.size()});
    return;
  }
  SplitCharacters(word, scratch);
  MergeAdjacent<RankOrder>(scratch, [&](const TokenizerScratch::Symbol& l,
                                        const TokenizerScratch::Symbol& r, Bigram* b) {
    b->rank = MergeRank(std::string_view(l.text, l.n), std::string_view(r.text, r.n));
    return b->rank >= 0;
  });
}

}  // namespace ggufembed
