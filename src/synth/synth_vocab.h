// A synthetic SentencePiece vocabulary in Gemma's GGUF layout, for models with random weights.
#ifndef GGUFEMBED_SYNTH_SYNTH_VOCAB_H_
#define GGUFEMBED_SYNTH_SYNTH_VOCAB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "text/vocabulary.h"

namespace ggufembed {

struct SynthVocab {
  std::vector<std::string> tokens;  // piece text; spaces in NORMAL pieces are U+2581 '▁'
  std::vector<float> scores;        // merge priority: higher merges first
  std::vector<int32_t> types;       // kToken* (text/vocabulary.h)
};

// Token ids fixed by the layout (those of Gemma for 0..4).
constexpr int32_t kSynthPadId = 0;
constexpr int32_t kSynthEosId = 1;
constexpr int32_t kSynthBosId = 2;
constexpr int32_t kSynthUnkId = 3;
constexpr int32_t kSynthMaskId = 4;
constexpr int32_t kSynthFirstByteId = 5;  // <0x00> .. <0xFF> are ids 5..260

// Builds `n_vocab` (>= 512) unique pieces: <pad> <eos> <bos> <unk> <mask>, the 256 byte tokens,
// a few CONTROL and USER_DEFINED tokens, then NORMAL pieces with strictly decreasing scores:
// whitespace, ASCII characters, common English words with all their prefixes (so the bigram
// merge can build whole words), capitalised forms, letter pairs, numbers, characters of other
// scripts and emoji, then filler pieces. Deterministic.
SynthVocab MakeSynthVocab(uint32_t n_vocab);

// BPE merges ("left right", by rank) that build the NORMAL pieces of `vocab` in score order, each
// from the pair of existing pieces with the longest left part: what a "gemma4" file carries.
std::vector<std::string> MakeSynthMerges(const SynthVocab& vocab);

}  // namespace ggufembed

#endif  // GGUFEMBED_SYNTH_SYNTH_VOCAB_H_
