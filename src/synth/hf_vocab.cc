// Converts a Hugging Face tokenizer.json to the token, score, type and merge arrays of a GGUF.
#include "synth/hf_vocab.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "gguf/file_bytes.h"
#include "util/error.h"
#include "util/json.h"
#include "util/text_index.h"

namespace ggufembed {
namespace {

// The score of byte pieces and of pieces no merge produces ("llama"): below every merge score
// (merge ranks stay far below 1e9) and exactly representable as a float.
constexpr float kUnmergedScore = -1e9f;
// llama.cpp's converter gives every token of a Gemma 4 vocabulary this score.
constexpr float kGemma4Score = -1000.0f;

// Reports problems as "<name>: <json path>: <what>".
class Reporter {
 public:
  explicit Reporter(const std::string& name) : name_(name) {}

  Status Fail(StatusCode code, const std::string& path, const std::string& what) const {
    return Status(code, name_ + ": " + path + ": " + what);
  }
  Status Invalid(const std::string& path, const std::string& what) const {
    return Fail(StatusCode::kInvalidArgument, path, what);
  }

 private:
  const std::string& name_;
};

// `s` as a JSON string literal, for paths and messages.
std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

std::string Describe(const JsonValue& v) {
  std::string out = JsonValue::KindName(v.kind());
  if (v.is_number()) {
    out += ' ';
    AppendJsonDouble(out, v.AsDouble());
  }
  if (v.is_string()) out += " " + Quoted(v.AsString());
  return out;
}

// Member `key` of `parent` (at `path`), which must exist and be of `kind`.
Result<JsonValue> Member(const Reporter& r, const JsonValue& parent, const std::string& path,
                         std::string_view key, JsonValue::Kind kind) {
  const std::string child_path = path.empty() ? std::string(key) : path + "." + std::string(key);
  const std::optional<JsonValue> v = parent.Find(key);
  if (!v) return r.Invalid(child_path, "missing");
  if (v->kind() != kind) {
    return r.Invalid(child_path, std::string("expected ") + JsonValue::KindName(kind) + ", found " +
                                     Describe(*v));
  }
  return *v;
}

// A token id: an integer literal in [0, INT32_MAX).
Result<int32_t> TokenId(const Reporter& r, const JsonValue& v, const std::string& path) {
  const std::optional<int64_t> id = v.AsInt64();
  if (!id || *id < 0 || *id >= INT32_MAX) {
    return r.Invalid(path,
                     "expected a token id (an integer from 0 to 2^31 - 2), found " + Describe(v));
  }
  return static_cast<int32_t>(*id);
}

bool IsBytePiece(std::string_view s) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  return s.size() == 6 && s.substr(0, 3) == "<0x" && hex(s[3]) && hex(s[4]) && s[5] == '>';
}

// Token text -> id (a 262144-token vocabulary is looked up 1.5 million times for the merges).
class PieceIndex {
 public:
  // Indexes `tokens`; returns the ids of the first text found twice, if any.
  std::optional<std::pair<int32_t, int32_t>> Build(const std::vector<std::string>& tokens) {
    tokens_ = &tokens;
    return index_.Build(
        tokens.size(), [&](size_t i) { return HashText(tokens[i]); },
        [&](int32_t a, int32_t b) { return tokens[a] == tokens[b]; });
  }

  // The id of `text`, or -1.
  int32_t Find(std::string_view text) const {
    return index_.Find(HashText(text), [&](int32_t id) { return (*tokens_)[id] == text; });
  }

