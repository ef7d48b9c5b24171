// Plain scalar implementations of the model's operations: the definition of what the fast kernels
// compute and their test oracle. Rounding follows ggml where it matters for matching llama.cpp,
// and every result is the same bits on every target (see math_f32.h).
#ifndef GGUFEMBED_SRC_REFERENCE_OPS_H_
#define GGUFEMBED_SRC_REFERENCE_OPS_H_

#include <cstdint>

#include "models/gemma_embedding/weights.h"

namespace ggufembed {

// True for weight types whose products run on int8 activation blocks of 32 in ggml (Q8_0, Q4_0,
// Q5_0, Q4_1, Q5_1).
bool HasInt8Blocks(GgmlType weight_type);

// One 32-value weight block as integers: value j is d·q[j] (+ m for Q4_1/Q5_1, else m = 0).
void UnpackBlock32(GgmlType type, const uint8_t* block, int8_t q[32], float* d, float* m);

// y[t] = W · x[t] for each of `n_tokens` rows; x: [n_tokens × w.cols], y: [n_tokens × w.rows].
// The activations are rounded as ggml rounds them for the weight type, and every f32 sum has a
// fixed order, so SIMD kernels reproduce it bit for bit:
//  - int8-block types: x is quantized to Q8_0 blocks; each block's integer dot product isum is
//    exact (so any SIMD grouping gives it), and the blocks are summed in order as
//    acc = acc + (d_w·d_x)·isum, each operation rounded on its own (no FMA); Q4_1/Q5_1 add
//    m_w·s_x to the block's term first.
//  - other types: x is rounded through the activation type (f16 for f16 weights, Q8_K for
//    K-quants); element i of the dequantized row times x goes into partial sum i mod 8, and the
//    sums are combined ((s0+s4)+(s2+s6))+((s1+s5)+(s3+s7)), the order of a 256-bit reduction.
void MatMulReference(const Matrix& w, const float* x, int n_tokens, float* y);

// out = x · (1/sqrt(mean(x²) + eps)) · weight for `n` values, ggml's RMS norm followed by the
// weight multiply (the squares, f32, are summed in order in double). `out` may alias `x`.
void RmsNormReference(const float* x, const float* weight, int n, float eps, float* out);

// The rotation of position `pos` for each of the n_rot/2 NEOX pairs: angle θ_i = pos·s^i with
// s = base^(-2/n_rot), built like ggml by multiplying θ by s once per pair in f32; cos and sin
// are taken in double and rounded, so they are the same everywhere.
void RopeCosSin(float base, int n_rot, int pos, float* cos_out, float* sin_out);

// Rotates the first `n_rot` values of one head vector in place, NEOX pairing (value i with
// i + n_rot/2), by RopeCosSin's angles.
void RopeNeoxReference(float* x, int n_rot, int pos, float base);

// True when llama.cpp's CPU flash attention keeps the running output sum in f16 for this shape:
// its per-row "one chunk" kernel, used below 64 query rows or when head_dim is not a multiple of
// 16; the tiled kernel accumulates in f32.
inline bool AttentionAccumulatesInF16(int n_tokens, int head_dim) {
  return n_tokens < 64 || head_dim % 16 != 0;
}

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

#endif  // GGUFEMBED_SRC_REFERENCE_OPS_H_
