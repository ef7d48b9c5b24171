// SentencePiece tokenization as llama.cpp's `llm_tokenizer_spm_session` does it, step for step:
// partition by special tokens, escape spaces, bigram merge by score, resegment, byte fallback.
#include "text/tokenizer.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "util/utf8.h"

namespace ggufembed {
namespace {

constexpr int32_t kTypeNormal = 1;
constexpr int32_t kTypeUnknown = 2;
constexpr int32_t kTypeControl = 3;
constexpr int32_t kTypeUserDefined = 4;

const std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

using Bigram = TokenizerScratch::Bigram;

// Highest score first; on equal scores the leftmost pair first (llama.cpp's comparator).
struct BigramOrder {
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

// FNV-1a: short keys, good spread, no library dependence.
uint64_t HashPiece(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

}  // namespace

Result<Tokenizer> Tokenizer::FromGguf(const GgufFile& file) {
  GGUFEMBED_ASSIGN_OR_RETURN(std::string_view model, file.GetString("tokenizer.ggml.model"));
  if (model != "llama") {
    return Error(StatusCode::kUnsupported,
                 "%s: tokenizer model '%.*s' is not supported (only 'llama', SentencePiece)",
                 file.name().c_str(), static_cast<int>(model.size()), model.data());
  }
  Tokenizer t;
  t.bytes_ = file.shared_bytes();
  GGUFEMBED_ASSIGN_OR_RETURN(t.pieces_, file.GetStringArray("tokenizer.ggml.tokens"));
  const size_t n = t.pieces_.size();
  if (n == 0 || n > static_cast<size_t>(INT32_MAX)) {
    return Error(StatusCode::kInvalidFile, "%s: tokenizer.ggml.tokens has %zu entries",
                 file.name().c_str(), n);
  }
  if (file.FindKv("tokenizer.ggml.scores") != nullptr) {
    GGUFEMBED_ASSIGN_OR_RETURN(t.scores_, file.GetFloatArray("tokenizer.ggml.scores"));
  } else {
    t.scores_.assign(n, 0.0f);
  }
  if (file.FindKv("tokenizer.ggml.token_type") != nullptr) {
    GGUFEMBED_ASSIGN_OR_RETURN(t.types_, file.GetInt32Array("tokenizer.ggml.token_type"));
  } else {
    t.types_.assign(n, kTypeNormal);
  }
  if (t.scores_.size() != n || t.types_.size() != n) {
    return Error(StatusCode::kInvalidFile,
                 "%s: %zu tokens but %zu scores and %zu token types", file.name().c_str(), n,
                 t.scores_.size(), t.types_.size());
  }

  // Defaults are llama.cpp's for SentencePiece vocabularies.
  auto id_key = [&](const char* key, int32_t fallback, int32_t* out) -> Status {
    GGUFEMBED_ASSIGN_OR_RETURN(uint64_t id, file.GetUintOr(key, static_cast<uint64_t>(fallback)));
    if (id >= n) {
      return Error(StatusCode::kInvalidFile, "%s: %s is %" PRIu64 ", but there are %zu tokens",
                   file.name().c_str(), key, id, n);
    }
    *out = static_cast<int32_t>(id);
    return OkStatus();
  };
  GGUFEMBED_RETURN_IF_ERROR(id_key("tokenizer.ggml.bos_token_id", 1, &t.bos_id_));
  GGUFEMBED_RETURN_IF_ERROR(id_key("tokenizer.ggml.eos_token_id", 2, &t.eos_id_));
  GGUFEMBED_ASSIGN_OR_RETURN(t.add_bos_, file.GetBoolOr("tokenizer.ggml.add_bos_token", true));
  GGUFEMBED_ASSIGN_OR_RETURN(t.add_eos_, file.GetBoolOr("tokenizer.ggml.add_eos_token", false));
  GGUFEMBED_ASSIGN_OR_RETURN(t.add_space_prefix_,
                             file.GetBoolOr("tokenizer.ggml.add_space_prefix", true));

  GGUFEMBED_RETURN_IF_ERROR(t.IndexPieces(file.name()));
  return t;
}

// Builds the lookups over the pieces: the hash table (duplicates are an error), the special
// tokens longest first, and the byte tokens.
Status Tokenizer::IndexPieces(const std::string& file_name) {
  const size_t n = pieces_.size();
  size_t slots = 1;
  while (slots < 2 * n) slots <<= 1;  // load factor <= 1/2
  piece_slots_.assign(slots, -1);
  slot_mask_ = slots - 1;
  for (size_t i = 0; i < n; ++i) {
    if (pieces_[i].empty()) {  // llama.cpp renames empty pieces so they stay unique
      renamed_.push_back(std::make_unique<std::string>("[EMPTY_" + std::to_string(i) + "]"));
      pieces_[i] = *renamed_.back();
    }
    for (uint64_t slot = HashPiece(pieces_[i]) & slot_mask_;; slot = (slot + 1) & slot_mask_) {
      const int32_t other = piece_slots_[slot];
      if (other < 0) {
        piece_slots_[slot] = static_cast<int32_t>(i);
        break;
      }
      if (pieces_[other] == pieces_[i]) {
        return Error(StatusCode::kInvalidFile, "%s: tokens %d and %zu have the same text '%.*s'",
                     file_name.c_str(), other, i, static_cast<int>(pieces_[i].size()),
                     pieces_[i].data());
      }
    }
    const int32_t type = types_[i];
    if (type == kTypeControl || type == kTypeUserDefined || type == kTypeUnknown) {
      special_ids_.push_back(static_cast<int32_t>(i));
    }
  }
  // Longest first; equal lengths by id, so the order is deterministic.
  std::stable_sort(special_ids_.begin(), special_ids_.end(), [&](int32_t a, int32_t b) {
    return pieces_[a].size() > pieces_[b].size();
  });
  for (int c = 0; c < 256; ++c) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "<0x%02X>", c);
    int32_t id = Find(hex);
    if (id < 0) id = Find(std::string_view(reinterpret_cast<const char*>(&c), 1));
    byte_ids_[c] = id;
  }
  return OkStatus();
}

int32_t Tokenizer::Find(std::string_view piece) const {
  for (uint64_t slot = HashPiece(piece) & slot_mask_;; slot = (slot + 1) & slot_mask_) {
    const int32_t id = piece_slots_[slot];
    if (id < 0 || pieces_[id] == piece) return id;
  }
}

void Tokenizer::Partition(std::string_view text, bool parse_special,
                          TokenizerScratch& scratch) const {
  std::vector<TokenizerScratch::Fragment>& fragments = scratch.fragments;
  std::vector<TokenizerScratch::Fragment>& next = scratch.next_fragments;
  fragments.clear();
  if (!text.empty()) fragments.push_back({-1, 0, text.size()});
  // Cheap filter: a special token can only occur if its first byte does.
  bool present[256] = {};
  for (char c : text) present[static_cast<uint8_t>(c)] = true;
  for (int32_t id : special_ids_) {
    const int32_t type = types_[id];
    if (!parse_special && (type == kTypeControl || type == kTypeUnknown)) continue;
    const std::string_view special = pieces_[id];
    if (!present[static_cast<uint8_t>(special[0])]) continue;
    next.clear();
    for (const TokenizerScratch::Fragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      // Split the raw range at each non-overlapping match, left to right.
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
}

Status Tokenizer::EncodeRaw(std::string_view text, TokenizerScratch& scratch,
                            std::vector<int32_t>& out) const {
  // One symbol per UTF-8 character, its length taken from the lead byte (clipped at the end).
  std::vector<TokenizerScratch::Symbol>& symbols = scratch.symbols;
  symbols.clear();
  for (size_t offset = 0; offset < text.size();) {
    const size_t n = std::min(Utf8CharLength(static_cast<uint8_t>(text[offset])),
                              text.size() - offset);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, offset + n == text.size() ? -1 : index + 1,
                       text.data() + offset, n});
    offset += n;
  }

  // A max-heap with llama.cpp's priority_queue order (push_heap/pop_heap are what it uses).
  std::vector<Bigram>& queue = scratch.queue;
  queue.clear();
  auto try_add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const std::string_view merged(symbols[left].text, symbols[left].n + symbols[right].n);
    const int32_t id = Find(merged);
    if (id < 0) return;
    queue.push_back({left, right, scores_[id], merged.size()});
    std::push_heap(queue.begin(), queue.end(), BigramOrder());
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), BigramOrder());
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

  // Each final symbol is a token, or its bytes. llama.cpp's resegmentation would also split a
  // symbol into the two it was merged from, but only pieces of the vocabulary are ever merged,
  // so a symbol missing from the vocabulary is always a single character: byte fallback.
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const std::string_view piece(symbols[i].text, symbols[i].n);
    if (const int32_t id = Find(piece); id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {
      const int32_t id = byte_ids_[static_cast<uint8_t>(c)];
      if (id < 0) {
        return Error(StatusCode::kUnsupported,
                     "the vocabulary has no token for byte 0x%02X (no <0x%02X> piece)",
                     static_cast<uint8_t>(c), static_cast<uint8_t>(c));
      }
      out.push_back(id);
    }
  }
  return OkStatus();
}

