// Synthetic models: llama.cpp's key and tensor layout, shapes of both presets, weight statistics,
// determinism, and the vocabulary's layout and merge-ability.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <set>

#include "gguf/gguf.h"
#include "synth/synth_model.h"
#include "synth/synth_vocab.h"
#include "test_util.h"
#include "util/error.h"

namespace ggufembed {
namespace {

const std::string kSpace = "\xE2\x96\x81";

Result<GgufFile> WriteAndOpen(const SynthOptions& options, const std::string& name) {
  const std::string path = testing::TempPath(name);
  GGUFEMBED_RETURN_IF_ERROR(WriteSynthModel(options, path));
  return GgufFile::Open(path);
}

// The shape a llama.cpp loader expects for each tensor of a gemma-embedding model, written out
// from the converter's naming (spec §2.4) for the given hyperparameters.
std::vector<std::pair<std::string, std::vector<int64_t>>> ExpectedTensors(int64_t d, int64_t layers,
                                                                          int64_t q, int64_t kv,
                                                                          int64_t hd, int64_t ff,
                                                                          int64_t vocab,
                                                                          int64_t dense) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> t;
  t.push_back({"token_embd.weight", {d, vocab}});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    t.push_back({b + "attn_norm.weight", {d}});
    t.push_back({b + "attn_q.weight", {d, q}});
    t.push_back({b + "attn_k.weight", {d, kv}});
    t.push_back({b + "attn_v.weight", {d, kv}});
    t.push_back({b + "attn_q_norm.weight", {hd}});
    t.push_back({b + "attn_k_norm.weight", {hd}});
    t.push_back({b + "attn_output.weight", {q, d}});
    t.push_back({b + "post_attention_norm.weight", {d}});
    t.push_back({b + "ffn_norm.weight", {d}});
    t.push_back({b + "ffn_gate.weight", {d, ff}});
    t.push_back({b + "ffn_up.weight", {d, ff}});
    t.push_back({b + "ffn_down.weight", {ff, d}});
    t.push_back({b + "post_ffw_norm.weight", {d}});
  }
  t.push_back({"output_norm.weight", {d}});
  if (dense > 0) {
    t.push_back({"dense_2.weight", {d, dense}});
    t.push_back({"dense_3.weight", {dense, d}});
  }
  return t;
}

void CheckTensors(const GgufFile& f,
                  const std::vector<std::pair<std::string, std::vector<int64_t>>>& expected,
                  GgmlType matrix_type) {
  REQUIRE(f.tensors().size() == expected.size());
  for (const auto& [name, ne] : expected) {
    INFO(name);
    const GgufTensorInfo* t = f.FindTensor(name);
    REQUIRE(t != nullptr);
    REQUIRE(t->n_dims == ne.size());
    for (size_t i = 0; i < ne.size(); ++i) CHECK(t->ne[i] == ne[i]);
    CHECK(t->type == (ne.size() == 1 ? GgmlType::kF32 : matrix_type));
  }
}

