// Resource limits (issue 12): a file that declares enormous counts or sizes is refused before
// anything is allocated for them, with a message naming the key or item, the count and the limit;
// a text longer than the context is refused before the forward pass.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf_bytes.h"
#include "ggufembed/embedder.h"
#include "model_util.h"
#include "models/gemma_embedding/config.h"
#include "test_util.h"
#include "text/tokenizer.h"
#include "util/fp16.h"

namespace ggufembed {
namespace {

using testing::GgufBytes;

std::string ParseError(const GgufBytes& g) {
  Result<GgufFile> f = g.Parse();
  REQUIRE(!f.ok());
  CHECK(f.status().code() == StatusCode::kInvalidFile);
  return f.status().message();
}

// A tokenizer section: `model`, then `n_tokens` empty pieces (each just its u64 length 0, so the
// file holds them in 8 bytes each); `extra` adds keys after it (counted in `n_kv`).
GgufBytes TokenizerFile(const char* model, uint64_t n_tokens, int64_t n_kv = 2) {
  GgufBytes g;
  g.Header(3, 0, n_kv).KvStr("tokenizer.ggml.model", model);
  g.Str("tokenizer.ggml.tokens").U32(testing::kArr).U32(testing::kStr).U64(n_tokens);
  g.Zeros(n_tokens * 8);
  return g;
}

TEST_CASE("tensor and key/value counts above the limits", "[limits][gguf]") {
  // Files large enough to hold the counts, so only the limits refuse them.
  GgufBytes tensors;
  tensors.Header(3, 65537, 0).Zeros(65537 * 24);
  CHECK(ParseError(tensors) ==
        "test.gguf: offset 8: header: tensor count 65537 is more than the limit of 65536");
  GgufBytes kvs;
  kvs.Header(3, 0, 65537).Zeros(65537 * 13);
  CHECK(ParseError(kvs) ==
        "test.gguf: offset 16: header: key/value count 65537 is more than the limit of 65536");
  // At the limits, the counts are read on (and the file then fails where its bytes do).
  GgufBytes at_limit;
  at_limit.Header(3, 65536, 0).Zeros(65536 * 24);
  CHECK(ParseError(at_limit).find("limit") == std::string::npos);
}

TEST_CASE("a 1 KB file claiming enormous counts fails at the count", "[limits][gguf]") {
  GgufBytes array;
  array.Header(3, 0, 1).Str("tokenizer.ggml.tokens").U32(testing::kArr).U32(testing::kStr);
  array.U64(uint64_t{1} << 40).Zeros(1000);
  CHECK(ParseError(array) ==
        "test.gguf: offset 61: key 'tokenizer.ggml.tokens': array of 1099511627776 str elements "
        "cannot fit in the 1000 bytes left in the file");
  GgufBytes string;
  string.Header(3, 0, 1).Str("general.name").U32(testing::kStr).U64(uint64_t{1} << 62);
  string.Zeros(1000);
  CHECK(ParseError(string) ==
        "test.gguf: offset 48: key 'general.name': value length 4611686018427387904 runs past "
        "the end of the file (1000 bytes left)");
  GgufBytes dims;
  dims.Header(3, 1, 0).TensorInfo("t", {int64_t{1} << 40, int64_t{1} << 40}, testing::kTypeF32, 0);
  dims.Zeros(1000);
  CHECK(ParseError(dims) ==
        "test.gguf: offset 45: tensor 't': the element count overflows at dimension 1 "
        "(1099511627776)");
  GgufBytes data;
  data.Header(3, 1, 0).TensorInfo("t", {int64_t{1} << 30, 1024}, testing::kTypeF32, 0);
  data.Zeros(1000);
  CHECK(ParseError(data) ==
        "test.gguf: offset 24: tensor 't': data [96, +4398046511104) lies outside the file (1065 "
        "bytes, data section at 96)");
}

TEST_CASE("a vocabulary over the limit is refused before it is decoded", "[limits][tokenizer]") {
  CHECK(kMaxVocabulary == 4194304);
  Result<GgufFile> f = TokenizerFile("llama", kMaxVocabulary + 1).Parse();
  REQUIRE(f.ok());
  Result<Tokenizer> t = Tokenizer::FromGguf(*f);
  REQUIRE(!t.ok());
  CHECK(t.status().code() == StatusCode::kInvalidFile);
  CHECK(t.status().message() ==
        "test.gguf: tokenizer.ggml.tokens has 4194305 pieces, more than the limit of 4194304");
}

TEST_CASE("token types and scores of another length are refused before they are decoded",
          "[limits][tokenizer]") {
  for (const char* key : {"tokenizer.ggml.token_type", "tokenizer.ggml.scores"}) {
    INFO(key);
    GgufBytes g;
    g.Header(3, 0, 3).KvStr("tokenizer.ggml.model", "llama");
    g.Str("tokenizer.ggml.tokens").U32(testing::kArr).U32(testing::kStr).U64(3);
    g.Str("a").Str("b").Str("c");
    g.Str(key)
        .U32(testing::kArr)
        .U32(std::string(key).ends_with("type") ? testing::kI32 : testing::kF32);
    g.U64(1 << 20).Zeros(4 << 20);
    Result<GgufFile> f = g.Parse();
    REQUIRE(f.ok());
    Result<Tokenizer> t = Tokenizer::FromGguf(*f);
    REQUIRE(!t.ok());
    CHECK(t.status().message() == "test.gguf: 3 tokens but 1048576 entries in " + std::string(key));
  }
}

TEST_CASE("a NaN token score is refused (merges are taken in score order)", "[tokenizer]") {
  GgufBytes g;
  g.Header(3, 0, 3).KvStr("tokenizer.ggml.model", "llama");
  g.Str("tokenizer.ggml.tokens").U32(testing::kArr).U32(testing::kStr).U64(3);
  g.Str("a").Str("b").Str("ab");
  g.Str("tokenizer.ggml.scores").U32(testing::kArr).U32(testing::kF32).U64(3);
  g.F32(0.0f).F32(NAN).F32(-1.0f);
  Result<GgufFile> f = g.Parse();
  REQUIRE(f.ok());
  Result<Tokenizer> t = Tokenizer::FromGguf(*f);
  REQUIRE(!t.ok());
  CHECK(t.status().code() == StatusCode::kInvalidFile);
  CHECK(t.status().message() == "test.gguf: the score of token 1 is NaN");
}

TEST_CASE("a merge table over the limit is refused before it is decoded", "[limits][tokenizer]") {
  CHECK(kMaxMerges == 8388608);
  GgufBytes g = TokenizerFile("gemma4", 3, 3);
  g.Str("tokenizer.ggml.merges").U32(testing::kArr).U32(testing::kStr).U64(kMaxMerges + 1);
  g.Zeros((kMaxMerges + 1) * 8);
  Result<GgufFile> f = g.Parse();
  REQUIRE(f.ok());
  Result<Tokenizer> t = Tokenizer::FromGguf(*f);
  REQUIRE(!t.ok());
  CHECK(t.status().code() == StatusCode::kInvalidFile);
  CHECK(t.status().message() ==
        "test.gguf: tokenizer.ggml.merges has 8388609 merges, more than the limit of 8388608");
}

TEST_CASE("hyperparameters beyond their limits name the key, the value and the limit",
          "[limits][model]") {
  const struct {
    const char* key;
    uint64_t value;
    const char* message;
  } kCases[] = {
      {"gemma-embedding.block_count", uint64_t{1} << 31,
       "test.gguf: key 'gemma-embedding.block_count' is 2147483648, expected 1 to 4096"},
      {"gemma-embedding.context_length", uint64_t{1} << 40,
       "test.gguf: key 'gemma-embedding.context_length' is 1099511627776, expected 1 to 16777216"},
      {"gemma-embedding.embedding_length", uint64_t{1} << 25,
       "test.gguf: key 'gemma-embedding.embedding_length' is 33554432, expected 1 to 16777216"},
      {"gemma-embedding.attention.head_count", 100000,
       "test.gguf: key 'gemma-embedding.attention.head_count' is 100000, expected 1 to 4096"},
  };
  for (const auto& c : kCases) {
    INFO(c.key);
    GgufBytes g;
    g.Header(3, 0, 6).KvStr("general.architecture", "gemma-embedding");
    for (const char* key : {"gemma-embedding.context_length", "gemma-embedding.embedding_length",
                            "gemma-embedding.block_count", "gemma-embedding.feed_forward_length",
                            "gemma-embedding.attention.head_count"}) {
      g.Str(key).U32(testing::kU64).U64(std::string(key) == c.key ? c.value : 8);
    }
    Result<GgufFile> f = g.Parse();
    REQUIRE(f.ok());
    Result<gemma_embedding::Config> config = gemma_embedding::Config::FromGguf(*f);
    REQUIRE(!config.ok());
    CHECK(config.status().message() == c.message);
  }
}

TEST_CASE("heads whose total width would overflow an int are refused", "[limits][model]") {
  // 256 heads of 2^24 values: 2^32, which wrapped to 0 and crashed the forward pass.
  GgufBytes g;
  g.Header(3, 0, 7).KvStr("general.architecture", "gemma-embedding");
  for (const auto& [key, value] : std::vector<std::pair<const char*, uint64_t>>{
           {"gemma-embedding.context_length", 8},
           {"gemma-embedding.embedding_length", 8},
           {"gemma-embedding.block_count", 1},
           {"gemma-embedding.feed_forward_length", 8},
           {"gemma-embedding.attention.head_count", 256},
           {"gemma-embedding.attention.key_length", uint64_t{1} << 24}}) {
    g.Str(key).U32(testing::kU64).U64(value);
  }
  Result<GgufFile> f = g.Parse();
  REQUIRE(f.ok());
  Result<gemma_embedding::Config> config = gemma_embedding::Config::FromGguf(*f);
  REQUIRE(!config.ok());
  CHECK(config.status().message() ==
        "test.gguf: key 'gemma-embedding.attention.key_length' is 16777216, expected 1 to 65536");
}

TEST_CASE("float hyperparameters are checked as the floats they become", "[limits][model]") {
  const std::string eps = "gemma-embedding.attention.layer_norm_rms_epsilon";
  const std::string rope = "gemma-embedding.rope.freq_base";
  const struct {
    std::string key;
    uint32_t type;  // kF32 or kF64
    double value;
  } kCases[] = {
      {eps, testing::kF32, 1e38},    // all-zero vectors before: activations divided by 1e19
      {eps, testing::kF64, 1e300},   // infinity as a float
      {eps, testing::kF64, 1e-300},  // zero as a float
      {rope, testing::kF64, 1e300},
  };
  for (const auto& c : kCases) {
    INFO(c.key << " = " << c.value);
    GgufBytes g;
    const bool rope_case = c.key == rope;
    g.Header(3, 0, rope_case ? 9 : 8).KvStr("general.architecture", "gemma-embedding");
    for (const auto& [key, value] : std::vector<std::pair<const char*, uint64_t>>{
             {"gemma-embedding.context_length", 8},
             {"gemma-embedding.embedding_length", 8},
             {"gemma-embedding.block_count", 1},
             {"gemma-embedding.feed_forward_length", 8},
             {"gemma-embedding.attention.head_count", 1},
             {"gemma-embedding.attention.sliding_window", 4}}) {
      g.Str(key).U32(testing::kU64).U64(value);
    }
    if (rope_case) g.KvF32(eps, 1e-6f);
    g.Str(c.key).U32(c.type);
    if (c.type == testing::kF32) {
      g.F32(static_cast<float>(c.value));
    } else {
      g.Put(c.value);
    }
    Result<GgufFile> f = g.Parse();
    REQUIRE(f.ok());
    Result<gemma_embedding::Config> config = gemma_embedding::Config::FromGguf(*f);
    REQUIRE(!config.ok());
    CHECK(config.status().code() == StatusCode::kInvalidFile);
    char want[256];
    const double read = c.type == testing::kF32 ? double(float(c.value)) : c.value;
    if (c.value < 1) {
      std::snprintf(want, sizeof(want), "test.gguf: key '%s' is %g, which is 0 as a 32-bit float",
                    c.key.c_str(), read);
    } else {
      std::snprintf(want, sizeof(want),
                    "test.gguf: key '%s' is %g, expected a positive number up to %g", c.key.c_str(),
                    read, rope_case ? double(FLT_MAX) : 1e-2);
    }
    CHECK(config.status().message() == want);
  }
}

// The tiny model with every block of row 0 of blk.0.attn_q.weight scaled by infinity: any text
// that reaches the forward pass fails there with not_finite.
std::string PoisonedTiny() {
  Result<GgufFile> src = GgufFile::Open(testing::SynthModelPath("tiny"));
  REQUIRE(src.ok());
  const std::string tensor = "blk.0.attn_q.weight";
  const GgufTensorInfo* q = src->FindTensor(tensor);
  REQUIRE(q != nullptr);
  REQUIRE(q->type == GgmlType::kQ8_0);
  std::vector<uint8_t> bytes(q->data, q->data + q->n_bytes);
  const uint16_t inf = F32ToF16(INFINITY);
  for (int64_t b = 0; b < q->ne[0] / 32; ++b) std::memcpy(&bytes[34 * size_t(b)], &inf, 2);
  const std::vector<int64_t> ne(q->ne, q->ne + q->n_dims);
  testing::Rewrite rewrite;
  rewrite.keep_tensor = [&](const GgufTensorInfo& t) { return t.name != tensor; };
  rewrite.add = [&](GgufWriter& w) { w.AddTensor(tensor, GgmlType::kQ8_0, ne, bytes); };
  const Result<GgufFile> written = testing::RewriteModel(*src, rewrite, "limits-poisoned.gguf");
  REQUIRE(written.ok());
  return testing::TempPath("limits-poisoned.gguf");
}

TEST_CASE("a text longer than the context is refused before the forward pass", "[limits]") {
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(PoisonedTiny());
  REQUIRE(e.ok());
  // A short text reaches the forward pass and meets the poisoned weight...
  Result<std::vector<Embedding>> short_text = (*e)->Embed({"hello world"}, EmbedOptions{});
  CHECK(short_text.status().code() == StatusCode::kNotFinite);
  // ... one longer than the context (2048 tokens) never does, alone, in a packed batch or with
  // several threads; with truncation it does.
  std::string long_text;
  for (int i = 0; i < 3000; ++i) long_text += "w ";
  Result<std::vector<Embedding>> long_alone = (*e)->Embed({long_text}, EmbedOptions{});
  CHECK(long_alone.status().code() == StatusCode::kInputTooLong);
  CHECK(long_alone.status().message().find("more than the model's context of 2048 tokens") !=
        std::string::npos);
  EmbedOptions options;
  std::vector<BatchText> batch = {{long_text, &options}, {long_text, &options}};
  std::vector<StatusCode> codes;
  REQUIRE((*e)->EmbedBatch(
                  batch, BatchOptions{2, 256},
                  [&](size_t, const Status& s, const Embedding&) { codes.push_back(s.code()); })
              .ok());
  CHECK(codes == std::vector<StatusCode>{StatusCode::kInputTooLong, StatusCode::kInputTooLong});
  EmbedOptions truncate;
  truncate.truncate = true;
  CHECK((*e)->Embed({long_text}, truncate).status().code() == StatusCode::kNotFinite);
}

TEST_CASE("a text no tokenization could fit is refused before it is tokenized", "[limits]") {
  const std::string path = testing::SynthModelPath("tiny");
  Result<GgufFile> file = GgufFile::Open(path);
  REQUIRE(file.ok());
  Result<std::vector<std::string_view>> pieces = file->GetStringArray("tokenizer.ggml.tokens");
  REQUIRE(pieces.ok());
  size_t longest = 4;
  for (std::string_view p : *pieces) longest = std::max(longest, p.size());
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(path);
  REQUIRE(e.ok());
  const size_t n_ctx = 2048;
  // Texts that end in a byte that is not UTF-8: the tokenizer would name it.
  auto text_of = [](size_t n_bytes) {
    std::string t(n_bytes - 1, 'w');
    for (size_t i = 1; i < t.size(); i += 2) t[i] = ' ';
    return t + '\xff';
  };
  // One byte more than the context's tokens could cover: refused with the bound, and the invalid
  // byte at its end is never read.
  const size_t over = n_ctx * longest + 1;
  Result<std::vector<Embedding>> refused = (*e)->Embed({text_of(over)}, EmbedOptions{});
  CHECK(refused.status().code() == StatusCode::kInputTooLong);
  CHECK(refused.status().message() ==
        "the text is at least " + std::to_string(n_ctx + 1) + " tokens long (" +
            std::to_string(over) +
            " bytes), more than the model's context of 2048 tokens (use truncation to embed its "
            "beginning)");
  // At the bound the text is tokenized (and fails at the byte); with truncation too.
  Result<std::vector<Embedding>> at_bound = (*e)->Embed({text_of(over - 1)}, EmbedOptions{});
  CHECK(at_bound.status().code() == StatusCode::kInvalidArgument);
  EmbedOptions truncate;
  truncate.truncate = true;
  CHECK((*e)->Embed({text_of(over)}, truncate).status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ggufembed
