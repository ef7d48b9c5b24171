// Tokenizer (see tokenizer.h): loading, the steps shared by both models (partition, escaping,
// character split, byte fallback, BOS/EOS); the merges are in spm.cc and bpe.cc.
#include "text/tokenizer.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <string_view>

#include "gguf/gguf.h"
#include "util/error.h"
#include "util/utf8.h"

namespace ggufembed {
namespace {

const std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, the visible space

}  // namespace

Result<Tokenizer> Tokenizer::FromGguf(const GgufFile& file) {
  GGUFEMBED_ASSIGN_OR_RETURN(std::string_view model, file.GetString("tokenizer.ggml.model"));
  Tokenizer t;
  if (model == "llama") {
    t.model_ = Model::kSentencePiece;
  } else if (model == "gemma4") {
    t.model_ = Model::kGemma4Bpe;
  } else {
    return Error(StatusCode::kUnsupported,
                 "%s: tokenizer model %s is not supported (supported: 'llama' "
                 "(SentencePiece), 'gemma4' (BPE))",
                 file.name().c_str(), Quote(model).c_str());
  }
  GGUFEMBED_ASSIGN_OR_RETURN(t.vocab_, Vocabulary::FromGguf(file));
  GGUFEMBED_RETURN_IF_ERROR(t.model_ == Model::kSentencePiece ? t.LoadScores(file)
                                                              : t.LoadMerges(file));
  t.MarkEndOfGeneration();
  GGUFEMBED_RETURN_IF_ERROR(t.ReadSpecialIds(file));
  return t;
}

// SentencePiece: tokenizer.ggml.scores, one per token (0 for every token when absent, as
// llama.cpp reads them).
Status Tokenizer::LoadScores(const GgufFile& file) {
  const size_t n = static_cast<size_t>(vocab_.size());
  GGUFEMBED_RETURN_IF_ERROR(CheckSameCount(file, "tokenizer.ggml.scores", n));
  if (file.FindKv("tokenizer.ggml.scores") != nullptr) {
    GGUFEMBED_ASSIGN_OR_RETURN(scores_, file.GetFloatArray("tokenizer.ggml.scores"));
  } else {
    scores_.assign(n, 0.0f);
  }
  if (scores_.size() != n) {
    return Error(StatusCode::kInvalidFile, "%s: %zu tokens but %zu scores", file.name().c_str(), n,
                 scores_.size());
  }
  // The merges are taken in score order: a NaN has none (the merge queue's order undefined).
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(scores_[i])) {
      return Error(StatusCode::kInvalidFile, "%s: the score of token %zu is NaN",
                   file.name().c_str(), i);
    }
  }
  return OkStatus();
}

// llama.cpp (llama_vocab::impl::load) takes the tokens with these texts for the end of a turn
// or of generation and makes them control tokens, whatever type the file gives them: Gemma's
// </s> is USER_DEFINED in converted files, yet without special parsing llama.cpp leaves the
// text "</s>" as text. (It also marks the first fill-in-the-middle names it meets, when the file
// has no ids for them; no Gemma vocabulary has any.) Then, where <|tool_response> ends turns
// (gemma4), </s> is an ordinary token.
void Tokenizer::MarkEndOfGeneration() {
  static constexpr std::string_view kEndOfGeneration[] = {
      "<|eot_id|>",
      "<|im_end|>",
      "<|end|>",
      "<|return|>",
      "<|call|>",
      "<|flush|>",
      "<|calls|>",
      "<end_of_turn>",
      "<|endoftext|>",
      "</s>",
      "<|eom_id|>",
      "<EOT>",
      "_<EOT>",
      "[EOT]",
      "[EOS]",
      "<|end_of_text|>",
      "<end_of_utterance>",
      "<eos>",
      "<turn|>",
      "<|tool_response>",
      "<\xEF\xBD\x9C"
      "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",  // <｜end▁of▁sentence｜>
      "[e~[",
  };
  for (std::string_view name : kEndOfGeneration) {
    const int32_t id = vocab_.Find(name);
    if (id >= 0) vocab_.MakeControl(id);
  }
  const int32_t eos_s = vocab_.Find("</s>");
  if (eos_s >= 0 && vocab_.Find("<|tool_response>") >= 0) vocab_.MakeNormal(eos_s);
}

