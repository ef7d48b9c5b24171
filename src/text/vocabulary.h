// Vocabulary: a GGUF token list with its types and lookups, shared by every tokenizer model:
// piece → id, the special tokens, the byte tokens, and the split of a text at special tokens.
#ifndef GGUFEMBED_TEXT_VOCABULARY_H_
#define GGUFEMBED_TEXT_VOCABULARY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "util/capacity.h"
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

// The length of tokenizer.ggml.tokens, read without decoding it: kInvalidFile unless it is an
// array of 1 to kMaxVocabulary pieces ("FILE: tokenizer.ggml.tokens has N pieces, more than the
// limit of 4194304").
Result<int> VocabularySize(const GgufFile& file);
// kInvalidFile when `key` is an array whose length is not `n_tokens` ("FILE: 4096 tokens but
// 1099511627776 entries in tokenizer.ggml.scores"); checked before the array is decoded.
Status CheckSameCount(const GgufFile& file, const char* key, uint64_t n_tokens);

// One raw-text range or one special token of a text, in text order.
struct TextFragment {
  int32_t token;  // -1 for raw text
  size_t offset, length;
};

// Working memory of Vocabulary::Partition, kept between calls.
struct PartitionScratch {
  std::vector<uint8_t> taken;  // per byte of the text: inside a special token found so far
  std::vector<std::pair<int32_t, size_t>> candidates;  // (id, offset) of one length's matches
  std::vector<TextFragment> found;                     // the special tokens, in any order

  size_t bytes() const {
    return CapacityBytes(taken) + CapacityBytes(candidates) + CapacityBytes(found);
  }
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

  // Splits `text` into `fragments` at special tokens as llama.cpp's tokenizer_st_partition does:
  // the longest special text first (equal lengths by id), each at its leftmost occurrences that
  // do not overlap one already found; CONTROL and UNKNOWN ones only when `parse_special`,
  // USER_DEFINED ones always.
  void Partition(std::string_view text, bool parse_special, std::vector<TextFragment>& fragments,
                 PartitionScratch& scratch) const;

 private:
  // The special tokens of one length, by a rolling hash of their text (open addressing).
  struct SpecialsOfLength {
    size_t length;
    uint64_t power;                // kHashBase^(length − 1), to roll the hash one byte on
    bool first_byte[256];          // the first bytes of these tokens
    std::vector<uint64_t> hashes;  // per slot
    std::vector<int32_t> ids;      // per slot, -1 for an empty one
  };

  Status Index(const std::string& file_name);
  // special_ids_ sorted and specials_by_length_ built from it.
  void IndexSpecials();
  // The special token of `group`'s length whose text is `window` (rolling hash `hash`), if it is
  // one `parse_special` allows; else -1.
  int32_t FindSpecial(const SpecialsOfLength& group, uint64_t hash, std::string_view window,
                      bool parse_special) const;

  std::shared_ptr<const FileBytes> bytes_;             // keeps `pieces_` valid
  std::vector<std::unique_ptr<std::string>> renamed_;  // "[EMPTY_i]" names of empty pieces
  std::vector<std::string_view> pieces_;
  std::vector<int32_t> types_;
  TextIndex index_;                   // piece text -> id
  std::vector<int32_t> special_ids_;  // CONTROL, USER_DEFINED, UNKNOWN; longest text first
  std::vector<SpecialsOfLength> specials_by_length_;  // longest first
  int32_t byte_ids_[256];
  size_t max_piece_bytes_ = 4;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_TEXT_VOCABULARY_H_
