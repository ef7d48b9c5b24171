// The llama-quantize presets of `synth --ftype` (synth/ftype.h): EmbeddingGemma-300M's tensor
// types per preset as llama.cpp's src/llama-quant.cpp gives them (the table is written out here
// from the rules, independently of the code), EmbeddingGemma 2's, and synthetic files of both
// architectures whose tensors have those types and hold exactly QuantizeRow of the f32 weights.
#include "synth/ftype.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/embedder.h"
#include "synth/quantize.h"
#include "synth/synth_model.h"
#include "test_util.h"
#include "util/error.h"

#if defined(__x86_64__) && defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <dlfcn.h>
#define GGUFEMBED_HAVE_LLAMA_QUANTIZE 1
#endif

namespace ggufembed {
namespace {

using Tensors = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// EmbeddingGemma-300M's tensors (llama.cpp src/models/gemma-embedding.cpp), ne = [row, rows].
Tensors Tensors300m() {
  Tensors t = {{"token_embd.weight", {768, 262144}},
               {"output_norm.weight", {768}},
               {"dense_2.weight", {768, 3072}},
               {"dense_3.weight", {3072, 768}}};
  for (int il = 0; il < 24; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    for (const char* norm : {"attn_norm", "ffn_norm", "post_attention_norm", "post_ffw_norm"}) {
      t.push_back({b + norm + ".weight", {768}});
    }
    t.push_back({b + "attn_q_norm.weight", {256}});
    t.push_back({b + "attn_k_norm.weight", {256}});
    t.push_back({b + "attn_q.weight", {768, 768}});
    t.push_back({b + "attn_k.weight", {768, 256}});
    t.push_back({b + "attn_v.weight", {768, 256}});
    t.push_back({b + "attn_output.weight", {768, 768}});
    t.push_back({b + "ffn_gate.weight", {768, 1152}});
    t.push_back({b + "ffn_up.weight", {768, 1152}});
    t.push_back({b + "ffn_down.weight", {1152, 768}});
  }
  return t;
}

int LayerOf(const std::string& name) {
  int layer = -1;
  return std::sscanf(name.c_str(), "blk.%d.", &layer) == 1 ? layer : -1;
}

std::string Suffix(const std::string& name) {
  const size_t dot = name.rfind('.', name.size() - 8);  // before ".weight"
  return name.substr(dot == std::string::npos ? 0 : dot + 1);
}

// use_more_bits(i, 24): i < 3, i >= 21, or (i - 3) % 3 == 2.
const std::set<int> kMoreBits24 = {0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23};

// llama-quantize's types for EmbeddingGemma-300M (no output.weight: token_embd is the output,
// Q6_K unless Q8_0; ffn_down rows of 1152 are not whole 256-blocks: Q4_K -> Q5_0, Q5_K -> Q5_1,
// Q6_K -> Q8_0).
GgmlType Expected300m(Ftype ftype, const std::string& name, size_t n_dims) {
  if (n_dims == 1) return GgmlType::kF32;
  const std::string s = Suffix(name);
  const bool more = kMoreBits24.count(LayerOf(name)) > 0;
  switch (ftype) {
    case Ftype::kQ4_K_M:
      if (name == "token_embd.weight") return GgmlType::kQ6_K;
      if (s == "attn_v.weight") return more ? GgmlType::kQ6_K : GgmlType::kQ4_K;
      if (s == "ffn_down.weight") return more ? GgmlType::kQ8_0 : GgmlType::kQ5_0;
      return GgmlType::kQ4_K;
    case Ftype::kQ5_K_M:
      if (name == "token_embd.weight") return GgmlType::kQ6_K;
      if (s == "attn_v.weight") return more ? GgmlType::kQ6_K : GgmlType::kQ5_K;
      if (s == "ffn_down.weight") return more ? GgmlType::kQ8_0 : GgmlType::kQ5_1;
      return GgmlType::kQ5_K;
    case Ftype::kQ6_K:
      if (s == "ffn_down.weight") return GgmlType::kQ8_0;
      return GgmlType::kQ6_K;
    case Ftype::kQ4_0:
      return name == "token_embd.weight" ? GgmlType::kQ6_K : GgmlType::kQ4_0;
    case Ftype::kQ4_1:
      return name == "token_embd.weight" ? GgmlType::kQ6_K : GgmlType::kQ4_1;
    case Ftype::kQ5_0:
      return name == "token_embd.weight" ? GgmlType::kQ6_K : GgmlType::kQ5_0;
    case Ftype::kQ5_1:
      return name == "token_embd.weight" ? GgmlType::kQ6_K : GgmlType::kQ5_1;
    case Ftype::kQ4_0_Qat:
      return name == "token_embd.weight" ? GgmlType::kQ8_0 : GgmlType::kQ4_0;
    case Ftype::kQ8_0:
      return GgmlType::kQ8_0;
    case Ftype::kF16:
      return GgmlType::kF16;
    case Ftype::kBF16:
      return GgmlType::kBF16;
    case Ftype::kF32:
      return GgmlType::kF32;
  }
  return GgmlType::kF32;
}

const Ftype kAllFtypes[] = {Ftype::kF32,    Ftype::kF16,    Ftype::kBF16, Ftype::kQ8_0,
                            Ftype::kQ4_0,   Ftype::kQ4_1,   Ftype::kQ5_0, Ftype::kQ5_1,
                            Ftype::kQ4_K_M, Ftype::kQ5_K_M, Ftype::kQ6_K, Ftype::kQ4_0_Qat};

TEST_CASE("ftype names and file types", "[ftype]") {
  CHECK(*ParseFtype("Q4_K_M") == Ftype::kQ4_K_M);
  CHECK(*ParseFtype("q5_k_m") == Ftype::kQ5_K_M);
  CHECK(*ParseFtype("BF16") == Ftype::kBF16);
  CHECK(*ParseFtype("Q4_0_QAT") == Ftype::kQ4_0_Qat);
  const Result<Ftype> bad = ParseFtype("q3_k_m");
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message() ==
        "unknown ftype 'q3_k_m' (expected f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, "
        "q5_k_m, q6_k or q4_0_qat)");
  // llama.h's llama_ftype values.
  const std::map<std::string, uint32_t> file_types = {
      {"f32", 0},  {"f16", 1},  {"bf16", 32},   {"q8_0", 7},    {"q4_0", 2},  {"q4_1", 3},
      {"q5_0", 8}, {"q5_1", 9}, {"q4_k_m", 15}, {"q5_k_m", 17}, {"q6_k", 18}, {"q4_0_qat", 2}};
  for (Ftype f : kAllFtypes) {
    INFO(FtypeName(f));
    CHECK(*ParseFtype(FtypeName(f)) == f);
    CHECK(FtypeFileType(f) == file_types.at(FtypeName(f)));
  }
}

TEST_CASE("EmbeddingGemma-300M's tensor types per preset", "[ftype]") {
  const Tensors tensors = Tensors300m();
  REQUIRE(tensors.size() == 4 + 24 * 13);
  for (Ftype f : kAllFtypes) {
    std::map<GgmlType, int> counts;
    for (const auto& [name, ne] : tensors) {
      INFO(FtypeName(f) << " " << name);
      const GgmlType got = FtypeTensorType(f, name, ne, LayerOf(name), 24, false);
      CHECK(GgmlTypeName(static_cast<uint32_t>(got)) ==
            std::string(GgmlTypeName(static_cast<uint32_t>(Expected300m(f, name, ne.size())))));
      ++counts[got];
    }
    // Q4_K_M by count: 145 F32 norms; 12 attn_v and 1 token_embd Q6_K; 12 ffn_down Q8_0 and 12
    // Q5_0; the other 12 attn_v, 24 × 5 matrices and dense_2/3 Q4_K.
    if (f == Ftype::kQ4_K_M) {
      CHECK(counts[GgmlType::kF32] == 145);
      CHECK(counts[GgmlType::kQ6_K] == 13);
      CHECK(counts[GgmlType::kQ8_0] == 12);
      CHECK(counts[GgmlType::kQ5_0] == 12);
      CHECK(counts[GgmlType::kQ4_K] == 12 + 120 + 2);
    }
    if (f == Ftype::kQ5_K_M) {
      CHECK(counts[GgmlType::kQ6_K] == 13);
      CHECK(counts[GgmlType::kQ8_0] == 12);
      CHECK(counts[GgmlType::kQ5_1] == 12);
      CHECK(counts[GgmlType::kQ5_K] == 12 + 120 + 2);
    }
  }
  // A model with an output.weight: token_embd.weight keeps the default type; the output follows
  // the output rule.
  CHECK(FtypeTensorType(Ftype::kQ4_K_M, "token_embd.weight", {768, 1000}, -1, 24, true) ==
        GgmlType::kQ4_K);
  CHECK(FtypeTensorType(Ftype::kQ4_K_M, "output.weight", {768, 1000}, -1, 24, true) ==
        GgmlType::kQ6_K);
  // Rows of 48 fit neither a 256-block nor the Q5_0 fallback: F16; nor Q4_0's 32-block, which
  // has no smaller one: F16 too (llama.cpp de3ff81, llama_tensor_get_type's fallback).
  CHECK(FtypeTensorType(Ftype::kQ4_K_M, "blk.3.attn_q.weight", {48, 64}, 3, 24, false) ==
        GgmlType::kF16);
  CHECK(FtypeTensorType(Ftype::kQ4_0, "blk.3.attn_q.weight", {48, 64}, 3, 24, false) ==
        GgmlType::kF16);
  CHECK(FtypeTensorType(Ftype::kQ4_0, "blk.3.attn_q.weight", {64, 64}, 3, 24, false) ==
        GgmlType::kQ4_0);
}

// EmbeddingGemma 2's text tower (the synth 270m preset): output.weight exists, so token_embd is
// not tied; per_layer_model_proj is never quantized (it stays as converted: F16); inp_gate,
// proj and output are other matrices with rows of 512.
TEST_CASE("EmbeddingGemma 2 270m tensor types", "[ftype]") {
  auto type = [](Ftype f, const std::string& name, std::vector<int64_t> ne) {
    return FtypeTensorType(f, name, ne, LayerOf(name), 24, true);
  };
  for (Ftype f : {Ftype::kQ4_K_M, Ftype::kQ5_K_M}) {
    const GgmlType base = f == Ftype::kQ4_K_M ? GgmlType::kQ4_K : GgmlType::kQ5_K;
    CHECK(type(f, "token_embd.weight", {512, 262144}) == base);
    CHECK(type(f, "per_layer_model_proj.weight", {512, 512 * 24}) == GgmlType::kF16);
    CHECK(type(f, "per_layer_proj_norm.weight", {512}) == GgmlType::kF32);
    CHECK(type(f, "output.weight", {512, 768}) == GgmlType::kQ6_K);
    for (int il = 0; il < 24; ++il) {
      const std::string b = "blk." + std::to_string(il) + ".";
      const bool more = kMoreBits24.count(il) > 0;
      const int64_t hd = il % 6 == 5 ? 512 : 256, kv = il % 6 == 5 ? 1 : 2;
      CHECK(type(f, b + "attn_q.weight", {512, 4 * hd}) == base);
      CHECK(type(f, b + "attn_v.weight", {512, kv * hd}) == (more ? GgmlType::kQ6_K : base));
      CHECK(type(f, b + "attn_output.weight", {4 * hd, 512}) == base);
      CHECK(type(f, b + "ffn_down.weight", {2048, 512}) == (more ? GgmlType::kQ6_K : base));
      CHECK(type(f, b + "inp_gate.weight", {512, 512}) == base);
      CHECK(type(f, b + "proj.weight", {512, 512}) == base);
      CHECK(type(f, b + "layer_output_scale.weight", {1}) == GgmlType::kF32);
    }
  }
  CHECK(type(Ftype::kQ4_0_Qat, "token_embd.weight", {512, 262144}) == GgmlType::kQ8_0);
  CHECK(type(Ftype::kQ4_0_Qat, "output.weight", {512, 768}) == GgmlType::kQ8_0);
  CHECK(type(Ftype::kQ4_0_Qat, "blk.5.ffn_down.weight", {2048, 512}) == GgmlType::kQ4_0);
  CHECK(type(Ftype::kQ4_0, "output.weight", {512, 768}) == GgmlType::kQ6_K);
  CHECK(type(Ftype::kBF16, "per_layer_model_proj.weight", {512, 512 * 24}) == GgmlType::kBF16);
  CHECK(type(Ftype::kQ8_0, "output.weight", {512, 768}) == GgmlType::kQ8_0);
}

Result<GgufFile> WriteAndOpen(const SynthOptions& options, const std::string& name) {
  const std::string path = testing::TempPath(name);
  GGUFEMBED_RETURN_IF_ERROR(WriteSynthModel(options, path));
  return GgufFile::Open(path);
}

// Every tensor of `q` has the type `expected` gives its name and holds QuantizeRow of the same
// tensor of the f32 file `f32` (llama-quantize of the f32 model); 1-D tensors are equal.
void CheckAgainstF32(const GgufFile& q, const GgufFile& f32,
                     const std::map<std::string, GgmlType>& expected) {
  REQUIRE(q.tensors().size() == f32.tensors().size());
  REQUIRE(q.tensors().size() == expected.size());
  for (const GgufTensorInfo& t : q.tensors()) {
    const std::string name(t.name);
    INFO(name);
    REQUIRE(expected.count(name) == 1);
    CHECK(GgmlTypeName(static_cast<uint32_t>(t.type)) ==
          std::string(GgmlTypeName(static_cast<uint32_t>(expected.at(name)))));
    const GgufTensorInfo* src = f32.FindTensor(name);
    REQUIRE(src != nullptr);
    REQUIRE(src->type == GgmlType::kF32);
    std::vector<uint8_t> want(t.n_bytes);
    const uint64_t row_bytes = t.row_bytes();
    for (int64_t r = 0; r < t.n_rows(); ++r) {
      const float* x = reinterpret_cast<const float*>(src->data) + r * t.ne[0];
      REQUIRE(QuantizeRow(t.type, x, t.ne[0], want.data() + r * row_bytes).ok());
    }
    CHECK(std::memcmp(want.data(), t.data, t.n_bytes) == 0);
  }
}

TEST_CASE("synth --ftype: gemma-embedding tiny files", "[ftype]") {
  SynthOptions options;
  options.ftype = "f32";
  Result<GgufFile> f32 = WriteAndOpen(options, "ftype-eg-f32.gguf");
  REQUIRE(f32.ok());
  CHECK(*f32->GetUint("general.file_type") == 0);
  // tiny: rows of 128 (n_embd), 192 (q heads, ffn) and 256 (dense_3); 7 layers, use_more_bits
  // layers {2, 5, 6} (7/8 = 0, 49/8 = 6). Rows of 128 and 192 are not 256-blocks.
  const std::set<int> more = {2, 5, 6};
  auto expected = [&](GgmlType narrow, GgmlType wide, GgmlType bumped, GgmlType embd) {
    std::map<std::string, GgmlType> e;
    for (const GgufTensorInfo& t : f32->tensors()) {
      const std::string name(t.name);
      const std::string s = Suffix(name);
      GgmlType type = narrow;
      if (t.n_dims == 1) {
        type = GgmlType::kF32;
      } else if (name == "token_embd.weight") {
        type = embd;
      } else if (name == "dense_3.weight") {
        type = wide;
      } else if ((s == "attn_v.weight" || s == "ffn_down.weight") && more.count(LayerOf(name))) {
        type = bumped;
      }
      e[name] = type;
    }
    return e;
  };
  struct Case {
    const char* ftype;
    uint32_t file_type;
    std::map<std::string, GgmlType> types;
  };
  const GgmlType q4k = GgmlType::kQ4_K, q5k = GgmlType::kQ5_K, q6k = GgmlType::kQ6_K;
  const GgmlType q5_0 = GgmlType::kQ5_0, q5_1 = GgmlType::kQ5_1, q8 = GgmlType::kQ8_0;
  const GgmlType q4 = GgmlType::kQ4_0;
  const Case cases[] = {
      // Q4_K -> Q5_0 on rows of 128/192; Q6_K bumps -> Q8_0; token_embd: 128 is not a Q4_K
      // block, so the output rule gives Q8_0.
      {"q4_k_m", 15, expected(q5_0, q4k, q8, q8)},
      {"Q5_K_M", 17, expected(q5_1, q5k, q8, q8)},
      {"q6_k", 18, expected(q8, q6k, q8, q8)},
      // Q4_0 fits rows of 128, so token_embd gets Q6_K, which falls back to Q8_0.
      {"q4_0", 2, expected(q4, q4, q4, q8)},
      {"q4_0_qat", 2, expected(q4, q4, q4, q8)},
      {"q8_0", 7, expected(q8, q8, q8, q8)},
      {"bf16", 32, expected(GgmlType::kBF16, GgmlType::kBF16, GgmlType::kBF16, GgmlType::kBF16)},
  };
  for (const Case& c : cases) {
    INFO(c.ftype);
    options.ftype = c.ftype;
    Result<GgufFile> q = WriteAndOpen(options, std::string("ftype-eg-") + c.ftype + ".gguf");
    REQUIRE(q.ok());
    CHECK(*q->GetUint("general.file_type") == c.file_type);
    CheckAgainstF32(*q, *f32, c.types);
  }
  options.ftype = "q2_k";
  CHECK(WriteSynthModel(options, testing::TempPath("ftype-bad.gguf"))
            .message()
            .rfind("unknown ftype 'q2_k'", 0) == 0);
}

TEST_CASE("synth --ftype: gemma-embedding2 tiny files", "[ftype]") {
  SynthOptions options;
  options.arch = "gemma-embedding2";
  options.ftype = "f32";
  Result<GgufFile> f32 = WriteAndOpen(options, "ftype-eg2-f32.gguf");
  REQUIRE(f32.ok());
  // tiny: 5 layers of 160 (use_more_bits layers {2, 4}), layer 2 global with head size 64 (its
  // attn_output rows are 4·64 = 256 wide, the only rows that fit a 256-block), per-layer
  // inputs of 64, ffn 224, output.weight [160, 96].
  auto expected = [&](Ftype f) {
    std::map<std::string, GgmlType> e;
    for (const GgufTensorInfo& t : f32->tensors()) {
      const std::string name(t.name);
      const std::string s = Suffix(name);
      const bool more = LayerOf(name) == 2 || LayerOf(name) == 4;
      GgmlType type;
      if (t.n_dims == 1) {
        type = GgmlType::kF32;
      } else if (name == "per_layer_model_proj.weight") {
        type = GgmlType::kF16;
      } else if (f == Ftype::kQ4_0_Qat) {
        type = name == "token_embd.weight" || name == "output.weight" ? GgmlType::kQ8_0
                                                                      : GgmlType::kQ4_0;
      } else if (name == "output.weight") {
        type = GgmlType::kQ8_0;  // 160 is not a 256-block: the output rule's Q8_0
      } else if ((s == "attn_v.weight" || s == "ffn_down.weight") && more) {
        type = GgmlType::kQ8_0;  // Q6_K -> Q8_0
      } else if (s == "attn_output.weight" && LayerOf(name) == 2) {
        type = GgmlType::kQ4_K;
      } else {
        type = GgmlType::kQ5_0;  // Q4_K -> Q5_0 (token_embd is not tied here)
      }
      e[name] = type;
    }
    return e;
  };
  for (Ftype f : {Ftype::kQ4_K_M, Ftype::kQ4_0_Qat}) {
    INFO(FtypeName(f));
    options.ftype = FtypeName(f);
    Result<GgufFile> q = WriteAndOpen(options, std::string("ftype-eg2-") + FtypeName(f) + ".gguf");
    REQUIRE(q.ok());
    CHECK(*q->GetUint("general.file_type") == FtypeFileType(f));
    CheckAgainstF32(*q, *f32, expected(f));
  }
}

// Files of every preset load and embed with the engine, close to the f32 model's vectors (the
// bounds leave room: measured 0.979 to 0.998 for the 4-bit presets, at least 0.9937 for
// q5_k_m, 0.9997 for q6_k and 0.9998 for q8_0, f16 and bf16).
TEST_CASE("synth --ftype: every preset's tiny file loads and embeds", "[ftype]") {
  const std::vector<std::string> texts = {"hello", "The quick brown fox jumps over the lazy dog."};
  for (const char* arch : {"gemma-embedding", "gemma-embedding2"}) {
    std::vector<Embedding> reference;
    for (Ftype f : kAllFtypes) {
      INFO(arch << " " << FtypeName(f));
      SynthOptions options;
      options.arch = arch;
      options.ftype = FtypeName(f);
      const std::string path =
          testing::TempPath(std::string("ftype-embed-") + arch + "-" + FtypeName(f) + ".gguf");
      REQUIRE(WriteSynthModel(options, path).ok());
      Result<std::unique_ptr<Embedder>> e = Embedder::Load(path);
      INFO(e.status().message());
      REQUIRE(e.ok());
      Result<std::vector<Embedding>> v = (*e)->Embed(texts, EmbedOptions{});
      INFO(v.status().message());
      REQUIRE(v.ok());
      if (f == Ftype::kF32) reference = *v;
      for (size_t i = 0; i < texts.size(); ++i) {
        double dot = 0, na = 0, nb = 0;
        for (size_t j = 0; j < (*v)[i].values.size(); ++j) {
          const double a = (*v)[i].values[j], b = reference[i].values[j];
          dot += a * b;
          na += a * a;
          nb += b * b;
        }
        const double cosine = dot / std::sqrt(na * nb);
        const bool four_bit =
            f == Ftype::kQ4_0 || f == Ftype::kQ4_1 || f == Ftype::kQ4_0_Qat || f == Ftype::kQ4_K_M;
        const bool five_bit = f == Ftype::kQ5_0 || f == Ftype::kQ5_1 || f == Ftype::kQ5_K_M;
        const double bound = four_bit ? 0.95 : five_bit ? 0.98 : f == Ftype::kQ6_K ? 0.998 : 0.999;
        INFO("text " << i << ": cosine " << cosine << " with the f32 model's vector");
        CHECK(cosine > bound);
      }
    }
  }
}

#if GGUFEMBED_HAVE_LLAMA_QUANTIZE

// llama_model_quantize_params as llama.cpp release v0.5.0 declares it (include/llama.h), the
// release node-llama-cpp 3.22.1 ships; room to spare after it in case a default-params call
// writes more.
struct LlamaQuantizeParams {
  int32_t nthread;
  int32_t ftype;                 // enum llama_ftype
  int32_t output_tensor_type;    // enum ggml_type
  int32_t token_embedding_type;  // enum ggml_type
  bool allow_requantize, quantize_output_tensor, only_copy, pure, keep_split, dry_run;
  const void* imatrix;
  const void* kv_overrides;
  const void* tt_overrides;
  const int32_t* prune_layers;
  size_t max_buf_size;
  char spare[512];
};

void SilentLog(int, const char*, void*) {}

// The real llama-quantize (llama.cpp's llama_model_quantize, from node-llama-cpp's libllama)
// turns the f32 tiny model into the very files `synth --ftype` writes: same tensor types, same
// bytes, same general.file_type. (The 300m preset gives the same result for every preset, too
// slow for this suite: 18 s a file.) llama.cpp v0.5.0 does not know gemma-embedding2.
TEST_CASE("llama.cpp's llama-quantize writes the files synth --ftype writes", "[ftype][ggml]") {
  std::ifstream release(GGUFEMBED_LLAMA_CPP_RELEASE);
  const std::string text((std::istreambuf_iterator<char>(release)),
                         std::istreambuf_iterator<char>());
  INFO(GGUFEMBED_LLAMA_CPP_RELEASE
       " should name llama.cpp release v0.5.0, whose "
       "llama_model_quantize_params this test declares (npm ci installs it)");
  REQUIRE(text.find("\"v0.5.0\"") != std::string::npos);
  void* llama = dlopen(GGUFEMBED_LLAMA_CPP_BINS "/libllama.v0.5.0.so", RTLD_NOW | RTLD_LOCAL);
  const char* error = llama == nullptr ? dlerror() : "";
  INFO("cannot load libllama: " << (error ? error : "?"));
  REQUIRE(llama != nullptr);
  using DefaultParamsFn = LlamaQuantizeParams (*)();
  using QuantizeFn = uint32_t (*)(const char*, const char*, const LlamaQuantizeParams*);
  using LogSetFn = void (*)(void (*)(int, const char*, void*), void*);
  auto default_params =
      reinterpret_cast<DefaultParamsFn>(dlsym(llama, "llama_model_quantize_default_params"));
  auto quantize = reinterpret_cast<QuantizeFn>(dlsym(llama, "llama_model_quantize"));
  auto log_set = reinterpret_cast<LogSetFn>(dlsym(llama, "llama_log_set"));
  auto backend_init = reinterpret_cast<void (*)()>(dlsym(llama, "llama_backend_init"));
  REQUIRE((default_params && quantize && log_set && backend_init));
  log_set(SilentLog, nullptr);
  backend_init();

  SynthOptions options;
  options.ftype = "f32";
  const std::string f32_path = testing::TempPath("llq-f32.gguf");
  REQUIRE(WriteSynthModel(options, f32_path).ok());
  for (Ftype f : kAllFtypes) {
    INFO(FtypeName(f));
    options.ftype = FtypeName(f);
    const std::string ours_path = testing::TempPath(std::string("llq-ours-") + FtypeName(f));
    const std::string theirs_path = testing::TempPath(std::string("llq-theirs-") + FtypeName(f));
    REQUIRE(WriteSynthModel(options, ours_path).ok());
    LlamaQuantizeParams params = default_params();
    params.nthread = 1;
    params.ftype = static_cast<int32_t>(FtypeFileType(f));
    if (f == Ftype::kQ4_0_Qat) {  // --token-embedding-type Q8_0 --output-tensor-type Q8_0
      params.token_embedding_type = static_cast<int32_t>(GgmlType::kQ8_0);
      params.output_tensor_type = static_cast<int32_t>(GgmlType::kQ8_0);
    }
    REQUIRE(quantize(f32_path.c_str(), theirs_path.c_str(), &params) == 0);
    Result<GgufFile> ours = GgufFile::Open(ours_path);
    Result<GgufFile> theirs = GgufFile::Open(theirs_path);
    REQUIRE(ours.ok());
    REQUIRE(theirs.ok());
    CHECK(*theirs->GetUint("general.file_type") == *ours->GetUint("general.file_type"));
    REQUIRE(theirs->tensors().size() == ours->tensors().size());
    int differences = 0;
    for (const GgufTensorInfo& t : ours->tensors()) {
      const GgufTensorInfo* u = theirs->FindTensor(t.name);
      REQUIRE(u != nullptr);
      if (u->type != t.type || u->n_bytes != t.n_bytes ||
          std::memcmp(u->data, t.data, t.n_bytes) != 0) {
        if (++differences <= 5) {
          FAIL_CHECK(std::string(t.name) + ": ours " + GgmlTypeName(uint32_t(t.type)) +
                     ", llama-quantize's " + GgmlTypeName(uint32_t(u->type)));
        }
      }
    }
    CHECK(differences == 0);
  }
}

#endif  // GGUFEMBED_HAVE_LLAMA_QUANTIZE

}  // namespace
}  // namespace ggufembed
