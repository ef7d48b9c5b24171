// The shapes the matrix-product kernels (matmul.cc) share with their callers and tests: tile
// sizes, the layouts of prepared activations, and how their buffers are carved from an arena.
#ifndef GGUFEMBED_KERNELS_MATMUL_H_
#define GGUFEMBED_KERNELS_MATMUL_H_

#include <cstddef>
#include <cstdint>

#include "gguf/ggml_type.h"
#include "ggufembed/status.h"
#include "kernels/matrix.h"
#include "util/arena.h"

namespace ggufembed {

// Weight rows per tile of the tokens-in-lanes kernels.
inline constexpr int kTileRows = 4;
// Tokens per vector of the widest kernel (AVX-512: 16 int32 or f32 lanes); a tile holds two.
inline constexpr int kMaxTokenLanes = 16;
inline constexpr int kTileTokens = 2 * kMaxTokenLanes;
// Floats of one tile's results, [kTileRows][kTileTokens].
inline constexpr size_t kTileOutputFloats = size_t(kTileRows) * kTileTokens;

// Tokens are padded to a whole tile, so kernels whose vector lanes are tokens never read past
// the prepared activations — and then by half a tile more, so that the distance between rows of
// the transposed layouts (P tokens) is an odd multiple of 64 bytes: with P a power of two (512
// tokens), the rows a tile reads map to a few cache sets and evict each other.
inline constexpr int kTokenPadding = kTileTokens;

inline int PaddedTokens(int n_tokens) {
  return (n_tokens + kTokenPadding - 1) / kTokenPadding * kTokenPadding + kTokenPadding / 2;
}

// How int8 activations are laid out: transposed, so that a kernel with tokens in its vector lanes
// multiplies a few weight values, broadcast, by the same position of many tokens at once and gets
// each token's block sum in its own lane (no horizontal reductions). The AVX2 kernel with weight
// rows in its lanes broadcasts one token's group of 4 values from kS8Quads instead.
enum class Int8Layout {
  kS8Quads,       // [block][group of 4][token][4 values] int8: x86 (VPMADDUBSW, VPDPBUSD)
  kI16Pairs,      // [block][token group][pair][token][2 values] int16: portable SIMD
                  // (i32x4.dot_i16x8_s); groups are a vector's tokens (I16PairsIndex)
  kS8QuadGroups,  // [block][group of 4 tokens][group of 4 values][4 tokens][4 values] int8:
                  // relaxed SIMD (i32x4.relaxed_dot_i8x16_i7x16_add_s; S8QuadGroupsIndex)
};

// Activations in the form weights of some type multiply them (ggml's vec_dot type), for P padded
// tokens (padding tokens are zeros):
//  - int8-block weights: Q8_0 blocks in `layout`, with `d` the block scales, `s` Q8_1's d·Σq (as
//    f16, for Q4_1/Q5_1 weights) and `bias` = −128·Σq (for kernels that take w + 128 as unsigned;
//    shifted right, −offset·Σq for those that take the stored values of Q4_0 and Q5_0); in
//    kS8QuadGroups also `abs_q` and `sgn_q`, |q| and the signs in the same layout, and `neg_sum`,
//    Σ|q| over a block's negative values (the relaxed Q8_0 kernel's operands).
//  - K-quant weights: Q8_K super-blocks, their values in `layout` block by block as above, `d`
//    the super-block's scale at each of its 8 blocks, and `bsum` the sums of each 16 values.
//  - float weights: `xt`, the activations rounded through the activation type (f16, bf16) or
//    exact (f32), transposed: [cols][P].
struct MatMulInput {
  GgmlType type;  // the activation type (ActivationType of the weights)
  int n_tokens;
  int padded_tokens;
  int cols;                  // values per token
  Int8Layout layout;         // as prepared (PrepareMatMulInput)
  Int8Layout carved_layout;  // as carved: the caller's kernel's
  void* q;           // int8 layouts: cols × P bytes (kS8Quads, kS8QuadGroups) or 2 × cols × P
                     // bytes (kI16Pairs); bf16 weights, even cols: [cols/2][P] pairs of bf16
                     // values, the even one in the low half (VDPBF16PS's operand)
  float* d;          // [cols/32][P]
  float* s;          // [cols/32][P]
  int32_t* bias;     // [cols/32][P]
  uint8_t* abs_q;    // kS8QuadGroups, Q8_0 activations: |q| as q is laid out (else null)
  uint8_t* sgn_q;    // and 0xFF where q < 0, 0 elsewhere
  int32_t* neg_sum;  // and [cols/32][P] Σ|q| over each block's negative values
  int16_t* bsum;     // [cols/32][P][2]: Q8_K, the sums of a block's two halves
  float* xt;         // [cols][P]
  bool tame;         // bf16 weights: every activation is Bf16Tame (numerics.h, order 2b)
};

// Takes the buffers of a MatMulInput for up to `max_tokens` tokens of up to `max_cols` values in
// `layout` from `arena` (inside an Arena::Carve plan).
inline void CarveMatMulInput(Arena& arena, int max_tokens, int max_cols, Int8Layout layout,
                             MatMulInput* in) {
  const uint64_t P = PaddedTokens(max_tokens), blocks = uint64_t(max_cols / 32) * P;
  in->layout = in->carved_layout = layout;
  in->q = arena.Alloc<int16_t>(uint64_t(max_cols) * P);  // room for either layout
  in->d = arena.Alloc<float>(blocks);
  in->s = arena.Alloc<float>(blocks);
  in->bias = arena.Alloc<int32_t>(blocks);
  const bool sign_magnitude = layout == Int8Layout::kS8QuadGroups;
  in->abs_q = sign_magnitude ? arena.Alloc<uint8_t>(uint64_t(max_cols) * P) : nullptr;
  in->sgn_q = sign_magnitude ? arena.Alloc<uint8_t>(uint64_t(max_cols) * P) : nullptr;
  in->neg_sum = sign_magnitude ? arena.Alloc<int32_t>(blocks) : nullptr;
  in->bsum = arena.Alloc<int16_t>(2 * blocks);
  in->xt = arena.Alloc<float>(uint64_t(max_cols) * P);
}

// y [n_tokens × w.rows] = x [n_tokens × w.cols] times wᵀ on the best SIMD target, with its
// buffers from `arena`: MatMulReference's bits. For code outside the per-target forward passes.
Status MatMulRows(const Matrix& w, const float* x, int n_tokens, float* y, Arena& arena);

}  // namespace ggufembed

#endif  // GGUFEMBED_KERNELS_MATMUL_H_
