// Vocabulary: a GGUF token list with its types and lookups, shared by every tokenizer model:
// piece → id, the special tokens, the byte tokens, and the split of a text at special tokens.
#ifndef GGUFEMBED_TEXT_VOCABULARY_H_
#define GGUFEMBED_TEXT_VOCABULARY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "util/text_index.h"

namespace ggufembed {

// llama.cpp's token types (tokenizer.ggml.token_type).
inline constexpr int32_t kTokenNormal = 1;
inline constexpr int32_t kTokenUnknown = 2;
inline constexpr int32_t kTokenControl = 3;
inline constexpr int32_t kTokenUserDefined = 4;
inline constexpr int32_t kTokenUnused = 5;
inline constexpr int32_t kTokenByte = 6;

// The most pieces a vocabulary may have: 4,194,304, 16 times Gemma's 262,144 (the largest
// vocabularies of released models are about 10^6). A file claiming more is refused before
// anything is allocated for it.
inline constexpr uint64_t kMaxVocabulary = uint64_t{1} << 22;

// kInvalidFile unless 1 <= `count` <= kMaxVocabulary: "FILE: tokenizer.ggml.tokens has N
// pieces, more than the limit of 4194304".
Status CheckVocabularySize(const GgufFile& file, uint64_t count);
// kInvalidFile when `key` is an array whose length is not `n_tokens` ("FILE: 4096 tokens but
// 1099511627776 entries in tokenizer.ggml.scores"); checked before the array is decoded.
Status CheckSameCount(const GgufFile& file, const char* key, uint64_t n_tokens);

// One raw-text range or one special token of a text, in text order.
struct TextFragment {
  int32_t token;  // -1 for raw text
  size_t offset, length;
};

class Vocabulary {
 public:
  // Reads tokenizer.ggml.tokens and token_type (NORMAL when absent). Piece texts stay views into
  // the file's bytes, which the vocabulary keeps alive. Duplicate pieces are an error.
  static Result<Vocabulary> FromGguf(const GgufFile& file);

  int32_t size() const { return static_cast<int32_t>(pieces_.size()); }
  std::string_view Piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }
  int32_t Type(int32_t id) const { return types_[static_cast<size_t>(id)]; }
  // The id of `piece`, or -1.
  int32_t Find(std::string_view piece) const;
  // The token of byte `b`: <0xXX>, or the one-byte piece; -1 if neither exists.
  int32_t ByteToken(uint8_t b) const { return byte_ids_[b]; }

  // The longest piece in bytes (at least 4, a whole UTF-8 character): no token stands for more
  // bytes of text, so a text of B bytes has at least B / max_piece_bytes() tokens.
  size_t max_piece_bytes() const { return max_piece_bytes_; }

  // Makes `id` a NORMAL token, no longer split out of texts as a special one.
  void MakeNormal(int32_t id);
  // Makes `id` a CONTROL token: split out of texts only when special tokens are parsed.
  void MakeControl(int32_t id);

  // Splits `text` into `fragments` at special tokens, longest text first (llama.cpp's
  // tokenizer_st_partition): CONTROL and UNKNOWN ones only when `parse_special`, USER_DEFINED
  // ones always. `next` is working memory.
  void Partition(std::string_view text, bool parse_special, std::vector<TextFragment>& fragments,
                 std::vector<TextFragment>& next) const;

 private:
  Status Index(const std::string& file_name);

  std::shared_ptr<const FileBytes> bytes_;             // keeps `pieces_` valid
  std::vector<std::unique_ptr<std::string>> renamed_;  // "[EMPTY_i]" names of empty pieces
  std::vector<std::string_view> pieces_;
  std::vector<int32_t> types_;
  TextIndex index_;                   // piece text -> id
  std::vector<int32_t> special_ids_;  // CONTROL, USER_DEFINED, UNKNOWN; longest text first
  int32_t byte_ids_[256];
  size_t max_piece_bytes_ = 4;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_TEXT_VOCABULARY_H_
