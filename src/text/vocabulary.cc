// Vocabulary (see vocabulary.h): the token list, its hash index, special and byte tokens.
#include "text/vocabulary.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace ggufembed {

Status CheckVocabularySize(const GgufFile& file, uint64_t count) {
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
  return OkStatus();
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
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufValue tokens, file.GetArray("tokenizer.ggml.tokens"));
  GGUFEMBED_RETURN_IF_ERROR(CheckVocabularySize(file, tokens.count));
  GGUFEMBED_RETURN_IF_ERROR(CheckSameCount(file, "tokenizer.ggml.token_type", tokens.count));
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
    return Error(StatusCode::kInvalidFile, "%s: tokens %d and %d have the same text '%.*s'",
                 file_name.c_str(), duplicate->first, duplicate->second,
                 static_cast<int>(piece.size()), piece.data());
  }
  // Longest first; equal lengths by id, so the order is deterministic.
  std::stable_sort(special_ids_.begin(), special_ids_.end(),
                   [&](int32_t a, int32_t b) { return pieces_[a].size() > pieces_[b].size(); });
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
  // In Index's order: longest first, equal lengths by id.
  const auto before = [&](int32_t a, int32_t b) {
    return pieces_[a].size() > pieces_[b].size() ||
           (pieces_[a].size() == pieces_[b].size() && a < b);
  };
  special_ids_.insert(std::upper_bound(special_ids_.begin(), special_ids_.end(), id, before), id);
}

void Vocabulary::MakeNormal(int32_t id) {
  types_[static_cast<size_t>(id)] = kTokenNormal;
  special_ids_.erase(std::remove(special_ids_.begin(), special_ids_.end(), id), special_ids_.end());
}

void Vocabulary::Partition(std::string_view text, bool parse_special,
                           std::vector<TextFragment>& fragments,
                           std::vector<TextFragment>& next) const {
  fragments.clear();
  if (!text.empty()) fragments.push_back({-1, 0, text.size()});
  // Cheap filter: a special token can only occur if its first byte does.
  bool present[256] = {};
  for (char c : text) present[static_cast<uint8_t>(c)] = true;
  for (int32_t id : special_ids_) {
    const int32_t type = types_[id];
    if (!parse_special && (type == kTokenControl || type == kTokenUnknown)) continue;
    const std::string_view special = pieces_[id];
    if (!present[static_cast<uint8_t>(special[0])]) continue;
    next.clear();
    for (const TextFragment& f : fragments) {
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

}  // namespace ggufembed