 private:
  const std::vector<std::string>* tokens_ = nullptr;
  TextIndex index_;
};

// Everything but the scores, which depend on the model.
struct Tokens {
  std::vector<std::string> text;
  std::vector<int32_t> types;
  std::vector<bool> added;
  std::vector<std::string> merges;    // "left right"
  std::vector<int32_t> merge_result;  // id of left + right, per merge
  int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
};

Status CheckModelType(const Reporter& r, const JsonValue& model) {
  GGUFEMBED_ASSIGN_OR_RETURN(JsonValue type,
                             Member(r, model, "model", "type", JsonValue::Kind::kString));
  if (type.AsString() != "BPE") {
    return r.Fail(StatusCode::kUnsupported, "model.type",
                  "only \"BPE\" tokenizers are supported, found " + Quoted(type.AsString()));
  }
  // Without byte fallback the GGUF tokenizers would map unknown characters differently (and
  // llama.cpp's LlamaHfVocab refuses such files too).
  GGUFEMBED_ASSIGN_OR_RETURN(JsonValue fallback,
                             Member(r, model, "model", "byte_fallback", JsonValue::Kind::kBool));
  if (!fallback.AsBool()) {
    return r.Fail(StatusCode::kUnsupported, "model.byte_fallback",
                  "must be true (byte-fallback BPE is the only kind supported)");
  }
  return OkStatus();
}

struct AddedToken {
  int32_t id;
  std::string_view content;
  bool special;
};

Result<std::vector<AddedToken>> ReadAddedTokens(const Reporter& r, const JsonValue& root) {
  std::vector<AddedToken> added;
  GGUFEMBED_ASSIGN_OR_RETURN(JsonValue list,
                             Member(r, root, "", "added_tokens", JsonValue::Kind::kArray));
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    const JsonValue entry = list[i];
    if (!entry.is_object()) return r.Invalid(path, "expected an object, found " + Describe(entry));
    GGUFEMBED_ASSIGN_OR_RETURN(JsonValue id,
                               Member(r, entry, path, "id", JsonValue::Kind::kNumber));
    GGUFEMBED_ASSIGN_OR_RETURN(JsonValue content,
                               Member(r, entry, path, "content", JsonValue::Kind::kString));
    GGUFEMBED_ASSIGN_OR_RETURN(JsonValue special,
                               Member(r, entry, path, "special", JsonValue::Kind::kBool));
    GGUFEMBED_ASSIGN_OR_RETURN(int32_t token_id, TokenId(r, id, path + ".id"));
    added.push_back({token_id, content.AsString(), special.AsBool()});
  }
  return added;
}

std::string VocabPath(const JsonValue& vocab, size_t i) {
  return "model.vocab[" + Quoted(vocab.KeyAt(i)) + "]";
}

// Fills the token texts in id order from `model.vocab` and `added_tokens`.
Status ReadTokenTexts(const Reporter& r, const JsonValue& vocab,
                      const std::vector<AddedToken>& added, Tokens& t) {
  std::vector<int32_t> ids(vocab.size());
  int64_t max_id = -1;
  for (size_t i = 0; i < vocab.size(); ++i) {
    const JsonValue id = vocab.ValueAt(i);
    const std::optional<int64_t> value = id.AsInt64();
    if (!value || *value < 0 || *value >= INT32_MAX) {  // the path is built for errors only
      return TokenId(r, id, VocabPath(vocab, i)).status();
    }
    ids[i] = static_cast<int32_t>(*value);
    max_id = std::max<int64_t>(max_id, ids[i]);
  }
  for (const AddedToken& a : added) max_id = std::max<int64_t>(max_id, a.id);
  const size_t n = static_cast<size_t>(max_id + 1);
  // Checked before allocating: a hostile id of 2^31 - 2 must not allocate 2^31 strings.
  if (n > vocab.size() + added.size()) {
    return r.Invalid("model.vocab", "token ids are not contiguous: the largest is " +
                                        std::to_string(max_id) + " but there are only " +
                                        std::to_string(vocab.size() + added.size()) + " entries");
  }
  t.text.assign(n, std::string());
  std::vector<bool> present(n, false);
  for (size_t i = 0; i < vocab.size(); ++i) {
    const int32_t id = ids[i];
    if (present[id]) {
      return r.Invalid(VocabPath(vocab, i),
                       "id " + std::to_string(id) + " is also the id of " + Quoted(t.text[id]));
    }
    present[id] = true;
    t.text[id] = vocab.KeyAt(i);
  }
  t.added.assign(n, false);
  for (size_t i = 0; i < added.size(); ++i) {
    const AddedToken& a = added[i];
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    if (t.added[a.id]) {
      return r.Invalid(path, "id " + std::to_string(a.id) + " is added twice");
    }
    if (present[a.id] && t.text[a.id] != a.content) {
      return r.Invalid(path, "content " + Quoted(a.content) + " differs from model.vocab's " +
                                 "piece of id " + std::to_string(a.id) + ", " +
                                 Quoted(t.text[a.id]));
    }
    present[a.id] = true;
    t.added[a.id] = true;
    t.text[a.id] = a.content;
  }
  for (size_t id = 0; id < n; ++id) {
    if (!present[id]) {
      return r.Invalid("model.vocab", "no token has id " + std::to_string(id) + " (ids run to " +
                                          std::to_string(max_id) + ")");
    }
  }
  return OkStatus();
}

