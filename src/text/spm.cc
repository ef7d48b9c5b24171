// SentencePiece merging as llama.cpp's `llm_tokenizer_spm_session` does it: adjacent symbols
// merged by the score of the piece they form, highest first, leftmost on ties.
#include <algorithm>

#include "text/merge_queue.h"
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
  MergeAdjacent<ScoreOrder>(scratch, [&](const TokenizerScratch::Symbol& l,
                                         const TokenizerScratch::Symbol& r, Bigram* b) {
    const int32_t id = vocab_.Find(std::string_view(l.text, l.n + r.n));
    if (id < 0) return false;
    b->score = scores_[id];
    return true;
  });
}

}  // namespace ggufembed