Result<std::vector<int32_t>> Tokenizer::Encode(std::string_view text, bool add_special,
                                              bool parse_special) const {
  TokenizerScratch scratch;
  std::vector<int32_t> out;
  GGUFEMBED_RETURN_IF_ERROR(EncodeInto(text, add_special, parse_special, scratch, &out));
  return out;
}

Status Tokenizer::EncodeInto(std::string_view text, bool add_special, bool parse_special,
                             TokenizerScratch& scratch, std::vector<int32_t>* out) const {
  if (const size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    return Error(StatusCode::kInvalidArgument, "text is not valid UTF-8 at byte %zu (0x%02X)",
                 bad, static_cast<uint8_t>(text[bad]));
  }
  out->clear();
  if (add_special && add_bos_) out->push_back(bos_id_);
  bool previous_special = true;  // a space prefix also applies to the first fragment
  std::string& escaped = scratch.escaped;
  Partition(text, parse_special, scratch);
  for (const TokenizerScratch::Fragment& f : scratch.fragments) {
    if (f.token >= 0) {
      out->push_back(f.token);
      previous_special = true;
      continue;
    }
    escaped.clear();
    if (add_space_prefix_ && previous_special) escaped = kSpaceMark;
    for (char c : text.substr(f.offset, f.length)) {
      if (c == ' ') {
        escaped += kSpaceMark;
      } else {
        escaped += c;
      }
    }
    GGUFEMBED_RETURN_IF_ERROR(EncodeRaw(escaped, scratch, *out));
    previous_special = false;
  }
  if (add_special && add_eos_) out->push_back(eos_id_);
  return OkStatus();
}

}  // namespace ggufembed