// Whether llama.cpp's converter takes an added token for a control one although tokenizer.json
// says it is not special (conversion/base.py, does_token_look_special): Gemma's <mask> and
// <unusedN> — not its </s>.
bool LooksSpecial(std::string_view s) {
  const auto wrapped = [&](std::string_view open, std::string_view close) {
    return s.substr(0, open.size()) == open && s.size() >= close.size() &&
           s.substr(s.size() - close.size()) == close;
  };
  return s == "<pad>" || s == "<mask>" || s == "<2mass>" || s == "[@BOS@]" || wrapped("<|", "|>") ||
         wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") ||  // <｜ ｜>
         wrapped("<unused", ">");
}

// Types and special ids (llama.cpp's LlamaHfVocab rules: added tokens are CONTROL when special
// or LooksSpecial, else USER_DEFINED).
void AssignTypes(const std::vector<AddedToken>& added, Tokens& t) {
  t.types.assign(t.text.size(), kTokenNormal);
  for (const AddedToken& a : added) {
    t.types[a.id] = a.special || LooksSpecial(a.content) ? kTokenControl : kTokenUserDefined;
    if (a.content == "<bos>") t.bos_id = a.id;
    if (a.content == "<eos>") t.eos_id = a.id;
    if (a.content == "<unk>") t.unk_id = a.id;
    if (a.content == "<pad>") t.pad_id = a.id;
  }
  for (size_t id = 0; id < t.text.size(); ++id) {
    if (IsBytePiece(t.text[id])) t.types[id] = kTokenByte;
  }
}

// Splits a merge ("a b" or ["a", "b"]) into its two parts.
Status MergeParts(const Reporter& r, const JsonValue& merge, size_t i, std::string_view& left,
                  std::string_view& right) {
  auto path = [i] { return "model.merges[" + std::to_string(i) + "]"; };
  if (merge.is_string()) {
    const std::string_view s = merge.AsString();
    const size_t space = s.find(' ');
    if (space == std::string_view::npos || s.find(' ', space + 1) != std::string_view::npos) {
      return r.Invalid(path(), "expected \"left right\" (one space), found " + Quoted(s));
    }
    left = s.substr(0, space);
    right = s.substr(space + 1);
  } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
             merge[1].is_string()) {
    left = merge[0].AsString();
    right = merge[1].AsString();
    // GGUF keeps "left right": a space inside a part could not be split back.
    if (left.find(' ') != std::string_view::npos || right.find(' ') != std::string_view::npos) {
      return r.Invalid(path(), "a merge part holds a space, which \"left right\" cannot express");
    }
  } else {
    return r.Invalid(path(),
                     "expected \"left right\" or [\"left\", \"right\"], found " + Describe(merge));
  }
  if (left.empty() || right.empty()) return r.Invalid(path(), "a merge part is empty");
  return OkStatus();
}

Status ReadMerges(const Reporter& r, const JsonValue& merges, const PieceIndex& index, Tokens& t) {
  t.merges.reserve(merges.size());
  t.merge_result.reserve(merges.size());
  std::string joined;
  for (size_t i = 0; i < merges.size(); ++i) {
    std::string_view left, right;
    GGUFEMBED_RETURN_IF_ERROR(MergeParts(r, merges[i], i, left, right));
    joined.assign(left).append(right);
    int32_t result = -1;
    for (std::string_view piece : {left, right, std::string_view(joined)}) {
      result = index.Find(piece);
      if (result < 0) {
        return r.Invalid("model.merges[" + std::to_string(i) + "]",
                         Quoted(piece) + " is not a token");
      }
    }
    t.merge_result.push_back(result);  // the id of `joined`, looked up last
    t.merges.emplace_back(left);
    t.merges.back().append(" ").append(right);
  }
  return OkStatus();
}

