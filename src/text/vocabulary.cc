// Vocabulary (see vocabulary.h): the token list, its hash index, special and byte tokens.
#include "text/vocabulary.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "gguf/gguf.h"
#include "util/error.h"

namespace ggufembed {

Result<int> VocabularySize(const GgufFile& file) {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufValue tokens, file.GetArray("tokenizer.ggml.tokens"));
  const uint64_t count = tokens.count;
  if (count == 0) {
    return Error(StatusCode::kInvalidFile, "%s: tokenizer.ggml.tokens is empty",
                 file.name().c_str());
  }
  if (count > kMaxVocabulary) {
    return Error(StatusCode::kInvalidFile,
                 "%s: tokenizer.ggml.tokens has %" PRIu64
                 " pieces, more than the limit of %" PRIu64,
                 file.name().c_str(), count, kMaxVocabulary);
  }
  return static_cast<int>(count);
}

Status CheckSameCount(const GgufFile& file, const char* key, uint64_t n_tokens) {
  const GgufKv* kv = file.FindKv(key);
  if (kv != nullptr && kv->value.is_array() && kv->value.count != n_tokens) {
    return Error(StatusCode::kInvalidFile, "%s: %" PRIu64 " tokens but %" PRIu64 " entries in %s",
                 file.name().c_str(), n_tokens, kv->value.count, key);
  }
  return OkStatus();
}

Result<Vocabulary> Vocabulary::FromGguf(const GgufFile& file) {
  Vocabulary v;
  v.bytes_ = file.shared_bytes();
  // Sizes first: nothing is decoded for an array of the wrong length.
  GGUFEMBED_ASSIGN_OR_RETURN(const int n_tokens, VocabularySize(file));
  GGUFEMBED_RETURN_IF_ERROR(CheckSameCount(file, "tokenizer.ggml.token_type", n_tokens));
  GGUFEMBED_ASSIGN_OR_RETURN(v.pieces_, file.GetStringArray("tokenizer.ggml.tokens"));
  const size_t n = v.pieces_.size();
  if (file.FindKv("tokenizer.ggml.token_type") != nullptr) {
    GGUFEMBED_ASSIGN_OR_RETURN(v.types_, file.GetInt32Array("tokenizer.ggml.token_type"));
  } else {
    v.types_.assign(n, kTokenNormal);
  }
  if (v.types_.size() != n) {
    return Error(StatusCode::kInvalidFile, "%s: %zu tokens but %zu token types",
                 file.name().c_str(), n, v.types_.size());
  }
  GGUFEMBED_RETURN_IF_ERROR(v.Index(file.name()));
  return v;
}

Status Vocabulary::Index(const std::string& file_name) {
  const size_t n = pieces_.size();
  for (size_t i = 0; i < n; ++i) {
    if (pieces_[i].empty()) {  // llama.cpp renames empty pieces so they stay unique
      renamed_.push_back(std::make_unique<std::string>("[EMPTY_" + std::to_string(i) + "]"));
      pieces_[i] = *renamed_.back();
    }
    max_piece_bytes_ = std::max(max_piece_bytes_, pieces_[i].size());
    const int32_t type = types_[i];
    if (type == kTokenControl || type == kTokenUserDefined || type == kTokenUnknown) {
      special_ids_.push_back(static_cast<int32_t>(i));
    }
  }
  const auto duplicate = index_.Build(
      n, [&](size_t i) { return HashText(pieces_[i]); },
      [&](int32_t a, int32_t b) { return pieces_[a] == pieces_[b]; });
  if (duplicate) {
    const std::string_view piece = pieces_[duplicate->first];
    return Error(StatusCode::kInvalidFile, "%s: tokens %d and %d have the same text %s",
                 file_name.c_str(), duplicate->first, duplicate->second, Quote(piece).c_str());
  }
  IndexSpecials();
  for (int c = 0; c < 256; ++c) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "<0x%02X>", c);
    int32_t id = Find(hex);
    if (id < 0) id = Find(std::string_view(reinterpret_cast<const char*>(&c), 1));
    byte_ids_[c] = id;
  }
  return OkStatus();
}

int32_t Vocabulary::Find(std::string_view piece) const {
  return index_.Find(HashText(piece), [&](int32_t id) { return pieces_[id] == piece; });
}

void Vocabulary::MakeControl(int32_t id) {
  types_[static_cast<size_t>(id)] = kTokenControl;
  if (std::find(special_ids_.begin(), special_ids_.end(), id) != special_ids_.end()) return;
  special_ids_.push_back(id);
  IndexSpecials();
}

void Vocabulary::MakeNormal(int32_t id) {
  types_[static_cast<size_t>(id)] = kTokenNormal;
  special_ids_.erase(std::remove(special_ids_.begin(), special_ids_.end(), id), special_ids_.end());
  IndexSpecials();
}

