// NaN and infinity in a model: the fuzzing findings are errors naming the tensor or the layer on
// every SIMD target and on the reference, and a text whose activations are not finite fails alone
// in a packed batch while the others get the bits they get alone.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/tensor_values.h"
#include "ggufembed/embedder.h"
#include "model_util.h"
#include "test_util.h"
#include "util/fp16.h"

namespace ggufembed {
namespace {

// Runs fn() on every SIMD target this CPU has, then goes back to the best.
template <class Fn>
void OnEveryTarget(Fn&& fn) {
  for (const std::string& target : testing::SimdTargetNames()) {
    const Status set = SetSimdTarget(target);
    if (set.code() == StatusCode::kUnsupported) continue;
    REQUIRE(set.ok());
    INFO("target " << target);
    fn();
  }
  REQUIRE(SetSimdTarget("best").ok());
}

struct Finding {
  const char* file;
  bool fails_at_load;
  const char* names;  // a piece of the message
};

const Finding kFindings[] = {
    {"nan_attn_norm.gguf", true, "norm tensor 'blk.0.attn_norm.weight' holds a value that is not"},
    {"inf_token_embd_scales.gguf", false, "token_embd.weight row "},
    {"fuzz_matmul_overflow.gguf", true, "norm tensor 'blk.0.attn_q_norm.weight' holds a value"},
    {"fuzz_expf32_nan_seed_mini_q4_0.gguf", false, "token_embd.weight row "},
};

TEST_CASE("the fuzzing findings are not_finite errors naming the tensor or the layer",
          "[not_finite]") {
  for (const Finding& f : kFindings) {
    INFO(f.file);
    const std::string path = testing::DataPath(std::string("fuzz-findings/") + f.file);
    // --check-tensors finds each one before any text.
    Result<GgufFile> file = GgufFile::Open(path);
    REQUIRE(file.ok());
    const Status checked = CheckTensorValues(*file);
    CHECK(checked.code() == StatusCode::kNotFinite);
    CHECK(checked.message().find("holds a value that is not finite") != std::string::npos);

    Result<std::unique_ptr<Embedder>> e = Embedder::Load(path);
    if (f.fails_at_load) {
      CHECK(e.status().code() == StatusCode::kNotFinite);
      CHECK(e.status().message().find(f.names) != std::string::npos);
      continue;
    }
    REQUIRE(e.ok());
    OnEveryTarget([&] {
      for (const char* text : {"hello world", "a longer text, with several words in it."}) {
        Result<std::vector<Embedding>> r = (*e)->Embed({text}, EmbedOptions{});
        CHECK(r.status().code() == StatusCode::kNotFinite);
        CHECK(r.status().message().find(f.names) != std::string::npos);
      }
    });
    // The reference forward pass: the same code, no vector (its output check says so).
    EmbedOptions reference;
    reference.reference = true;
    CHECK((*e)->Embed({"hello world"}, reference).status().code() == StatusCode::kNotFinite);
  }
}

// The tiny Q8_0 model of `arch` with the block scales of row `row` of `tensor` set to +Inf.
std::string PoisonedTiny(const std::string& tensor, int32_t row,
                         const std::string& arch = "gemma-embedding") {
  Result<GgufFile> src =
      GgufFile::Open(testing::SynthModelPath("tiny", GgmlType::kQ8_0, true, arch));
  REQUIRE(src.ok());
  const GgufTensorInfo* embd = src->FindTensor(tensor);
  REQUIRE(embd != nullptr);
  REQUIRE(embd->type == GgmlType::kQ8_0);
  std::vector<uint8_t> bytes(embd->data, embd->data + embd->n_bytes);
  const uint16_t inf = F32ToF16(INFINITY);
  for (int64_t b = 0; b < embd->ne[0] / 32; ++b) {
    std::memcpy(&bytes[size_t(row) * embd->row_bytes() + 34 * size_t(b)], &inf, 2);
  }
  const std::vector<int64_t> ne(embd->ne, embd->ne + embd->n_dims);
  testing::Rewrite rewrite;
  rewrite.keep_tensor = [&](const GgufTensorInfo& t) { return t.name != tensor; };
  rewrite.add = [&](GgufWriter& w) { w.AddTensor(tensor, GgmlType::kQ8_0, ne, bytes); };
  const std::string name = "poisoned-" + arch + "-" + tensor + "-" + std::to_string(row) + ".gguf";
  const Result<GgufFile> written = testing::RewriteModel(*src, rewrite, name);
  INFO(written.status().message());
  REQUIRE(written.ok());
  return testing::TempPath(name);
}

TEST_CASE("a non-finite weight in a matrix is an error naming the layer and block",
          "[not_finite]") {
  const struct {
    const char* arch;
    const char* tensor;
    const char* names;
  } kCases[] = {{"gemma-embedding", "blk.0.attn_q.weight", "in layer 0's attention block"},
                {"gemma-embedding", "blk.1.ffn_down.weight", "in layer 1's feed-forward block"},
                {"gemma-embedding", "dense_3.weight",
                 "in its output: a weight of the pooled output's projections"},
                // EmbeddingGemma 2 has no projections after pooling: its last step is `output`
                // (which the message named as those projections).
                {"gemma-embedding2", "output.weight",
                 "in its output projection output.weight: a weight of it is NaN or infinite"},
                {"gemma-embedding2", "blk.0.attn_q.weight", "in layer 0's attention block"}};
  for (const auto& c : kCases) {
    INFO(c.arch << " " << c.tensor);
    Result<std::unique_ptr<Embedder>> e = Embedder::Load(PoisonedTiny(c.tensor, 0, c.arch));
    REQUIRE(e.ok());
    OnEveryTarget([&] {
      Result<std::vector<Embedding>> r = (*e)->Embed({"hello world"}, EmbedOptions{});
      CHECK(r.status().code() == StatusCode::kNotFinite);
      CHECK(r.status().message().find(c.names) != std::string::npos);
    });
  }
}

TEST_CASE("a text meeting a non-finite weight fails alone in a packed batch", "[not_finite]") {
  const std::vector<std::string> texts = {"the first text", "zebra quartz", "the last one"};
  Result<std::unique_ptr<Embedder>> clean = Embedder::Load(testing::SynthModelPath("tiny"));
  REQUIRE(clean.ok());
  // A token of the second text only.
  Result<std::vector<int32_t>> ids = (*clean)->Tokenize(texts[1], false, false);
  REQUIRE(ids.ok());
  int32_t row = -1;
  for (int32_t id : *ids) {
    bool elsewhere = false;
    for (size_t i : {size_t{0}, size_t{2}}) {
      Result<std::vector<int32_t>> other = (*clean)->Tokenize(texts[i], true, false);
      REQUIRE(other.ok());
      for (int32_t o : *other) elsewhere |= o == id;
    }
    if (!elsewhere) row = id;
  }
  REQUIRE(row >= 0);
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(PoisonedTiny("token_embd.weight", row));
  REQUIRE(e.ok());

  std::vector<Embedding> alone(texts.size());
  for (size_t i : {size_t{0}, size_t{2}}) {
    Result<std::vector<Embedding>> r = (*e)->Embed({texts[i]}, EmbedOptions{});
    REQUIRE(r.ok());
    alone[i] = (*r)[0];
    // The poisoned row is not read, so these are the clean model's vectors.
    CHECK(alone[i].values == (*(*clean)->Embed({texts[i]}, EmbedOptions{}))[0].values);
  }
  const EmbedOptions options;
  const std::vector<BatchText> items = {
      {texts[0], &options}, {texts[1], &options}, {texts[2], &options}};
  for (const BatchOptions& batch :
       {BatchOptions{1, 256}, BatchOptions{3, 256}, BatchOptions{1, 0}}) {
    INFO("threads " << batch.threads << ", pack " << batch.pack_tokens);
    std::vector<int> calls(texts.size());
    REQUIRE((*e)->EmbedBatch(items, batch,
                             [&](size_t i, const Status& s, const Embedding& emb) {
                               ++calls[i];
                               if (i == 1) {
                                 CHECK(s.code() == StatusCode::kNotFinite);
                                 CHECK(s.message().find("token_embd.weight row " +
                                                        std::to_string(row)) != std::string::npos);
                                 CHECK(emb.values.empty());
                               } else {
                                 CHECK(s.ok());
                                 CHECK(emb.values == alone[i].values);
                               }
                             })
                .ok());
    CHECK(calls == std::vector<int>{1, 1, 1});
  }

  // Progress: a batch's failed text is done like the others; a call that fails with it (Embed,
  // the C API) counts only the texts before it.
  for (const int threads : {1, 3}) {
    INFO("threads " << threads);
    std::vector<size_t> progress;
    BatchOptions batch{threads, 0};  // every text a pass of its own
    batch.on_progress = [&](size_t done) { progress.push_back(done); };
    REQUIRE((*e)->EmbedBatch(items, batch, [](size_t, const Status&, const Embedding&) {}).ok());
    CHECK(progress.back() == 3);
    progress.clear();
    Result<std::vector<Embedding>> failed = (*e)->Embed(texts, options, batch);
    CHECK(failed.status().code() == StatusCode::kNotFinite);
    CHECK(!progress.empty());
    for (const size_t done : progress) CHECK(done <= 1);
  }
}

}  // namespace
}  // namespace ggufembed
