// The errors of a forward pass that meets a NaN or an infinity: where the first one is, in words
// a user can act on. (Kernels give non-finite values defined behaviour; the passes check the
// residual stream after every block and fail here.)
#ifndef GGUFEMBED_MODELS_NOT_FINITE_H_
#define GGUFEMBED_MODELS_NOT_FINITE_H_

#include <cstdint>

#include "ggufembed/status.h"

namespace ggufembed {

// The error for activations x [rows × cols] holding a NaN or an infinity after `block` of layer
// `layer` (e.g. "attention"): names the first such value's token and column.
Status NotFiniteActivations(const float* x, int rows, int cols, int layer, const char* block);

// The error for a pass's output y [rows × cols], the product of `tensor` after the last layer's
// check, holding a NaN or an infinity; `why` says what can cause it.
Status NotFiniteOutput(const float* y, int rows, int cols, const char* tensor, const char* why);

// The error for token embeddings x [rows × cols], read from `tensor` at rows ids[t], holding a
// NaN or an infinity: names the tensor's row.
Status NotFiniteEmbedding(const float* x, int rows, int cols, const int32_t* ids,
                          const char* tensor);

}  // namespace ggufembed

#endif  // GGUFEMBED_MODELS_NOT_FINITE_H_
