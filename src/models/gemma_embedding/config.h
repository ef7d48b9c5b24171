// Config: a gemma-embedding model's hyperparameters, read and checked from GGUF metadata.
#ifndef GGUFEMBED_MODELS_GEMMA_EMBEDDING_CONFIG_H_
#define GGUFEMBED_MODELS_GEMMA_EMBEDDING_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "ggufembed/types.h"

namespace ggufembed::gemma_embedding {

struct Config {
  std::string architecture;  // "gemma-embedding"
  std::string name;          // general.name, if any
  int n_ctx_train;           // context_length: the longest input in tokens
  int n_embd;                // embedding_length
  int n_layer;               // block_count
  int n_head;                // attention.head_count
  int n_head_kv;             // attention.head_count_kv (GQA: n_head / n_head_kv query heads each)
  int head_dim;              // attention.key_length
  int head_dim_v;            // attention.value_length
  int n_ff;                  // feed_forward_length
  int n_rot;                 // rope.dimension_count (rotated dimensions per head, NEOX pairing)
  int n_swa;  // attention.sliding_window: sliding layers attend to |Δpos| <= n_swa/2
  std::vector<int> sliding;  // [n_layer] 1: the layer attends within the window (GetSlidingLayers)
  float rms_eps;             // attention.layer_norm_rms_epsilon
  float rope_base;           // rope.freq_base, for global layers
  float rope_base_swa;       // rope.freq_base_swa, for sliding-window layers
  Pooling pooling;           // pooling_type (mean when absent)
  int dense_dim;             // dense_2 output width, 0 without the dense projections
  int n_vocab;               // entries in tokenizer.ggml.tokens
  std::vector<std::string> warnings;  // suspicious but loadable settings, said once at load

  bool IsSlidingLayer(int il) const { return sliding[il] != 0; }
  float RopeBase(int il) const { return IsSlidingLayer(il) ? rope_base_swa : rope_base; }

  // Reads the hyperparameters under the file's `general.architecture` prefix ("gemma-embedding":
  // LoadModel chose this reader by it). Missing required keys, wrong types and impossible values
  // (zero sizes, heads not dividing, odd rotary size) are errors naming the key and the value.
  static Result<Config> FromGguf(const GgufFile& file);
};

}  // namespace ggufembed::gemma_embedding

#endif  // GGUFEMBED_MODELS_GEMMA_EMBEDDING_CONFIG_H_
