// Model loading: hyperparameters from metadata, and a clear error for every way a file can
// disagree with the gemma-embedding layout.
#include "models/model.h"

#include <catch2/catch.hpp>

#include "ggufembed/embedder.h"
#include "model_util.h"
#include "models/gemma_embedding/config.h"
#include "models/gemma_embedding/weights.h"
#include "test_util.h"

namespace ggufembed {
namespace {

using testing::Rewrite;
using testing::RewriteModel;

GgufFile Tiny() {
  Result<GgufFile> f = GgufFile::Open(testing::SynthModelPath("tiny"));
  REQUIRE(f.ok());
  return std::move(f).value();
}

// Loads config and weights; returns the first error's message ("" if both load).
std::string LoadError(const GgufFile& f) {
  Result<gemma_embedding::Config> c = gemma_embedding::Config::FromGguf(f);
  if (!c.ok()) return c.status().message();
  Result<gemma_embedding::Weights> w = gemma_embedding::Weights::FromGguf(f, *c);
  return w.ok() ? "" : w.status().message();
}

bool Not(const GgufKv& kv, const char* key) { return kv.key != key; }

// `message` without the scratch directory in front of the file name.
std::string Relative(const std::string& message, const std::string& dir) {
  return message.rfind(dir, 0) == 0 ? message.substr(dir.size()) : message;
}

TEST_CASE("hyperparameters of the tiny and 300m presets", "[model]") {
  Result<gemma_embedding::Config> c = gemma_embedding::Config::FromGguf(Tiny());
  REQUIRE(c.ok());
  CHECK(c->n_embd == 128);
  CHECK(c->n_layer == 7);
  CHECK(c->n_head == 4);
  CHECK(c->n_head_kv == 2);
  CHECK(c->head_dim == 48);
  CHECK(c->head_dim_v == 48);
  CHECK(c->n_rot == 48);
  CHECK(c->n_ff == 192);
  CHECK(c->n_swa == 16);
  CHECK(c->sliding == std::vector<int>{1, 1, 1, 1, 1, 0, 1});  // the file's period 6
  CHECK(c->pooling == Pooling::kMean);
  CHECK(c->dense_dim == 256);
  CHECK(c->n_vocab == 4096);
  CHECK(c->rope_base == 1e6f);
  CHECK(c->rope_base_swa == 1e4f);
  CHECK(c->warnings.empty());
  // Pattern 6: layers 5, 11, ... are global; the rest slide. RoPE base follows.
  for (int il = 0; il < 7; ++il) CHECK(c->IsSlidingLayer(il) == (il != 5));
  CHECK(c->RopeBase(5) == 1e6f);
  CHECK(c->RopeBase(6) == 1e4f);
  Result<GgufFile> big = GgufFile::Open(testing::SynthModelPath("300m"));
  REQUIRE(big.ok());
  Result<gemma_embedding::Config> b = gemma_embedding::Config::FromGguf(*big);
  REQUIRE(b.ok());
  CHECK(b->n_embd == 768);
  CHECK(b->n_layer == 24);
  CHECK(b->n_head == 3);
  CHECK(b->n_head_kv == 1);
  CHECK(b->head_dim == 256);
  CHECK(b->n_ff == 1152);
  CHECK(b->n_swa == 512);
  CHECK(b->dense_dim == 3072);
  CHECK(b->n_vocab == 262144);
  int global = 0;
  for (int il = 0; il < 24; ++il) global += !b->IsSlidingLayer(il);
  CHECK(global == 4);  // layers 5, 11, 17, 23
  CHECK(gemma_embedding::Weights::FromGguf(*big, *b).ok());
}

TEST_CASE("optional keys take llama.cpp's defaults", "[model]") {
  const GgufFile tiny = Tiny();
  Rewrite r;
  r.keep_kv = [](const GgufKv& kv) {
    return Not(kv, "gemma-embedding.attention.head_count_kv") &&
           Not(kv, "gemma-embedding.attention.key_length") &&
           Not(kv, "gemma-embedding.attention.value_length") &&
           Not(kv, "gemma-embedding.rope.freq_base") &&
           Not(kv, "gemma-embedding.rope.freq_base_swa") && Not(kv, "gemma-embedding.pooling_type");
  };
  Result<GgufFile> f = RewriteModel(tiny, r, "defaults.gguf");
  REQUIRE(f.ok());
  Result<gemma_embedding::Config> c = gemma_embedding::Config::FromGguf(*f);
  REQUIRE(c.ok());
  CHECK(c->n_head_kv == 4);  // = head_count
  CHECK(c->head_dim == 32);  // = n_embd / n_head
  CHECK(c->rope_base == 1e4f);
  CHECK(c->pooling == Pooling::kMean);
  // llama.cpp does not pool a file without pooling_type: the one default that differs is said.
  CHECK(c->warnings == std::vector<std::string>{
                           testing::TempPath("defaults.gguf") +
                           ": pooling_type is missing; using mean pooling, EmbeddingGemma's "
                           "(llama.cpp would not pool this file: give it --pooling mean for these "
                           "vectors)"});
  // Those defaults no longer fit the tensors, which is reported per tensor.
  CHECK(LoadError(*f) ==
        testing::TempPath("defaults.gguf") +
            ": tensor 'blk.0.attn_q.weight' has shape [128, 192], expected [128, 128]");
}

TEST_CASE("a sliding-window pattern given per layer is read as llama.cpp reads it", "[model]") {
  // llama.cpp's load_swa_pattern takes an array as one flag per layer (an integer array of equal
  // values was read here as a period: [6, 6, ...] slid as period 6 where llama.cpp slides every
  // layer), and a period otherwise.
  const GgufFile tiny = Tiny();
  const std::string dir = testing::TempPath("");
  const std::string key = "gemma-embedding.attention.sliding_window_pattern";
  auto pattern = [&](std::function<void(GgufWriter&)> set) {
    Rewrite r;
    r.keep_kv = [&](const GgufKv& kv) { return Not(kv, key.c_str()); };
    r.add = set;
    Result<GgufFile> f = RewriteModel(tiny, r, "pattern.gguf");
    REQUIRE(f.ok());
    return f;
  };
  const uint8_t flags[7] = {0, 1, 1, 0, 1, 1, 1};
  Result<GgufFile> f = pattern([&](GgufWriter& w) { w.SetArray(key, GgufType::kBool, 7, flags); });
  Result<gemma_embedding::Config> c = gemma_embedding::Config::FromGguf(*f);
  REQUIRE(c.ok());
  CHECK(c->sliding == std::vector<int>{0, 1, 1, 0, 1, 1, 1});
  CHECK(c->RopeBase(0) == 1e6f);
  CHECK(c->RopeBase(1) == 1e4f);
  f = pattern([&](GgufWriter& w) { w.SetI32Array(key, {1, 1, 1, 1, 1, 1, 0}); });
  c = gemma_embedding::Config::FromGguf(*f);
  REQUIRE(c.ok());
  CHECK(c->sliding == std::vector<int>{1, 1, 1, 1, 1, 1, 0});
  f = pattern([&](GgufWriter& w) { w.SetU32(key, 0); });  // period 0: every layer slides
  c = gemma_embedding::Config::FromGguf(*f);
  REQUIRE(c.ok());
  CHECK(c->sliding == std::vector<int>(7, 1));
  f = pattern([&](GgufWriter& w) { w.SetU32(key, 3); });
  c = gemma_embedding::Config::FromGguf(*f);
  REQUIRE(c.ok());
  CHECK(c->sliding == std::vector<int>{1, 1, 0, 1, 1, 0, 1});
  // Not flags, or not one per layer: named.
  f = pattern([&](GgufWriter& w) { w.SetI32Array(key, std::vector<int32_t>(7, 6)); });
  CHECK(Relative(LoadError(*f), dir) ==
        "pattern.gguf: key 'gemma-embedding.attention.sliding_window_pattern' is 6 for layer 0, "
        "expected 0 to 1");
  f = pattern([&](GgufWriter& w) { w.SetI32Array(key, {1, 0}); });
  CHECK(Relative(LoadError(*f), dir) ==
        "pattern.gguf: key 'gemma-embedding.attention.sliding_window_pattern' is an array of 2 "
        "i32, expected 7 integers (one per layer)");
}

TEST_CASE("pooling_type is read as llama.cpp numbers it", "[model]") {
  // llama.cpp's enum llama_pooling_type: NONE 0, MEAN 1, CLS 2, LAST 3 (RANK 4 is refused below).
  const GgufFile tiny = Tiny();
  for (const auto& [value, pooling] :
       {std::pair{0u, Pooling::kNone}, std::pair{1u, Pooling::kMean}, std::pair{2u, Pooling::kCls},
        std::pair{3u, Pooling::kLast}}) {
    Rewrite r;
    r.keep_kv = [](const GgufKv& kv) { return Not(kv, "gemma-embedding.pooling_type"); };
    r.add = [type = value](GgufWriter& w) { w.SetU32("gemma-embedding.pooling_type", type); };
    Result<GgufFile> f = RewriteModel(tiny, r, "pooling.gguf");
    REQUIRE(f.ok());
    Result<gemma_embedding::Config> c = gemma_embedding::Config::FromGguf(*f);
    REQUIRE(c.ok());
    CHECK(c->pooling == pooling);
    CHECK(c->warnings.empty());
  }
}

TEST_CASE("metadata errors name the key", "[model]") {
  const GgufFile tiny = Tiny();
  const std::string dir = testing::TempPath("");
  auto without = [&](const char* key) {
    Rewrite r;
    r.keep_kv = [key](const GgufKv& kv) { return Not(kv, key); };
    Result<GgufFile> f = RewriteModel(tiny, r, "without.gguf");
    REQUIRE(f.ok());
    return Relative(LoadError(*f), dir);
  };
  CHECK(without("gemma-embedding.block_count") ==
        "without.gguf: required key 'gemma-embedding.block_count' is missing");
  CHECK(without("gemma-embedding.attention.layer_norm_rms_epsilon") ==
        "without.gguf: required key 'gemma-embedding.attention.layer_norm_rms_epsilon' is missing");
  CHECK(without("general.architecture") ==
        "without.gguf: required key 'general.architecture' is missing");

  auto with = [&](std::function<void(GgufWriter&)> add, const char* drop = "") {
    Rewrite r;
    r.keep_kv = [drop](const GgufKv& kv) { return Not(kv, drop); };
    r.add = add;
    Result<GgufFile> f = RewriteModel(tiny, r, "with.gguf");
    REQUIRE(f.ok());
    return Relative(LoadError(*f), dir);
  };
  CHECK(with([](GgufWriter& w) { w.SetF32("gemma-embedding.block_count", 7.0f); }) ==
        "with.gguf: key 'gemma-embedding.block_count' has type f32, expected an integer");
  // The registry's checks (LoadModel): the architecture, with the list it has, and a part of a
  // split file (which failed on the first tensor in another part).
  auto load_with = [&](std::function<void(GgufWriter&)> add, bool keep_metadata = true) {
    Rewrite r;
    if (!keep_metadata) r.keep_kv = [](const GgufKv&) { return false; };
    r.add = add;
    Result<GgufFile> f = RewriteModel(tiny, r, "with.gguf");
    REQUIRE(f.ok());
    Result<std::unique_ptr<Model>> m = LoadModel(*f);
    REQUIRE(!m.ok());
    CHECK(m.status().code() == StatusCode::kUnsupported);
    return Relative(m.status().message(), dir);
  };
  // (A test of the registry in the same process may have added an architecture to the list.)
  CHECK(load_with([](GgufWriter& w) { w.SetString("general.architecture", "bert"); })
            .starts_with("with.gguf: architecture 'bert' is not supported (supported: "
                         "gemma-embedding, gemma-embedding2"));
  CHECK(load_with([](GgufWriter& w) {
          w.SetString("general.architecture", std::string("bert\0x", 6));
        }).starts_with("with.gguf: architecture \"bert\\u0000x\" is not supported (supported: "));
  CHECK(load_with([](GgufWriter& w) {
          w.SetU16("split.no", 0);
          w.SetU16("split.count", 3);
          w.SetI32("split.tensors.count", 40);
        }) ==
        "with.gguf: this is one part (split.no 0) of a GGUF split into 3 (split.count); merge the "
        "parts into one file first (llama-gguf-split --merge FIRST_PART OUT.gguf)");
  // The parts after the first hold tensors and the split keys only (they failed on the
  // architecture's key).
  CHECK(load_with(
            [](GgufWriter& w) {
              w.SetU16("split.no", 2);
              w.SetU16("split.count", 3);
              w.SetI32("split.tensors.count", 40);
            },
            false) ==
        "with.gguf: this is one part (split.no 2) of a GGUF split into 3 (split.count); merge the "
        "parts into one file first (llama-gguf-split --merge FIRST_PART OUT.gguf)");
  CHECK(with([](GgufWriter& w) { w.SetU32("gemma-embedding.attention.head_count_kv", 3); }) ==
        "with.gguf: attention.head_count 4 is not a multiple of attention.head_count_kv 3");
  CHECK(with([](GgufWriter& w) { w.SetU32("gemma-embedding.embedding_length", 0); }) ==
        "with.gguf: key 'gemma-embedding.embedding_length' is 0, expected 1 to 16777216");
  CHECK(with([](GgufWriter& w) { w.SetU32("gemma-embedding.pooling_type", 4); }) ==
        "with.gguf: pooling_type 4 (rank, a reranker head) is not supported");
  CHECK(with([](GgufWriter& w) {
          w.SetF32("gemma-embedding.attention.layer_norm_rms_epsilon", -1);
        }) ==
        "with.gguf: key 'gemma-embedding.attention.layer_norm_rms_epsilon' is -1, expected a "
        "positive number up to 0.01");
  CHECK(with([](GgufWriter& w) { w.SetU32("gemma-embedding.rope.dimension_count", 47); }) ==
        "with.gguf: rope.dimension_count 47 is odd");
  CHECK(with([](GgufWriter& w) { w.SetString("gemma-embedding.rope.scaling.type", "yarn"); }) ==
        "with.gguf: rope.scaling.type 'yarn' is not supported");
  CHECK(with([](GgufWriter& w) { w.SetU32("gemma-embedding.dense_2_feat_in", 64); }) ==
        "with.gguf: gemma-embedding.dense_2_feat_in is 64, expected 128");
  const std::vector<uint32_t> per_layer = {192, 192, 192, 192, 192, 192, 256};
  CHECK(with([&](GgufWriter& w) {
          w.SetU32Array("gemma-embedding.feed_forward_length", per_layer);
        }) ==
        "with.gguf: key 'gemma-embedding.feed_forward_length' differs between layers; per-layer "
        "values are not supported");
  // Equal per-layer values are accepted.
  const std::vector<uint32_t> same(7, 192);
  CHECK(with([&](GgufWriter& w) { w.SetU32Array("gemma-embedding.feed_forward_length", same); }) ==
        "");
}

TEST_CASE("tensor errors name the tensor", "[model]") {
  const GgufFile tiny = Tiny();
  const std::string dir = testing::TempPath("");
  auto error = [&](const Rewrite& r) {
    Result<GgufFile> f = RewriteModel(tiny, r, "t.gguf");
    REQUIRE(f.ok());
    return Relative(LoadError(*f), dir);
  };
  Rewrite missing;
  missing.keep_tensor = [](const GgufTensorInfo& t) { return t.name != "blk.3.ffn_up.weight"; };
  CHECK(error(missing) == "t.gguf: tensor 'blk.3.ffn_up.weight' is missing");

  Rewrite reshaped;  // same bytes, rows and columns swapped
  reshaped.keep_tensor = [](const GgufTensorInfo& t) { return t.name != "blk.1.attn_k.weight"; };
  reshaped.add = [&](GgufWriter& w) {
    testing::CopyTensor(w, *tiny.FindTensor("blk.1.attn_k.weight"), "blk.1.attn_k.weight",
                        {96, 128});
  };
  CHECK(error(reshaped) ==
        "t.gguf: tensor 'blk.1.attn_k.weight' has shape [96, 128], expected [128, 96]");

  Rewrite extra;
  extra.add = [&](GgufWriter& w) {
    testing::CopyTensor(w, *tiny.FindTensor("blk.0.attn_norm.weight"), "blk.0.attn_q.bias", {128});
  };
  CHECK(error(extra) ==
        "t.gguf: tensor 'blk.0.attn_q.bias' is not part of a gemma-embedding model; refusing to "
        "ignore it");

  Rewrite tied;  // the tied LM head is allowed and ignored
  tied.add = [&](GgufWriter& w) {
    testing::CopyTensor(w, *tiny.FindTensor("token_embd.weight"), "output.weight", {128, 4096});
  };
  CHECK(error(tied) == "");

  Rewrite half_dense;
  half_dense.keep_tensor = [](const GgufTensorInfo& t) { return t.name != "dense_3.weight"; };
  CHECK(error(half_dense) == "t.gguf: 'dense_2.weight' is present without 'dense_3.weight'");

  Rewrite q2k;  // a matrix in a type without a dequantizer (bytes of the right size)
  q2k.keep_tensor = [](const GgufTensorInfo& t) { return t.name != "blk.2.ffn_gate.weight"; };
  q2k.add = [](GgufWriter& w) {
    w.AddTensor("blk.2.ffn_gate.weight", GgmlType::kQ2_K, {256, 192},
                std::vector<uint8_t>(192 * 84));
  };
  // ne[0] = 256 is also the wrong shape; a Q2_K matrix of the right shape cannot exist (128 is
  // not a multiple of 256), so the shape is what is reported.
  CHECK(error(q2k) ==
        "t.gguf: tensor 'blk.2.ffn_gate.weight' has shape [256, 192], expected [128, 192]");

  Rewrite iq4;  // IQ4_NL has 32-element blocks, so a correctly shaped matrix exists
  iq4.keep_tensor = [](const GgufTensorInfo& t) { return t.name != "blk.2.ffn_gate.weight"; };
  iq4.add = [](GgufWriter& w) {
    w.AddTensor("blk.2.ffn_gate.weight", GgmlType::kIQ4_NL, {128, 192},
                std::vector<uint8_t>(192 * 4 * 18));
  };
  CHECK(error(iq4) ==
        "t.gguf: tensor 'blk.2.ffn_gate.weight' has type IQ4_NL, which is not supported "
        "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");

  Rewrite f16_norm;  // F16 norms are converted, not rejected
  f16_norm.keep_tensor = [](const GgufTensorInfo& t) { return t.name != "output_norm.weight"; };
  f16_norm.add = [](GgufWriter& w) {
    std::vector<uint8_t> ones(256);
    for (size_t i = 0; i < ones.size(); i += 2) ones[i + 1] = 0x3C;  // f16 1.0
    w.AddTensor("output_norm.weight", GgmlType::kF16, {128}, ones);
  };
  CHECK(error(f16_norm) == "");
}

TEST_CASE("a file without dense layers loads with a note", "[model]") {
  Result<std::unique_ptr<Embedder>> e =
      Embedder::Load(testing::SynthModelPath("tiny", GgmlType::kQ8_0, false));
  REQUIRE(e.ok());
  CHECK(!(*e)->info().has_dense);
  REQUIRE((*e)->warnings().size() == 1);
  CHECK((*e)->warnings()[0].find("no dense_2/dense_3 projections") != std::string::npos);
}

TEST_CASE("a file laid out with general.alignment 1 embeds as the aligned one", "[model]") {
  const std::string path = testing::SynthModelPath("tiny");
  Result<GgufFile> src = GgufFile::Open(path);
  REQUIRE(src.ok());
  Rewrite packed;
  packed.add = [](GgufWriter& w) {
    w.set_alignment(1);
    w.SetU8("general.pad0", 0);  // 25 bytes of key and value: the data starts at an odd offset
  };
  Result<GgufFile> written = RewriteModel(*src, packed, "model-align-1.gguf");
  REQUIRE(written.ok());
  // So the F32 norms lie at offsets that are not multiples of 4 (read in place, a misaligned
  // load: they are copied).
  REQUIRE(written->data_offset() % 2 == 1);
  Result<std::unique_ptr<Embedder>> aligned = Embedder::Load(path);
  Result<std::unique_ptr<Embedder>> unaligned =
      Embedder::Load(testing::TempPath("model-align-1.gguf"));
  REQUIRE(aligned.ok());
  REQUIRE(unaligned.ok());
  const std::vector<std::string> texts = {"The quick brown fox", "jumps over the lazy dog."};
  Result<std::vector<Embedding>> a = (*aligned)->Embed(texts, {});
  Result<std::vector<Embedding>> b = (*unaligned)->Embed(texts, {});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  for (size_t i = 0; i < texts.size(); ++i) CHECK((*a)[i].values == (*b)[i].values);
}

TEST_CASE("a vocabulary-only file is not a model", "[model]") {
  Result<std::unique_ptr<Embedder>> e =
      Embedder::Load(testing::DataPath("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"));
  REQUIRE(!e.ok());
  CHECK(e.status().code() == StatusCode::kUnsupported);
  CHECK(e.status().message().find("architecture 'llama' is not supported") != std::string::npos);
}

}  // namespace
}  // namespace ggufembed
