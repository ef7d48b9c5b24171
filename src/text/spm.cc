// SentencePiece merging as llama.cpp's `llm_tokenizer_spm_session` does it: adjacent symbols
// merged by the score of the piece they form, highest first, leftmost on ties.
#include <algorithm>

#include "text/tokenizer.h"

namespace ggufembed {
namespace {

using Bigram = TokenizerScratch::Bigram;

// Highest score first; on equal scores the leftmost pair first (llama.cpp's comparator, with
// push_heap/pop_heap as its priority_queue uses them).
struct ScoreOrder {
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

}  // namespace

void Tokenizer::MergeByScore(std::string_view text, TokenizerScratch& scratch) const {
  SplitCharacters(text, scratch);
  std::vector<TokenizerScratch::Symbol>& symbols = scratch.symbols;
  std::vector<Bigram>& queue = scratch.queue;
  queue.clear();
  auto try_add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const std::string_view merged(symbols[left].text, symbols[left].n + symbols[right].n);
    const int32_t id = vocab_.Find(merged);
    if (id < 0) return;
    queue.push_back({left, right, scores_[id], 0, merged.size()});
    std::push_heap(queue.begin(), queue.end(), ScoreOrder());
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), ScoreOrder());
    const Bigram b = queue.back();
    queue.pop_back();
    TokenizerScratch::Symbol& left = symbols[b.left];
    TokenizerScratch::Symbol& right = symbols[b.right];
    if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;  // stale
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }
}

}  // namespace ggufembed
