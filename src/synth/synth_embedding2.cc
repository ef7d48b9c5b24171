// Writes synthetic gemma-embedding2 (EmbeddingGemma 2 text tower) models with the tensor and key
// layout of llama.cpp's converter (conversion/gemma.py, EmbeddingGemma2Model): per-layer KV
// heads and head sizes, a bool sliding-window pattern, per-layer inputs, an output projection,
// norms as stored (no +1), and a "gemma4" BPE vocabulary with merges.
#include <cmath>
#include <vector>

#include "synth/ftype.h"
#include "synth/gguf_writer.h"
#include "synth/synth_fill.h"
#include "synth/synth_model.h"
#include "synth/synth_tokenizer.h"
#include "synth/synth_vocab.h"
#include "util/error.h"

namespace ggufembed {
namespace {

struct Shape2 {
  uint32_t n_embd, n_layer, n_head, n_ff, n_per_layer, n_out, n_ctx, n_swa, n_vocab;
  uint32_t swa_period;         // layer il slides iff il % period < period - 1
  uint32_t kv_swa, kv_full;    // KV heads of sliding / global layers
  uint32_t hd_swa, hd_full;    // head sizes
  uint32_t rot_swa, rot_full;  // rotated dimensions
  float rope_base, rope_base_swa, rms_eps;
};

Result<Shape2> GetShape2(const std::string& preset) {
  // "tiny": small and unlike the real model: head sizes 40 (not a multiple of 16) and 64, a
  // partial rotation on global layers, a per-layer input width unlike n_embd, a window of ±8.
  if (preset == "tiny") {
    return Shape2{160, 5, 4,  224, 64, 96, 4096, 16,   4096, 3,
                  2,   1, 40, 64,  40, 32, 1e6f, 1e4f, 1e-6f};
  }
  // "270m": EmbeddingGemma 2's text tower (24 layers of 512, layers 5, 11, 17, 23 global with
  // head size 512 and 1 KV head, the others head size 256 and 2 KV heads, window ±512).
  if (preset == "270m") {
    return Shape2{512, 24, 4,   2048, 512, 768, 8192, 1024, 262144, 6,
                  2,   1,  256, 512,  256, 512, 1e6f, 1e4f, 1e-6f};
  }
  // "micro": the fuzzers' seed (tests/fuzz/): one sliding and one global layer, 32 wide, with
  // head sizes 16 and 32, a partial rotation and a 320-piece vocabulary, 49 KB in Q8_0, so
  // that mutations reach the weights.
  if (preset == "micro") {
    return Shape2{32, 2, 2, 32, 32, 24, 64, 16, 320, 2, 2, 1, 16, 32, 16, 16, 1e6f, 1e4f, 1e-6f};
  }
  return Error(StatusCode::kInvalidArgument,
               "unknown preset '%s' for gemma-embedding2 (expected tiny, 270m or micro)",
               preset.c_str());
}

void WriteMetadata(const Shape2& s, const SynthOptions& o, const SynthTokenizer& t,
                   uint32_t file_type, GgufWriter& w) {
  const std::string p = "gemma-embedding2.";
  w.SetString("general.architecture", "gemma-embedding2");
  w.SetString("general.type", "model");
  w.SetString("general.name", "Synthetic EmbeddingGemma 2 " + o.preset);
  w.SetString("general.license", "synthetic-random-weights");
  w.SetU32("general.file_type", file_type);
  w.SetU32("general.quantization_version", 2);
  w.SetU32(p + "context_length", s.n_ctx);
  w.SetU32(p + "embedding_length", s.n_embd);
  w.SetU32(p + "embedding_length_out", s.n_out);
  w.SetU32(p + "embedding_length_per_layer_input", s.n_per_layer);
  w.SetU32(p + "block_count", s.n_layer);
  w.SetU32(p + "feed_forward_length", s.n_ff);
  w.SetU32(p + "attention.head_count", s.n_head);
  std::vector<int32_t> kv;
  std::vector<uint8_t> sliding;  // GGUF bools, one byte each
  for (uint32_t il = 0; il < s.n_layer; ++il) {
    sliding.push_back(il % s.swa_period < s.swa_period - 1);
    kv.push_back(static_cast<int32_t>(sliding.back() ? s.kv_swa : s.kv_full));
  }
  w.SetI32Array(p + "attention.head_count_kv", kv);
  w.SetArray(p + "attention.sliding_window_pattern", GgufType::kBool, sliding.size(),
             sliding.data());
  w.SetU32(p + "attention.key_length", s.hd_full);
  w.SetU32(p + "attention.value_length", s.hd_full);
  w.SetU32(p + "attention.key_length_swa", s.hd_swa);
  w.SetU32(p + "attention.value_length_swa", s.hd_swa);
  w.SetU32(p + "rope.dimension_count", s.rot_full);
  w.SetU32(p + "rope.dimension_count_swa", s.rot_swa);
  w.SetF32(p + "rope.freq_base", s.rope_base);
  w.SetF32(p + "rope.freq_base_swa", s.rope_base_swa);
  w.SetF32(p + "attention.layer_norm_rms_epsilon", s.rms_eps);
  w.SetU32(p + "attention.sliding_window", s.n_swa);
  w.SetBool(p + "attention.causal", false);
  w.SetU32(p + "attention.shared_kv_layers", 0);
  w.SetU32(p + "pooling_type", 1);  // MEAN

  WriteSynthTokenizer(t, w);
}

}  // namespace

Status WriteSynthEmbedding2(const SynthOptions& o, const std::string& path) {
  GGUFEMBED_ASSIGN_OR_RETURN(const Shape2 s, GetShape2(o.preset));
  // output.weight exists, so token_embd.weight is quantized as an embedding, not as the output.
  GGUFEMBED_ASSIGN_OR_RETURN(
      const SynthTensorTypes types,
      SynthTensorTypes::Make(o.ftype, o.weight_type, static_cast<int>(s.n_layer), true));
  GGUFEMBED_ASSIGN_OR_RETURN(
      const SynthTokenizer t,
      MakeSynthTokenizer(o.tokenizer.empty() ? "gemma4" : o.tokenizer, s.n_vocab, o.vocab_json));
  const int64_t n_vocab = static_cast<int64_t>(t.vocab.tokens.size());
  GgufWriter w;
  WriteMetadata(s, o, t, types.file_type(), w);
  auto matrix = [&](const std::string& name, int64_t in, int64_t out) {
    const GgmlType type = types.Matrix(name, in, out);
    w.AddTensor(name, type, {in, out},
                MatrixFill(TensorSeed(o.seed, name), type, in, 1.0 / std::sqrt(double(in))));
  };
  auto vector = [&](const std::string& name, int64_t n, float center, float spread) {
    w.AddTensor(name, GgmlType::kF32, {n}, VectorFill(TensorSeed(o.seed, name), center, spread));
  };
  const int64_t d = s.n_embd, pl = s.n_per_layer;
  matrix("token_embd.weight", d, n_vocab);
  matrix("per_layer_model_proj.weight", d, pl * s.n_layer);
  vector("per_layer_proj_norm.weight", pl, 1.0f, 0.05f);
  for (uint32_t il = 0; il < s.n_layer; ++il) {
    const bool swa = il % s.swa_period < s.swa_period - 1;
    const int64_t hd = swa ? s.hd_swa : s.hd_full, kv = swa ? s.kv_swa : s.kv_full;
    const std::string b = "blk." + std::to_string(il) + ".";
    vector(b + "attn_norm.weight", d, 1.0f, 0.05f);
    matrix(b + "attn_q.weight", d, s.n_head * hd);
    matrix(b + "attn_k.weight", d, kv * hd);
    matrix(b + "attn_v.weight", d, kv * hd);
    // Attention has scale 1 and RMS-normed Q and K: norm weights of hd^(-1/4) keep the scores'
    // spread near 1, as training does, instead of a softmax so sharp that the network becomes
    // chaotic (where one rounding difference changes the whole vector).
    const float qk = static_cast<float>(std::pow(double(hd), -0.25));
    vector(b + "attn_q_norm.weight", hd, qk, 0.05f * qk);
    vector(b + "attn_k_norm.weight", hd, qk, 0.05f * qk);
    matrix(b + "attn_output.weight", s.n_head * hd, d);
    // Post-norms of 0.25 and layer scales near 1 keep each layer's update small beside the
    // residual stream, as in trained models: a deep random network stays stable.
    vector(b + "post_attention_norm.weight", d, 0.25f, 0.01f);
    vector(b + "ffn_norm.weight", d, 1.0f, 0.05f);
    matrix(b + "ffn_gate.weight", d, s.n_ff);
    matrix(b + "ffn_up.weight", d, s.n_ff);
    matrix(b + "ffn_down.weight", s.n_ff, d);
    vector(b + "post_ffw_norm.weight", d, 0.25f, 0.01f);
    matrix(b + "inp_gate.weight", d, pl);
    matrix(b + "proj.weight", pl, d);
    vector(b + "post_norm.weight", d, 0.25f, 0.01f);
    vector(b + "layer_output_scale.weight", 1, 0.95f, 0.04f);
  }
  vector("output_norm.weight", d, 1.0f, 0.05f);
  matrix("output.weight", d, s.n_out);
  return w.WriteFile(path);
}

}  // namespace ggufembed