TEST_CASE("tiny preset: metadata with llama.cpp's key types", "[synth]") {
  SynthOptions options;
  Result<GgufFile> f = WriteAndOpen(options, "synth-tiny.gguf");
  REQUIRE(f.ok());
  const std::string p = "gemma-embedding.";
  // llama.cpp checks key types exactly: counts are u32, eps and rope bases f32, flags bool.
  auto type_of = [&](const std::string& key) {
    const GgufKv* kv = f->FindKv(key);
    return kv ? std::string(GgufTypeName(kv->value.type)) : std::string("missing");
  };
  CHECK(*f->GetString("general.architecture") == "gemma-embedding");
  for (const char* key :
       {"context_length", "embedding_length", "block_count", "feed_forward_length",
        "attention.head_count", "attention.head_count_kv", "attention.key_length",
        "attention.value_length", "attention.sliding_window", "pooling_type", "dense_2_feat_in",
        "dense_2_feat_out", "dense_3_feat_in", "dense_3_feat_out"}) {
    INFO(key);
    CHECK(type_of(p + key) == "u32");
  }
  for (const char* key :
       {"attention.layer_norm_rms_epsilon", "rope.freq_base", "rope.freq_base_swa"}) {
    CHECK(type_of(p + key) == "f32");
  }
  for (const char* key : {"add_bos_token", "add_eos_token", "add_space_prefix"}) {
    CHECK(type_of(std::string("tokenizer.ggml.") + key) == "bool");
  }
  CHECK(*f->GetUint(p + "embedding_length") == 128);
  CHECK(*f->GetUint(p + "block_count") == 7);
  CHECK(*f->GetUint(p + "attention.head_count") == 4);
  CHECK(*f->GetUint(p + "attention.head_count_kv") == 2);
  CHECK(*f->GetUint(p + "attention.key_length") == 48);
  CHECK(*f->GetUint(p + "attention.sliding_window") == 16);
  CHECK(*f->GetFloat(p + "rope.freq_base") == 1e6);
  CHECK(*f->GetFloat(p + "rope.freq_base_swa") == 1e4);
  CHECK(*f->GetFloat(p + "attention.layer_norm_rms_epsilon") == Approx(1e-6));
  CHECK(*f->GetUint(p + "pooling_type") == 1);
  CHECK(*f->GetString("tokenizer.ggml.model") == "llama");
  CHECK(*f->GetUint("tokenizer.ggml.bos_token_id") == 2);
  CHECK(*f->GetUint("tokenizer.ggml.eos_token_id") == 1);
  CHECK(*f->GetUint("tokenizer.ggml.unknown_token_id") == 3);
  CHECK(*f->GetUint("tokenizer.ggml.padding_token_id") == 0);
  CHECK(*f->GetBool("tokenizer.ggml.add_bos_token") == true);
  CHECK(*f->GetBool("tokenizer.ggml.add_eos_token") == true);
  CHECK(*f->GetBool("tokenizer.ggml.add_space_prefix") == false);
  CHECK(f->GetStringArray("tokenizer.ggml.tokens")->size() == 4096);
  CHECK(*f->GetUint("general.file_type") == 7);
  CheckTensors(*f, ExpectedTensors(128, 7, 4 * 48, 2 * 48, 48, 192, 4096, 256), GgmlType::kQ8_0);
}

TEST_CASE("tiny preset: weight statistics", "[synth]") {
  SynthOptions options;
  Result<GgufFile> f = WriteAndOpen(options, "synth-tiny-stats.gguf");
  REQUIRE(f.ok());
  // Norm weights are 1 + w with small w (Gemma stores the +1).
  for (const GgufTensorInfo& t : f->tensors()) {
    if (t.n_dims != 1) continue;
    std::vector<float> w(static_cast<size_t>(t.ne[0]));
    REQUIRE(DequantizeTensorRow(t, 0, w.data()).ok());
    for (float v : w) {
      REQUIRE(v >= 0.95f);
      REQUIRE(v <= 1.05f);
    }
  }
  // Matrices have standard deviation 1/sqrt(fan_in) (within sampling and quantization error).
  for (const char* name : {"blk.0.attn_q.weight", "blk.3.ffn_down.weight", "token_embd.weight"}) {
    const GgufTensorInfo* t = f->FindTensor(name);
    std::vector<float> row(static_cast<size_t>(t->ne[0]));
    double sum2 = 0, sum = 0;
    for (int64_t r = 0; r < t->n_rows(); ++r) {
      REQUIRE(DequantizeTensorRow(*t, r, row.data()).ok());
      for (float v : row) {
        sum += v;
        sum2 += double(v) * v;
      }
    }
    const double n = double(t->n_elements());
    const double std = std::sqrt(sum2 / n - (sum / n) * (sum / n));
    INFO(name);
    CHECK(std == Approx(1.0 / std::sqrt(double(t->ne[0]))).epsilon(0.05));
    CHECK(std::fabs(sum / n) < 0.05 * std);
  }
}

