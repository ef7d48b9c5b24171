// Config: an EmbeddingGemma 2 (gemma-embedding2) text tower's hyperparameters, read and checked
// from GGUF metadata with llama.cpp's keys and defaults. Sliding and global layers differ in head
// size, KV heads, rotated dimensions and RoPE base.
#ifndef GGUFEMBED_MODELS_GEMMA_EMBEDDING2_CONFIG_H_
#define GGUFEMBED_MODELS_GEMMA_EMBEDDING2_CONFIG_H_

#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "ggufembed/types.h"

namespace ggufembed::gemma_embedding2 {

// The attention shape of one layer.
struct LayerShape {
  bool sliding;     // attention.sliding_window_pattern: attends to |Δpos| <= n_swa/2
  int n_head_kv;    // attention.head_count_kv[il]
  int head_dim;     // attention.key_length(_swa)
  int head_dim_v;   // attention.value_length(_swa)
  int n_rot;        // rope.dimension_count(_swa): rotated dimensions per head, NEOX pairing
  float rope_base;  // rope.freq_base(_swa)
};

struct Config {
  std::string architecture;  // "gemma-embedding2"
  std::string name;          // general.name, if any
  int n_ctx_train;           // context_length
  int n_embd;                // embedding_length
  int n_embd_out;            // embedding_length_out: width of the `output` projection
  int n_embd_per_layer;      // embedding_length_per_layer_input
  int n_layer;               // block_count
  int n_head;                // attention.head_count
  int n_ff;                  // feed_forward_length
  int n_swa;                 // attention.sliding_window as stored (a window of 2·(n_swa/2)+1)
  float rms_eps;             // attention.layer_norm_rms_epsilon
  Pooling pooling;           // pooling_type (mean when absent)
  int n_vocab;               // entries in tokenizer.ggml.tokens
  std::vector<LayerShape> layers;
  std::vector<std::string> warnings;

  // The widest head, KV projection and query projection over all layers (for buffer sizes).
  int max_head_dim() const;
  int max_head_dim_v() const;
  int max_q_dim() const;
  int max_kv_dim() const;

  static Result<Config> FromGguf(const GgufFile& file);
};

}  // namespace ggufembed::gemma_embedding2

#endif  // GGUFEMBED_MODELS_GEMMA_EMBEDDING2_CONFIG_H_
