// Tokenizer: text to token ids exactly as llama.cpp does it, for the tokenizer models of
// EmbeddingGemma files, chosen by `tokenizer.ggml.model` whatever the architecture:
// "llama" (SentencePiece: bigram merges by score) and "gemma4" (BPE: merges by rank).
#ifndef GGUFEMBED_TEXT_TOKENIZER_H_
#define GGUFEMBED_TEXT_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "text/vocabulary.h"
#include "util/capacity.h"
#include "util/text_index.h"

namespace ggufembed {

// Working memory of Tokenizer::EncodeInto, reused across calls so that encoding a text no longer
// than an earlier one allocates nothing. Callers only keep it; its contents are the tokenizer's.
struct TokenizerScratch {
  // A run of input bytes in the merge list; `n == 0` once merged into its left neighbour.
  struct Symbol {
    int prev, next;
    const char* text;
    size_t n;
  };
  // A candidate merge of two adjacent symbols, by its SentencePiece `score` (higher first) or
  // its BPE `rank` (lower first).
  struct Bigram {
    int left, right;
    float score;
    int32_t rank;
    size_t size;
  };
  std::vector<TextFragment> fragments;
  PartitionScratch partition;
  std::vector<Symbol> symbols;
  std::vector<Bigram> queue;  // a heap
  std::string escaped;

  size_t bytes() const {
    return CapacityBytes(fragments) + partition.bytes() + CapacityBytes(symbols) +
           CapacityBytes(queue) + CapacityBytes(escaped);
  }
};

// The most merges a BPE vocabulary may have: 8,388,608, 16 times the 514,906 of Gemma's gemma4
// vocabulary (EmbeddingGemma 2). A file claiming more is refused before anything is allocated.
inline constexpr uint64_t kMaxMerges = uint64_t{1} << 23;

class Tokenizer {
 public:
  enum class Model { kSentencePiece, kGemma4Bpe };

  // Reads `tokenizer.ggml.*` from `file` (an unknown tokenizer model is kUnsupported).
  static Result<Tokenizer> FromGguf(const GgufFile& file);

  // Token ids for `text`, as llama.cpp's `llama_tokenize(text, add_special, parse_special)`:
  //  1. special tokens are split out of the text (Vocabulary::Partition);
  //  2. SentencePiece: each remaining fragment gets a leading space if `add_space_prefix` and it
  //     follows a special token (or starts the text), spaces become U+2581, and the score-ordered
  //     bigram merge runs on it; gemma4: spaces become U+2581, the fragment is split into runs of
  //     newlines and runs of other characters, and the rank-ordered BPE merge runs on each run
  //     (a newline run that is a token is taken whole); pieces that are not tokens fall back to
  //     <0xXX> byte tokens;
  //  3. BOS/EOS are added when `add_special` and the file's add_bos/add_eos flags say so (gemma4
  //     always adds BOS).
  // Text that is not valid UTF-8 is an error naming the byte offset (llama.cpp would emit byte
  // tokens for it instead).
  Result<std::vector<int32_t>> Encode(std::string_view text, bool add_special,
                                      bool parse_special) const;
  // The same into `out` (replacing its contents), with reusable working memory.
  Status EncodeInto(std::string_view text, bool add_special, bool parse_special,
                    TokenizerScratch& scratch, std::vector<int32_t>* out) const;
  // Encode's check of its text, for a caller that joins the text to something else first and
  // wants the offset in the text itself.
  static Status CheckUtf8(std::string_view text);

  Model model() const { return model_; }
  int32_t n_vocab() const { return vocab_.size(); }
  std::string_view Piece(int32_t id) const { return vocab_.Piece(id); }
  int32_t eos_id() const { return eos_id_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }
  size_t n_merges() const { return merges_.size(); }
  // No token stands for more bytes of text than this (Vocabulary::max_piece_bytes).
  size_t max_piece_bytes() const { return vocab_.max_piece_bytes(); }

 private:
  // One merge line "left right" in the file: where it starts in the merges array and the
  // lengths of its two parts.
  struct Merge {
    uint32_t offset;
    uint16_t left_size, right_size;
  };
  std::string_view Left(const Merge& m) const {
    return {reinterpret_cast<const char*>(merges_base_ + m.offset), m.left_size};
  }
  std::string_view Right(const Merge& m) const {
    return {reinterpret_cast<const char*>(merges_base_ + m.offset) + m.left_size + 1, m.right_size};
  }

  Status ReadSpecialIds(const GgufFile& file);
  Status LoadScores(const GgufFile& file);
  Status LoadMerges(const GgufFile& file);  // bpe.cc
  void MarkEndOfGeneration();
  // The rank of merging `left` and `right`, or -1.
  int32_t MergeRank(std::string_view left, std::string_view right) const;
  // Appends the tokens of one fragment of raw text.
  Status EncodeFragment(std::string_view text, bool first_or_after_special,
                        TokenizerScratch& scratch, std::vector<int32_t>& out) const;
  // SentencePiece: the score-ordered bigram merge of one escaped fragment (spm.cc).
  void MergeByScore(std::string_view text, TokenizerScratch& scratch) const;
  // BPE: the rank-ordered merge of one word (bpe.cc).
  void MergeByRank(std::string_view word, TokenizerScratch& scratch) const;
  // One symbol per UTF-8 character of `text` into scratch.symbols.
  static void SplitCharacters(std::string_view text, TokenizerScratch& scratch);
  // Appends the final symbols as tokens, falling back to byte tokens.
  Status EmitSymbols(const TokenizerScratch& scratch, std::vector<int32_t>& out) const;

  Model model_ = Model::kSentencePiece;
  Vocabulary vocab_;
  std::vector<float> scores_;             // SentencePiece
  const uint8_t* merges_base_ = nullptr;  // BPE: tokenizer.ggml.merges in the mapped file
  std::vector<Merge> merges_;             // by rank
  TextIndex merge_index_;                 // (left, right) -> rank
  int32_t bos_id_ = -1, eos_id_ = -1;
  bool add_bos_ = true, add_eos_ = false, add_space_prefix_ = true;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_TEXT_TOKENIZER_H_
