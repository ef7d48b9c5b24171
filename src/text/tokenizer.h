// Tokenizer: SentencePiece (GGUF tokenizer model "llama") exactly as llama.cpp implements it.
#ifndef GGUFEMBED_TEXT_TOKENIZER_H_
#define GGUFEMBED_TEXT_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"

namespace ggufembed {

// Working memory of Tokenizer::EncodeInto, reused across calls so that encoding a text no longer
// than an earlier one allocates nothing. Callers only keep it; its contents are the tokenizer's.
struct TokenizerScratch {
  // One raw-text range or one special token, in text order.
  struct Fragment {
    int32_t token;  // -1 for raw text
    size_t offset, length;
  };
  // A run of input bytes in the merge list; `n == 0` once merged into its left neighbour.
  struct Symbol {
    int prev, next;
    const char* text;
    size_t n;
  };
  // A candidate merge of two adjacent symbols.
  struct Bigram {
    int left, right;
    float score;
    size_t size;
  };
  std::vector<Fragment> fragments, next_fragments;
  std::vector<Symbol> symbols;
  std::vector<Bigram> queue;  // a heap, highest score on top
  std::string escaped;
};

class Tokenizer {
 public:
  // Reads `tokenizer.ggml.*` from `file`. Piece texts stay views into the file's bytes (kept
  // alive by the tokenizer). Only tokenizer model "llama" (SentencePiece) is supported.
  static Result<Tokenizer> FromGguf(const GgufFile& file);

  // Token ids for `text`, as llama.cpp's `llama_tokenize(text, add_special, parse_special)`:
  //  1. special tokens are split out of the text, longest text first; CONTROL and UNKNOWN ones
  //     only when `parse_special`, USER_DEFINED ones always;
  //  2. each remaining fragment gets a leading space if `add_space_prefix` and it follows a
  //     special token (or starts the text), spaces become U+2581, and the score-ordered bigram
  //     merge runs on it alone; pieces that are not tokens fall back to <0xXX> byte tokens;
  //  3. BOS/EOS are added when `add_special` and the file's add_bos/add_eos flags say so.
  // Text that is not valid UTF-8 is an error naming the byte offset (llama.cpp would emit byte
  // tokens for it instead).
  Result<std::vector<int32_t>> Encode(std::string_view text, bool add_special,
                                      bool parse_special) const;
  // The same into `out` (replacing its contents), with reusable working memory.
  Status EncodeInto(std::string_view text, bool add_special, bool parse_special,
                    TokenizerScratch& scratch, std::vector<int32_t>* out) const;

  int32_t n_vocab() const { return static_cast<int32_t>(pieces_.size()); }
  std::string_view Piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  bool add_bos() const { return add_bos_; }
  bool add_eos() const { return add_eos_; }

 private:
  Status IndexPieces(const std::string& file_name);
  // Splits `text` into scratch.fragments.
  void Partition(std::string_view text, bool parse_special, TokenizerScratch& scratch) const;
  // Appends the tokens of one raw fragment (spaces already escaped) to `out`.
  Status EncodeRaw(std::string_view text, TokenizerScratch& scratch,
                   std::vector<int32_t>& out) const;
  int32_t Find(std::string_view piece) const;

  std::shared_ptr<const FileBytes> bytes_;  // keeps `pieces_` valid
  std::vector<std::unique_ptr<std::string>> renamed_;  // "[EMPTY_i]" names of empty pieces
  std::vector<std::string_view> pieces_;
  std::vector<float> scores_;
  std::vector<int32_t> types_;
  // Open-addressing hash table of piece ids (-1 = empty), indexed by a hash of the piece text:
  // one allocation instead of a node per piece, so 262,144 pieces index in a few milliseconds.
  std::vector<int32_t> piece_slots_;
  uint64_t slot_mask_ = 0;
  std::vector<int32_t> special_ids_;  // CONTROL, USER_DEFINED, UNKNOWN; longest text first
  int32_t byte_ids_[256];             // <0xXX> (or the one-byte piece); -1 if neither exists
  int32_t bos_id_ = 1, eos_id_ = 2;
  bool add_bos_ = true, add_eos_ = false, add_space_prefix_ = true;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_TEXT_TOKENIZER_H_
