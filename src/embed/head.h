// The output head, one for every architecture and for both the SIMD and reference paths:
// pooling over tokens → projections → Matryoshka cut → L2 normalization.
#ifndef GGUFEMBED_EMBED_HEAD_H_
#define GGUFEMBED_EMBED_HEAD_H_

#include <vector>

#include "ggufembed/status.h"
#include "ggufembed/types.h"
#include "models/model.h"
#include "util/arena.h"
#include "util/capacity.h"

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

struct HeadOptions {
  Pooling pooling;
  int dim;         // Matryoshka size, 1..head.output_dim
  bool normalize;  // L2
  bool reference;  // projections on the scalar reference instead of the SIMD kernels
};

// The memory of the head, kept between calls (no allocation once warm).
struct HeadWorkspace {
  std::vector<float> rows[2];  // pooled rows, then each projection's output in turn
  Arena matmul;

  size_t bytes() const {
    return CapacityBytes(rows[0]) + CapacityBytes(rows[1]) + matmul.capacity();
  }
};

// Turns hidden states [n_tokens × head.n_embd] into [PooledRows × options.dim] in `out`.
Status RunHead(const ModelHead& head, const float* hidden, int n_tokens, const HeadOptions& options,
               HeadWorkspace& workspace, float* out, OpProfile* profile);

// Multiply-adds of the projections for `rows` pooled rows.
double HeadMultiplyAdds(const ModelHead& head, int rows);

}  // namespace ggufembed

#endif  // GGUFEMBED_EMBED_HEAD_H_