namespace {

// The rolling hash of Partition: a polynomial in an odd base, modulo 2^64. Matches are checked
// byte for byte, so a collision costs a comparison, never a wrong token.
constexpr uint64_t kHashBase = 0x100000001B3;  // FNV's 64-bit prime

uint64_t HashOf(std::string_view s) {
  uint64_t h = 0;
  for (char c : s) h = h * kHashBase + static_cast<uint8_t>(c);
  return h;
}

size_t SlotOf(uint64_t hash, size_t slots) {  // slots: a power of two
  return static_cast<size_t>((hash * 0x9E3779B97F4A7C15u) >> 32) & (slots - 1);
}

}  // namespace

void Vocabulary::IndexSpecials() {
  // Longest first; equal lengths by id, so the order is deterministic.
  std::sort(special_ids_.begin(), special_ids_.end(), [&](int32_t a, int32_t b) {
    return pieces_[a].size() != pieces_[b].size() ? pieces_[a].size() > pieces_[b].size() : a < b;
  });
  specials_by_length_.clear();
  for (size_t i = 0; i < special_ids_.size();) {
    const size_t length = pieces_[special_ids_[i]].size();
    size_t end = i;
    while (end < special_ids_.size() && pieces_[special_ids_[end]].size() == length) ++end;
    SpecialsOfLength& group = specials_by_length_.emplace_back();
    group.length = length;
    group.power = 1;
    for (size_t k = 1; k < length; ++k) group.power *= kHashBase;
    std::fill_n(group.first_byte, 256, false);
    size_t slots = 2;
    while (slots < 2 * (end - i)) slots *= 2;  // at most half full
    group.hashes.assign(slots, 0);
    group.ids.assign(slots, -1);
    for (; i < end; ++i) {
      const std::string_view piece = pieces_[special_ids_[i]];
      group.first_byte[static_cast<uint8_t>(piece[0])] = true;
      const uint64_t hash = HashOf(piece);
      size_t slot = SlotOf(hash, slots);
      while (group.ids[slot] >= 0) slot = (slot + 1) & (slots - 1);
      group.hashes[slot] = hash;
      group.ids[slot] = special_ids_[i];
    }
  }
}

int32_t Vocabulary::FindSpecial(const SpecialsOfLength& group, uint64_t hash,
                                std::string_view window, bool parse_special) const {
  const size_t slots = group.ids.size();
  for (size_t slot = SlotOf(hash, slots); group.ids[slot] >= 0; slot = (slot + 1) & (slots - 1)) {
    const int32_t id = group.ids[slot];
    if (group.hashes[slot] != hash || pieces_[id] != window) continue;
    const int32_t type = types_[id];
    return !parse_special && (type == kTokenControl || type == kTokenUnknown) ? -1 : id;
  }
  return -1;
}

void Vocabulary::Partition(std::string_view text, bool parse_special,
                           std::vector<TextFragment>& fragments, PartitionScratch& s) const {
  // One pass over the text per length of special token (with a byte that starts one), instead of
  // one per special token: llama.cpp's way, a search of the whole text for each of Gemma's 6,415
  // special tokens, took 10 s on 120 KB of '<'. The order is llama.cpp's all the same: lengths
  // longest first, and within a length the tokens by id, each at its leftmost occurrences that
  // overlap no token found before it.
  fragments.clear();
  const size_t n = text.size();
  if (n == 0) return;
  bool present[256] = {};
  for (char c : text) present[static_cast<uint8_t>(c)] = true;
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  s.found.clear();
  bool scanned = false;
  for (const SpecialsOfLength& group : specials_by_length_) {
    const size_t length = group.length;
    if (length > n) continue;
    bool possible = false;
    for (int b = 0; b < 256 && !possible; ++b) possible = group.first_byte[b] && present[b];
    if (!possible) continue;
    if (!scanned) {
      s.taken.assign(n, 0);
      scanned = true;
    }
    // Every occurrence of this length's tokens that starts outside the tokens found so far.
    s.candidates.clear();
    uint64_t hash = HashOf(text.substr(0, length));
    for (size_t p = 0;; ++p) {
      if (group.first_byte[byte(p)] && !s.taken[p]) {
        const int32_t id = FindSpecial(group, hash, text.substr(p, length), parse_special);
        if (id >= 0) s.candidates.emplace_back(id, p);
      }
      if (p + length >= n) break;
      hash = (hash - byte(p) * group.power) * kHashBase + byte(p + length);
    }
    // By id, each id's occurrences left to right (stable: they were found in text order). An
    // occurrence overlaps a token found before it exactly when its first or its last byte is
    // inside one: those are never shorter.
    std::stable_sort(s.candidates.begin(), s.candidates.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [id, p] : s.candidates) {
      if (s.taken[p] || s.taken[p + length - 1]) continue;
      std::fill_n(s.taken.begin() + static_cast<std::ptrdiff_t>(p), length, uint8_t{1});
      s.found.push_back({id, p, length});
    }
  }
  std::sort(s.found.begin(), s.found.end(),
            [](const TextFragment& a, const TextFragment& b) { return a.offset < b.offset; });
  size_t at = 0;
  for (const TextFragment& f : s.found) {
    if (f.offset > at) fragments.push_back({-1, at, f.offset - at});
    fragments.push_back({f.token, 0, 0});
    at = f.offset + f.length;
  }
  if (at < n) fragments.push_back({-1, at, n - at});
}

}  // namespace ggufembed