// SentencePiece scores from the merge ranks (see the header for why and how exact).
std::vector<float> LlamaScores(const Tokens& t) {
  std::vector<float> scores(t.text.size(), kUnmergedScore);
  std::vector<bool> scored(t.text.size(), false);
  for (size_t rank = 0; rank < t.merge_result.size(); ++rank) {
    const int32_t id = t.merge_result[rank];
    if (scored[id]) continue;  // the earliest merge that produces a piece ranks it
    scored[id] = true;
    scores[id] = static_cast<float>(-static_cast<int64_t>(rank));  // rank 0 scores +0, not -0
  }
  for (size_t id = 0; id < t.text.size(); ++id) {
    if (t.added[id]) scores[id] = 0.0f;
    if (t.types[id] == kTokenByte) scores[id] = kUnmergedScore;
  }
  return scores;
}

Result<Tokens> ReadTokens(const Reporter& r, const JsonValue& root) {
  if (!root.is_object()) return r.Invalid("(root)", "expected an object, found " + Describe(root));
  GGUFEMBED_ASSIGN_OR_RETURN(JsonValue model,
                             Member(r, root, "", "model", JsonValue::Kind::kObject));
  GGUFEMBED_RETURN_IF_ERROR(CheckModelType(r, model));
  GGUFEMBED_ASSIGN_OR_RETURN(JsonValue vocab,
                             Member(r, model, "model", "vocab", JsonValue::Kind::kObject));
  GGUFEMBED_ASSIGN_OR_RETURN(JsonValue merges,
                             Member(r, model, "model", "merges", JsonValue::Kind::kArray));
  GGUFEMBED_ASSIGN_OR_RETURN(std::vector<AddedToken> added, ReadAddedTokens(r, root));
  Tokens t;
  GGUFEMBED_RETURN_IF_ERROR(ReadTokenTexts(r, vocab, added, t));
  AssignTypes(added, t);
  PieceIndex index;
  if (const auto twice = index.Build(t.text)) {
    return r.Invalid("added_tokens", "ids " + std::to_string(twice->first) + " and " +
                                         std::to_string(twice->second) + " are both " +
                                         Quoted(t.text[twice->first]));
  }
  GGUFEMBED_RETURN_IF_ERROR(ReadMerges(r, merges, index, t));
  return t;
}

}  // namespace

const char* HfVocabModelName(HfVocabModel model) {
  return model == HfVocabModel::kGemma4 ? "gemma4" : "llama";
}

Result<HfVocab> HfVocabFromJson(std::string_view json, HfVocabModel model,
                                const std::string& name) {
  const Reporter r(name);
  Result<JsonValue> root = ParseJson(json);
  if (!root.ok()) return Status(root.status().code(), name + ": " + root.status().message());
  GGUFEMBED_ASSIGN_OR_RETURN(Tokens t, ReadTokens(r, *root));
  HfVocab out;
  out.model = HfVocabModelName(model);
  out.vocab.scores = model == HfVocabModel::kGemma4
                         ? std::vector<float>(t.text.size(), kGemma4Score)
                         : LlamaScores(t);
  out.vocab.tokens = std::move(t.text);
  out.vocab.types = std::move(t.types);
  if (model == HfVocabModel::kGemma4) out.merges = std::move(t.merges);
  out.bos_id = t.bos_id;
  out.eos_id = t.eos_id;
  out.unk_id = t.unk_id;
  out.pad_id = t.pad_id;
  return out;
}

Result<HfVocab> ReadHfTokenizerJson(const std::string& path, HfVocabModel model) {
  // Mapped as a model file is: a directory, a FIFO or a device is refused by name (a FIFO with
  // no writer was waited on forever, /dev/zero read until memory ran out).
  GGUFEMBED_ASSIGN_OR_RETURN(std::shared_ptr<const FileBytes> bytes, FileBytes::Map(path));
  return HfVocabFromJson(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), model, path);
}

}  // namespace ggufembed