TEST_CASE("outliers: the residual stream's norms 40 times larger on every 43rd channel from 3",
          "[synth]") {
  SynthOptions plain_options, outlier_options;
  outlier_options.outliers = true;
  Result<GgufFile> plain = WriteAndOpen(plain_options, "synth-plain.gguf");
  Result<GgufFile> outliers = WriteAndOpen(outlier_options, "synth-outliers.gguf");
  REQUIRE(plain.ok());
  REQUIRE(outliers.ok());
  int raised = 0;
  for (const GgufTensorInfo& t : plain->tensors()) {
    const GgufTensorInfo* o = outliers->FindTensor(t.name);
    REQUIRE(o != nullptr);
    INFO(t.name);
    if (t.n_dims != 1) {  // matrices as they were
      CHECK(std::equal(t.data, t.data + t.n_bytes, o->data));
      continue;
    }
    std::vector<float> a(static_cast<size_t>(t.ne[0])), b(a.size());
    REQUIRE(DequantizeTensorRow(t, 0, a.data()).ok());
    REQUIRE(DequantizeTensorRow(*o, 0, b.data()).ok());
    // The per-head Q/K norms are not the stream's: left alone.
    const bool stream = t.name.find("attn_q_norm") == std::string::npos &&
                        t.name.find("attn_k_norm") == std::string::npos;
    for (size_t c = 0; c < a.size(); ++c) {
      const bool outlier = stream && (c == 3 || c == 46 || c == 89);  // tiny: 128 wide
      CHECK(b[c] == (outlier ? a[c] * 40.0f : a[c]));
      raised += outlier;
    }
  }
  CHECK(raised == 3 * (4 * 7 + 1));  // four stream norms a layer, seven layers, the output norm
  // EmbeddingGemma 2 has no conformance run against two llama.cpp builds to bound them: refused.
  SynthOptions eg2 = outlier_options;
  eg2.arch = "gemma-embedding2";
  CHECK(WriteSynthModel(eg2, testing::TempPath("synth-eg2-outliers.gguf")).message() ==
        "outliers are for gemma-embedding files only");
}

TEST_CASE("same seed gives the same bytes and another seed other weights", "[synth]") {
  SynthOptions options;
  Result<GgufFile> a = WriteAndOpen(options, "seed1-a.gguf");
  Result<GgufFile> b = WriteAndOpen(options, "seed1-b.gguf");
  options.seed = 2;
  Result<GgufFile> c = WriteAndOpen(options, "seed2.gguf");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  REQUIRE(a->file_size() == b->file_size());
  CHECK(std::memcmp(a->bytes().data(), b->bytes().data(), a->file_size()) == 0);
  REQUIRE(a->file_size() == c->file_size());
  const GgufTensorInfo* ta = a->FindTensor("blk.0.attn_q.weight");
  const GgufTensorInfo* tc = c->FindTensor("blk.0.attn_q.weight");
  CHECK(std::memcmp(ta->data, tc->data, ta->n_bytes) != 0);
}

TEST_CASE("f16 and f32 and no-dense variants", "[synth]") {
  SynthOptions options;
  options.weight_type = GgmlType::kF16;
  options.dense = false;
  Result<GgufFile> f16 = WriteAndOpen(options, "synth-f16.gguf");
  REQUIRE(f16.ok());
  CHECK(*f16->GetUint("general.file_type") == 1);
  CHECK(f16->FindKv("gemma-embedding.dense_2_feat_in") == nullptr);
  CheckTensors(*f16, ExpectedTensors(128, 7, 192, 96, 48, 192, 4096, 0), GgmlType::kF16);
  options.weight_type = GgmlType::kF32;
  Result<GgufFile> f32 = WriteAndOpen(options, "synth-f32.gguf");
  REQUIRE(f32.ok());
  CHECK(*f32->GetUint("general.file_type") == 0);
  CheckTensors(*f32, ExpectedTensors(128, 7, 192, 96, 48, 192, 4096, 0), GgmlType::kF32);
  options.weight_type = GgmlType::kQ4_0;
  CHECK(WriteSynthModel(options, testing::TempPath("q4.gguf")).message() ==
        "weight type Q4_0 is not one of q8_0, f16, bf16, f32");
  CHECK(!GetSynthShape("1b").ok());
}

