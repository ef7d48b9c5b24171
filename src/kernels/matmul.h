// Activations prepared for the matrix-product kernels (matmul-inl.h): layouts shared by the
// forward pass, the kernels and their tests.
#ifndef GGUFEMBED_SRC_MATMUL_H_
#define GGUFEMBED_SRC_MATMUL_H_

#include <cstddef>
#include <cstdint>

#include "gguf/ggml_type.h"

namespace ggufembed {

// Tokens are padded to a multiple of this, so kernels whose vector lanes are tokens (up to 16
// per vector, two vectors per tile) never read past the prepared activations.
inline constexpr int kTokenPadding = 32;

inline int PaddedTokens(int n_tokens) {
  return (n_tokens + kTokenPadding - 1) / kTokenPadding * kTokenPadding;
}

// How int8 activations are laid out: transposed, so that a kernel with tokens in its vector lanes
// multiplies a few weight values, broadcast, by the same position of many tokens at once and gets
// each token's block sum in its own lane (no horizontal reductions). The AVX2 kernel with weight
// rows in its lanes broadcasts one token's group of 4 values from kS8Quads instead.
enum class Int8Layout {
  kS8Quads,   // [block][group of 4][token][4 values] int8: x86 (VPMADDUBSW, VPDPBUSD)
  kI16Pairs,  // [block][token group][pair][token][2 values] int16: portable SIMD
              // (i32x4.dot_i16x8_s); groups are a vector's tokens (I16PairsIndex)
};

// Activations in the form weights of some type multiply them (ggml's vec_dot type), for P padded
// tokens (padding tokens are zeros):
//  - int8-block weights: Q8_0 blocks in `layout`, with `d` the block scales, `s` Q8_1's d·Σq (as
//    f16, for Q4_1/Q5_1 weights) and `bias` = −128·Σq (for kernels that take x + 128 as unsigned).
//  - other weights: `xt`, the activations rounded through the activation type (f16, bf16, Q8_K)
//    or exact (f32), transposed: [cols][P].
struct MatMulInput {
  GgmlType type;  // the activation type (ActivationType of the weights)
  int n_tokens;
  int padded_tokens;
  int cols;  // values per token
  Int8Layout layout;
  void* q;        // int8 layouts: cols × P bytes (kS8Quads) or 2 × cols × P bytes (kI16Pairs)
  float* d;       // [cols/32][P]
  float* s;       // [cols/32][P]
  int32_t* bias;  // [cols/32][P]
  float* xt;      // [cols][P]
};

// Bytes the buffers of a MatMulInput for `n_tokens` × `cols` need, padding included.
inline uint64_t MatMulInputBytes(int n_tokens, int cols) {
  const uint64_t p = PaddedTokens(n_tokens), blocks = uint64_t(cols / 32) * p;
  return uint64_t(cols) * p * sizeof(float) + 2 * uint64_t(cols) * p + 3 * blocks * 4 + 4 * 64;
}

}  // namespace ggufembed

#endif  // GGUFEMBED_SRC_MATMUL_H_
