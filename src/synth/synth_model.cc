// Writes synthetic gemma-embedding models with the tensor and key layout of llama.cpp's converter.
#include "synth/synth_model.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "synth/ftype.h"
#include "synth/gguf_writer.h"
#include "synth/synth_fill.h"
#include "synth/synth_tokenizer.h"
#include "synth/synth_vocab.h"
#include "util/error.h"
#include "util/fp16.h"

namespace ggufembed {
Result<SynthShape> GetSynthShape(const std::string& preset) {
  if (preset == "tiny") {
    return SynthShape{"tiny", 128, 7, 4, 2, 48, 192, 2048, 16, 4096, 256, 1e6f, 1e4f, 1e-6f};
  }
  if (preset == "300m") {
    return SynthShape{"300m", 768, 24, 3, 1, 256, 1152, 2048, 512, 262144, 3072, 1e6f, 1e4f, 1e-6f};
  }
  return Error(StatusCode::kInvalidArgument, "unknown preset '%s' (expected tiny or 300m)",
               preset.c_str());
}

namespace {

// Every metadata key of an EmbeddingGemma file, and its SentencePiece vocabulary.
void WriteMetadata(const SynthShape& s, const SynthOptions& options, const SynthTokenizer& t,
                   uint32_t file_type, GgufWriter& w) {
  const std::string arch = "gemma-embedding";
  const std::string p = arch + ".";
  w.SetString("general.architecture", arch);
  w.SetString("general.type", "model");
  w.SetString("general.name", "Synthetic EmbeddingGemma " + s.preset);
  w.SetString("general.size_label", s.preset == "300m" ? "300M" : "tiny");
  w.SetString("general.license", "synthetic-random-weights");
  w.SetU32("general.file_type", file_type);
  w.SetU32("general.quantization_version", 2);
  w.SetU32(p + "context_length", s.n_ctx);
  w.SetU32(p + "embedding_length", s.n_embd);
  w.SetU32(p + "block_count", s.n_layer);
  w.SetU32(p + "feed_forward_length", s.n_ff);
  w.SetU32(p + "attention.head_count", s.n_head);
  w.SetU32(p + "attention.head_count_kv", s.n_head_kv);
  w.SetU32(p + "attention.key_length", s.head_dim);
  w.SetU32(p + "attention.value_length", s.head_dim);
  w.SetF32(p + "attention.layer_norm_rms_epsilon", s.rms_eps);
  w.SetU32(p + "attention.sliding_window", s.n_swa);
  w.SetF32(p + "rope.freq_base", s.rope_base);
  w.SetF32(p + "rope.freq_base_swa", s.rope_base_swa);
  w.SetU32(p + "pooling_type", 1);  // MEAN
  if (options.dense) {
    w.SetU32(p + "dense_2_feat_in", s.n_embd);
    w.SetU32(p + "dense_2_feat_out", s.dense_dim);
    w.SetU32(p + "dense_3_feat_in", s.dense_dim);
    w.SetU32(p + "dense_3_feat_out", s.n_embd);
  }
  WriteSynthTokenizer(t, w);
}
}  // namespace

Status WriteSynthModel(const SynthOptions& options, const std::string& path) {
  const GgmlType wt = options.weight_type;
  if (options.ftype.empty() && wt != GgmlType::kQ8_0 && wt != GgmlType::kF16 &&
      wt != GgmlType::kBF16 && wt != GgmlType::kF32) {
    return Error(StatusCode::kInvalidArgument, "weight type %s is not one of q8_0, f16, bf16, f32",
                 GetGgmlType(wt).name);
  }
  if (options.arch == "gemma-embedding2") {
    // Its conformance runs against one llama.cpp build only (wllama), so no second build can
    // say how far such a file's rounding lets two correct engines part.
    if (options.outliers) {
      return Error(StatusCode::kInvalidArgument, "outliers are for gemma-embedding files only");
    }
    return WriteSynthEmbedding2(options, path);
  }
  if (options.arch != "gemma-embedding") {
    return Error(StatusCode::kInvalidArgument,
                 "architecture '%s' is not one of gemma-embedding, gemma-embedding2",
                 options.arch.c_str());
  }
  GGUFEMBED_ASSIGN_OR_RETURN(const SynthShape s, GetSynthShape(options.preset));
  // No output.weight: token_embd.weight is also the output (llama-quantize's tied embeddings).
  GGUFEMBED_ASSIGN_OR_RETURN(
      const SynthTensorTypes types,
      SynthTensorTypes::Make(options.ftype, wt, static_cast<int>(s.n_layer), false));
  GgufWriter w;
  GGUFEMBED_ASSIGN_OR_RETURN(
      const SynthTokenizer t,
      MakeSynthTokenizer(options.tokenizer.empty() ? "llama" : options.tokenizer, s.n_vocab,
                         options.vocab_json));
  const int64_t n_vocab = static_cast<int64_t>(t.vocab.tokens.size());
  WriteMetadata(s, options, t, types.file_type(), w);
  const uint64_t seed = options.seed;
  const int64_t d = s.n_embd, q = int64_t{s.n_head} * s.head_dim;
  const int64_t kv = int64_t{s.n_head_kv} * s.head_dim, ff = s.n_ff;
  auto matrix = [&](const std::string& name, int64_t in, int64_t out, double std) {
    const GgmlType type = types.Matrix(name, in, out);
    w.AddTensor(name, type, {in, out}, MatrixFill(TensorSeed(seed, name), type, in, std));
  };
  // `stream`: a norm of the residual stream's width, whose outlier channels --outliers raises.
  auto norm = [&](const std::string& name, int64_t n, bool stream = true) {
    const float outlier_scale = options.outliers && stream ? 40.0f : 1.0f;
    w.AddTensor(name, GgmlType::kF32, {n},
                VectorFill(TensorSeed(seed, name), 1.0f, 0.05f, outlier_scale));
  };
  matrix("token_embd.weight", d, n_vocab, 1.0 / std::sqrt(double(d)));
  for (uint32_t il = 0; il < s.n_layer; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    norm(b + "attn_norm.weight", d);
    matrix(b + "attn_q.weight", d, q, 1.0 / std::sqrt(double(d)));
    matrix(b + "attn_k.weight", d, kv, 1.0 / std::sqrt(double(d)));
    matrix(b + "attn_v.weight", d, kv, 1.0 / std::sqrt(double(d)));
    norm(b + "attn_q_norm.weight", s.head_dim, false);
    norm(b + "attn_k_norm.weight", s.head_dim, false);
    matrix(b + "attn_output.weight", q, d, 1.0 / std::sqrt(double(q)));
    norm(b + "post_attention_norm.weight", d);
    norm(b + "ffn_norm.weight", d);
    matrix(b + "ffn_gate.weight", d, ff, 1.0 / std::sqrt(double(d)));
    matrix(b + "ffn_up.weight", d, ff, 1.0 / std::sqrt(double(d)));
    matrix(b + "ffn_down.weight", ff, d, 1.0 / std::sqrt(double(ff)));
    norm(b + "post_ffw_norm.weight", d);
  }
  norm("output_norm.weight", d);
  if (options.dense) {
    matrix("dense_2.weight", d, s.dense_dim, 1.0 / std::sqrt(double(d)));
    matrix("dense_3.weight", s.dense_dim, d, 1.0 / std::sqrt(double(s.dense_dim)));
  }
  return w.WriteFile(path);
}

}  // namespace ggufembed