TEST_CASE("300m preset has EmbeddingGemma-300M's exact shapes", "[synth]") {
  SynthOptions options;
  options.preset = "300m";
  Result<GgufFile> f = WriteAndOpen(options, "synth-300m.gguf");
  REQUIRE(f.ok());
  const std::string p = "gemma-embedding.";
  CHECK(*f->GetUint(p + "context_length") == 2048);
  CHECK(*f->GetUint(p + "attention.sliding_window") == 512);
  CHECK(*f->GetUint(p + "dense_2_feat_out") == 3072);
  CHECK(f->GetStringArray("tokenizer.ggml.tokens")->size() == 262144);
  // 768 wide, 24 layers, 3 query heads and 1 KV head of 256, ffn 1152, dense 768 -> 3072 -> 768:
  // 316 tensors and 307,581,696 parameters, like the real model.
  CheckTensors(*f, ExpectedTensors(768, 24, 768, 256, 256, 1152, 262144, 3072), GgmlType::kQ8_0);
  int64_t params = 0;
  for (const GgufTensorInfo& t : f->tensors()) params += t.n_elements();
  CHECK(params == 307581696);
}

TEST_CASE("synthetic vocabulary layout", "[synth][vocab]") {
  const SynthVocab v = MakeSynthVocab(262144);
  REQUIRE(v.tokens.size() == 262144);
  REQUIRE(v.scores.size() == 262144);
  REQUIRE(v.types.size() == 262144);
  CHECK(v.tokens[0] == "<pad>");
  CHECK(v.tokens[1] == "<eos>");
  CHECK(v.tokens[2] == "<bos>");
  CHECK(v.tokens[3] == "<unk>");
  CHECK(v.tokens[4] == "<mask>");
  CHECK(v.types[0] == kTokenControl);
  CHECK(v.types[3] == kTokenUnknown);
  CHECK(v.tokens[5] == "<0x00>");
  CHECK(v.tokens[5 + 0x41] == "<0x41>");
  CHECK(v.tokens[260] == "<0xFF>");
  for (int i = 5; i <= 260; ++i) CHECK(v.types[i] == kTokenByte);
  // Every piece is unique (llama.cpp refuses duplicates) and non-empty.
  std::set<std::string> unique(v.tokens.begin(), v.tokens.end());
  CHECK(unique.size() == v.tokens.size());
  CHECK(unique.count("") == 0);
  // NORMAL pieces have strictly decreasing scores; the first one is the bare space piece.
  float last = 1.0f;
  int normal = 0, user_defined = 0;
  size_t first_normal = 0;
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.types[i] == kTokenUserDefined) ++user_defined;
    if (v.types[i] != kTokenNormal) continue;
    if (normal++ == 0) first_normal = i;
    REQUIRE(v.scores[i] < last);
    last = v.scores[i];
  }
  CHECK(v.tokens[first_normal] == kSpace);
  CHECK(user_defined >= 1);
  // Whole words are reachable by merges: each prefix of "▁the" and "▁embedding" is a piece.
  for (const std::string& w : {kSpace + "the", kSpace + "embedding", std::string("embedding")}) {
    for (size_t n = 1; n <= w.size(); ++n) {
      if (n < w.size() && (static_cast<uint8_t>(w[n]) & 0xC0) == 0x80) continue;
      INFO(w.substr(0, n));
      CHECK(unique.count(w.substr(0, n)) == 1);
    }
  }
  // Other scripts are present as characters (Cyrillic 'д', CJK '中').
  CHECK(unique.count("\xD0\xB4") == 1);
  CHECK(unique.count("\xE4\xB8\xAD") == 1);
  // A small vocabulary keeps the same head.
  const SynthVocab small = MakeSynthVocab(4096);
  REQUIRE(small.tokens.size() == 4096);
  for (size_t i = 0; i < 300; ++i) CHECK(small.tokens[i] == v.tokens[i]);
}

}  // namespace
}  // namespace ggufembed
