// Weights: non-owning views of a gemma-embedding2 model's tensors in the mapped GGUF file, named
// and shaped as llama.cpp's converter writes them. Norm weights are used as stored (the
// converter folds no +1 in for this architecture).
#ifndef GGUFEMBED_MODELS_GEMMA_EMBEDDING2_WEIGHTS_H_
#define GGUFEMBED_MODELS_GEMMA_EMBEDDING2_WEIGHTS_H_

#include <memory>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "kernels/matrix.h"
#include "models/gemma_embedding2/config.h"
#include "models/tensor_binder.h"

namespace ggufembed::gemma_embedding2 {

// One transformer block; shapes are [rows × cols] = [out × in], hd/hd_v the layer's head sizes.
struct LayerWeights {
  const float* attn_norm;            // [n_embd]
  Matrix attn_q;                     // [n_head·hd × n_embd]
  Matrix attn_k;                     // [n_head_kv·hd × n_embd]
  Matrix attn_v;                     // [n_head_kv·hd_v × n_embd]
  const float* attn_q_norm;          // [hd]
  const float* attn_k_norm;          // [hd]  (V is normed without a weight)
  Matrix attn_output;                // [n_embd × n_head·hd_v]
  const float* post_attention_norm;  // [n_embd]
  const float* ffn_norm;             // [n_embd]
  Matrix ffn_gate;                   // [n_ff × n_embd]
  Matrix ffn_up;                     // [n_ff × n_embd]
  Matrix ffn_down;                   // [n_embd × n_ff]
  const float* post_ffw_norm;        // [n_embd]
  Matrix inp_gate;                   // [n_embd_per_layer × n_embd]
  Matrix proj;                       // [n_embd × n_embd_per_layer]
  const float* post_norm;            // [n_embd]
  float output_scale;                // layer_output_scale: the layer's output times this
};

struct Weights {
  Matrix token_embd;                 // [n_vocab × n_embd]
  Matrix per_layer_model_proj;       // [n_layer·n_embd_per_layer × n_embd]: layer il's rows
                                     // are il·n_embd_per_layer ... (il+1)·n_embd_per_layer - 1
  const float* per_layer_proj_norm;  // [n_embd_per_layer], shared by every layer
  std::vector<LayerWeights> layers;
  const float* output_norm;  // [n_embd]
  Matrix output;             // [n_embd_out × n_embd]

  // Layer il's rows of per_layer_model_proj.
  Matrix PerLayerProj(int il, int n_embd_per_layer) const;

  // Finds and checks every tensor `config` implies (errors name the tensor, its shape and the
  // expected one); tensors the model does not use are errors too.
  static Result<Weights> FromGguf(const GgufFile& file, const Config& config);

 private:
  std::shared_ptr<const FileBytes> bytes_;
  TensorBinder::Kept kept_;  // F16/BF16 norms as f32, the bf16 matrices' Bf16Range
};

}  // namespace ggufembed::gemma_embedding2

#endif  // GGUFEMBED_MODELS_GEMMA_EMBEDDING2_WEIGHTS_H_
