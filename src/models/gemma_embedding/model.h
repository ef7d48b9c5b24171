// gemma-embedding (EmbeddingGemma-300M): the architecture's entry in the registry and its two
// forward passes (forward.cc on SIMD kernels, reference_forward.cc in plain scalar code).
#ifndef GGUFEMBED_MODELS_GEMMA_EMBEDDING_MODEL_H_
#define GGUFEMBED_MODELS_GEMMA_EMBEDDING_MODEL_H_

#include <cstdint>

#include "models/gemma_embedding/config.h"
#include "models/gemma_embedding/weights.h"
#include "models/model.h"

namespace ggufembed::gemma_embedding {

// general.architecture = "gemma-embedding".
extern const Architecture kArchitecture;

// The final-normed hidden states [n_tokens × n_embd] of the texts of `tokens` (Model::Forward), on
// the SIMD target chosen for this call.
Status Forward(const Config& config, const Weights& weights, const PassTokens& tokens,
               ForwardWorkspace& workspace, float* hidden, OpProfile* profile);

// The same for one text of n_tokens in plain scalar code (allocates on every call).
void ForwardReference(const Config& config, const Weights& weights, const int32_t* tokens,
                      int n_tokens, float* hidden);

}  // namespace ggufembed::gemma_embedding

#endif  // GGUFEMBED_MODELS_GEMMA_EMBEDDING_MODEL_H_
