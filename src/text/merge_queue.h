// The merge loop both tokenizer models share: adjacent symbols merged best candidate first,
// stale candidates skipped, the merged symbol's new neighbours offered again. SentencePiece and
// BPE differ only in how a pair is ranked (score or merge rank) and so in the heap's order.
#ifndef GGUFEMBED_TEXT_MERGE_QUEUE_H_
#define GGUFEMBED_TEXT_MERGE_QUEUE_H_

#include <algorithm>
#include <vector>

#include "text/tokenizer.h"

namespace ggufembed {

// Merges scratch.symbols in place. `rank(left, right, &bigram)` sets the priority of merging the
// two symbols (bigram.score or bigram.rank) and returns false when they cannot merge; `Order` is
// the heap comparator (its top is merged first, as llama.cpp's priority_queue with
// push_heap/pop_heap).
template <class Order, class Rank>
void MergeAdjacent(TokenizerScratch& scratch, Rank rank) {
  std::vector<TokenizerScratch::Symbol>& symbols = scratch.symbols;
  std::vector<TokenizerScratch::Bigram>& queue = scratch.queue;
  queue.clear();
  auto try_add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    TokenizerScratch::Bigram b{left, right, 0.0f, 0, symbols[left].n + symbols[right].n};
    if (!rank(symbols[left], symbols[right], &b)) return;
    queue.push_back(b);
    std::push_heap(queue.begin(), queue.end(), Order());
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), Order());
    const TokenizerScratch::Bigram b = queue.back();
    queue.pop_back();
    TokenizerScratch::Symbol& left = symbols[b.left];
    TokenizerScratch::Symbol& right = symbols[b.right];
    // Stale when either side has merged since: left only grows by absorbing `right` (which then
    // is empty), right only by absorbing its own neighbour (which changes the size).
    if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }
}

}  // namespace ggufembed

#endif  // GGUFEMBED_TEXT_MERGE_QUEUE_H_
