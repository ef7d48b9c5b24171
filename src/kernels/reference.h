// Plain scalar implementations of the model's operations: the definition of what the fast kernels
// compute and their test oracle. Rounding follows ggml where it matters for matching llama.cpp,
// and every result is the same bits on every target (see numerics.h).
#ifndef GGUFEMBED_KERNELS_REFERENCE_H_
#define GGUFEMBED_KERNELS_REFERENCE_H_

#include <cstdint>

#include "kernels/matrix.h"
#include "kernels/numerics.h"

namespace ggufembed {

// y[t] = W · x[t] for each of `n_tokens` rows; x: [n_tokens × w.cols], y: [n_tokens × w.rows].
// The activations are rounded as ggml rounds them for the weight type (activation_quant.h), and
// the sums follow numerics.h, orders 1 (int8-block types), 1b (K-quants) and 2 (the others).
void MatMulReference(const Matrix& w, const float* x, int n_tokens, float* y);

// out = x · (1/sqrt(mean(x²) + eps)) · weight for `n` values, ggml's RMS norm followed by the
// weight multiply (the squares, f32, are summed in order in double); a null `weight` is a norm
// without one (x · scale). `out` may alias `x`.
void RmsNormReference(const float* x, const float* weight, int n, float eps, float* out);

// The rotation of position `pos` for each of the n_rot/2 NEOX pairs: angle θ_i = pos·s^i with
// s = base^(-2/n_rot), built like ggml by multiplying θ by s once per pair in f32; cos and sin
// are taken in double and rounded, so they are the same everywhere.
void RopeCosSin(float base, int n_rot, int pos, float* cos_out, float* sin_out);

// Rotates the first `n_rot` values of one head vector in place, NEOX pairing (value i with
// i + n_rot/2), by RopeCosSin's angles.
void RopeNeoxReference(float* x, int n_rot, int pos, float base);

// Softmax attention of one sequence with no causal mask, with the numerics of llama.cpp's CPU
// flash attention (its default): K and V rounded to f16; in the one-chunk case Q rounded to f16
// and the running value sum rounded to f16 after every key; an online softmax over keys in order
// with ExpF32. Scores are dot products summed like MatMulReference's float path.
// q: [T × n_head·head_dim] (already scaled), k: [T × n_head_kv·head_dim],
// v: [T × n_head_kv·head_dim_v], out: [T × n_head·head_dim_v], heads concatenated. Query head h
// reads KV head h / (n_head/n_head_kv). With `half_window` >= 0, query t sees only keys u with
// |t − u| <= half_window (the symmetric sliding window).
void AttentionReference(const float* q, const float* k, const float* v, int n_tokens, int n_head,
                        int n_head_kv, int head_dim, int head_dim_v, int half_window, float* out);

}  // namespace ggufembed

#endif  // GGUFEMBED_KERNELS_REFERENCE_H_
