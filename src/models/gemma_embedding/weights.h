// Weights: non-owning views of a gemma-embedding model's tensors in the mapped GGUF file.
#ifndef GGUFEMBED_MODELS_GEMMA_EMBEDDING_WEIGHTS_H_
#define GGUFEMBED_MODELS_GEMMA_EMBEDDING_WEIGHTS_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "gguf/ggml_type.h"
#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "kernels/matrix.h"
#include "models/gemma_embedding/config.h"
#include "models/tensor_binder.h"

namespace ggufembed::gemma_embedding {

// One transformer block. Shapes are [rows × cols] = [out × in]; norms are f32 vectors that
// already include Gemma's +1.
struct LayerWeights {
  const float* attn_norm;            // [n_embd]
  Matrix attn_q;                     // [n_head·head_dim × n_embd]
  Matrix attn_k;                     // [n_head_kv·head_dim × n_embd]
  Matrix attn_v;                     // [n_head_kv·head_dim_v × n_embd]
  const float* attn_q_norm;          // [head_dim]
  const float* attn_k_norm;          // [head_dim]
  Matrix attn_output;                // [n_embd × n_head·head_dim_v]
  const float* post_attention_norm;  // [n_embd]
  const float* ffn_norm;             // [n_embd]
  Matrix ffn_gate;                   // [n_ff × n_embd]
  Matrix ffn_up;                     // [n_ff × n_embd]
  Matrix ffn_down;                   // [n_embd × n_ff]
  const float* post_ffw_norm;        // [n_embd]
};

struct Weights {
  Matrix token_embd;  // [n_vocab × n_embd]: row t is token t's embedding
  std::vector<LayerWeights> layers;
  const float* output_norm;  // [n_embd]
  bool has_dense = false;
  Matrix dense_2;  // [dense_dim × n_embd]
  Matrix dense_3;  // [n_embd × dense_dim]

  // Finds and checks every tensor `config` implies: presence, shape (an error names the tensor,
  // its shape and the expected one) and type (matrices need a dequantizable type; norms F32, or
  // F16/BF16 converted once to f32). Tensors the model does not use are errors too, except the
  // tied `output.weight`: ignoring, say, a bias would silently give wrong vectors.
  static Result<Weights> FromGguf(const GgufFile& file, const Config& config);

 private:
  std::shared_ptr<const FileBytes> bytes_;  // the views point into these bytes
  TensorBinder::Kept kept_;                 // F16/BF16 norms as f32, the bf16 matrices' Bf16Range
};

}  // namespace ggufembed::gemma_embedding

#endif  // GGUFEMBED_MODELS_GEMMA_EMBEDDING_WEIGHTS_H_
