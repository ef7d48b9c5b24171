// The gemma-embedding forward pass in plain f32 scalar code: the oracle the fast path is tested on.
#ifndef GGUFEMBED_SRC_REFERENCE_FORWARD_H_
#define GGUFEMBED_SRC_REFERENCE_FORWARD_H_

#include <cstdint>

#include "models/gemma_embedding/config.h"
#include "models/gemma_embedding/weights.h"

namespace ggufembed {

// Runs the transformer on one sequence of `n_tokens` valid token ids at positions 0..n_tokens-1
// and writes the final-normed hidden states, [n_tokens × n_embd], to `hidden`. Allocates its
// scratch buffers on every call (it is the reference, not the fast path).
void ReferenceForward(const ModelConfig& config, const ModelWeights& weights,
                      const int32_t* tokens, int n_tokens, float* hidden);

}  // namespace ggufembed

#endif  // GGUFEMBED_SRC_REFERENCE_FORWARD_H_
