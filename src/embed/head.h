// The output head after the transformer: pooling over tokens and L2 normalization.
#ifndef GGUFEMBED_SRC_POOLING_H_
#define GGUFEMBED_SRC_POOLING_H_

#include "models/gemma_embedding/config.h"

namespace ggufembed {

// Number of vectors pooling leaves for `n_tokens` tokens: 1, or n_tokens for kNone.
inline int PooledRows(Pooling pooling, int n_tokens) {
  return pooling == Pooling::kNone ? n_tokens : 1;
}

// Pools hidden states [n_tokens × n] into [PooledRows × n]: mean (Σ h_t · (1/n_tokens), the
// product llama.cpp's pooling matrix computes), cls (the first token), last (the last token), or
// none (every token).
void Pool(Pooling pooling, const float* hidden, int n_tokens, int n, float* out);

// x / ||x||₂ in place, as llama.cpp's common_embd_normalize(..., 2): squares summed in double;
// a zero vector stays zero.
void NormalizeL2(float* x, int n);

}  // namespace ggufembed

#endif  // GGUFEMBED_SRC_POOLING_H_