// BOS/EOS ids and flags with llama.cpp's defaults: SentencePiece BOS 1, EOS 2, BOS added, a
// space prefix; gemma4 no default ids, BOS always added, no space prefix.
Status Tokenizer::ReadSpecialIds(const GgufFile& file) {
  const bool spm = model_ == Model::kSentencePiece;
  const size_t n = static_cast<size_t>(vocab_.size());
  auto id_key = [&](const char* key, int32_t fallback, int32_t* out) -> Status {
    if (file.FindKv(key) == nullptr) {
      *out = fallback;
      return OkStatus();
    }
    GGUFEMBED_ASSIGN_OR_RETURN(uint64_t id, file.GetUint(key));
    if (id >= n) {
      return Error(StatusCode::kInvalidFile, "%s: %s is %" PRIu64 ", but there are %zu tokens",
                   file.name().c_str(), key, id, n);
    }
    *out = static_cast<int32_t>(id);
    return OkStatus();
  };
  GGUFEMBED_RETURN_IF_ERROR(id_key("tokenizer.ggml.bos_token_id", spm ? 1 : -1, &bos_id_));
  GGUFEMBED_RETURN_IF_ERROR(id_key("tokenizer.ggml.eos_token_id", spm ? 2 : -1, &eos_id_));
  GGUFEMBED_ASSIGN_OR_RETURN(add_bos_, file.GetBoolOr("tokenizer.ggml.add_bos_token", spm));
  if (!spm) add_bos_ = true;
  GGUFEMBED_ASSIGN_OR_RETURN(add_eos_, file.GetBoolOr("tokenizer.ggml.add_eos_token", false));
  GGUFEMBED_ASSIGN_OR_RETURN(add_space_prefix_,
                             file.GetBoolOr("tokenizer.ggml.add_space_prefix", spm));
  for (auto [adds, id, key] : {std::tuple{add_bos_, bos_id_, "bos"}, {add_eos_, eos_id_, "eos"}}) {
    if (adds && (id < 0 || static_cast<size_t>(id) >= n)) {
      return Error(StatusCode::kInvalidFile,
                   "%s: the tokenizer adds %s, but tokenizer.ggml.%s_token_id is missing",
                   file.name().c_str(), key, key);
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

Status Tokenizer::CheckUtf8(std::string_view text) {
  if (const size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    return Error(StatusCode::kInvalidArgument, "text is not valid UTF-8 at byte %zu (0x%02X)", bad,
                 static_cast<uint8_t>(text[bad]));
  }
  return OkStatus();
}

Status Tokenizer::EncodeInto(std::string_view text, bool add_special, bool parse_special,
                             TokenizerScratch& scratch, std::vector<int32_t>* out) const {
  GGUFEMBED_RETURN_IF_ERROR(CheckUtf8(text));
  out->clear();
  if (add_special && add_bos_) out->push_back(bos_id_);
  bool after_special = true;  // a space prefix also applies to the first fragment
  vocab_.Partition(text, parse_special, scratch.fragments, scratch.partition);
  for (const TextFragment& f : scratch.fragments) {
    if (f.token >= 0) {
      out->push_back(f.token);
      after_special = true;
      continue;
    }
    GGUFEMBED_RETURN_IF_ERROR(
        EncodeFragment(text.substr(f.offset, f.length), after_special, scratch, *out));
    after_special = false;
  }
  if (add_special && add_eos_) out->push_back(eos_id_);
  return OkStatus();
}

Status Tokenizer::EncodeFragment(std::string_view text, bool after_special,
                                 TokenizerScratch& scratch, std::vector<int32_t>& out) const {
  std::string& escaped = scratch.escaped;
  escaped.clear();
  if (add_space_prefix_ && after_special) escaped = kSpaceMark;
  for (char c : text) {
    if (c == ' ') {
      escaped += kSpaceMark;
    } else {
      escaped += c;
    }
  }
  if (model_ == Model::kSentencePiece) {
    MergeByScore(escaped, scratch);
    return EmitSymbols(scratch, out);
  }
  // gemma4: runs of newlines and runs of everything else are merged on their own.
  const std::string_view all = escaped;
  for (size_t begin = 0; begin < all.size();) {
    const bool newlines = all[begin] == '\n';
    size_t end = begin;
    while (end < all.size() && (all[end] == '\n') == newlines) ++end;
    MergeByRank(all.substr(begin, end - begin), scratch);
    GGUFEMBED_RETURN_IF_ERROR(EmitSymbols(scratch, out));
    begin = end;
  }
  return OkStatus();
}

void Tokenizer::SplitCharacters(std::string_view text, TokenizerScratch& scratch) {
  // One symbol per UTF-8 character, its length taken from the lead byte (clipped at the end).
  std::vector<TokenizerScratch::Symbol>& symbols = scratch.symbols;
  symbols.clear();
  for (size_t offset = 0; offset < text.size();) {
    const size_t n =
        std::min(Utf8CharLength(static_cast<uint8_t>(text[offset])), text.size() - offset);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back(
        {index - 1, offset + n == text.size() ? -1 : index + 1, text.data() + offset, n});
    offset += n;
  }
}

Status Tokenizer::EmitSymbols(const TokenizerScratch& scratch, std::vector<int32_t>& out) const {
  // Each final symbol is a token, or its bytes. (llama.cpp's SentencePiece resegmentation would
  // also split a symbol into the two it was merged from, but only pieces of the vocabulary are
  // ever merged, so a symbol missing from the vocabulary is a single character.)
  const std::vector<TokenizerScratch::Symbol>& symbols = scratch.symbols;
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const std::string_view piece(symbols[i].text, symbols[i].n);
    if (const int32_t id = vocab_.Find(piece); id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {
      const int32_t id = vocab_.ByteToken(static_cast<uint8_t>(c));
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

}  // namespace ggufembed
