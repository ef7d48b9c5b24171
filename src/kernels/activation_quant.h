// How ggml's x86 CPU backend converts activations before multiplying them by weights: the
// "vec_dot type" of each weight type and its quantizers, so our results round the same way.
#ifndef GGUFEMBED_KERNELS_ACTIVATION_QUANT_H_
#define GGUFEMBED_KERNELS_ACTIVATION_QUANT_H_

#include <cstdint>

#include "gguf/ggml_type.h"

namespace ggufembed {

// The type activations are converted to before a dot product with weights of `weight_type`:
// Q8_0 for Q8_0/Q4_0/Q5_0, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants, F16 for F16, BF16 for
// BF16, and F32 (no conversion) for F32.
GgmlType ActivationType(GgmlType weight_type);

// Whether activations prepared for products with weights of type `a` serve weights of type `b`
// (the same activation type; Q8_0 and Q8_1 inputs are prepared alike).
bool SharesActivations(GgmlType a, GgmlType b);

// One Q8_0 block of activations (the file layout: f16 scale then 32 int8 values).
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 blocks are 34 bytes");

// Quantizes `n` floats (a multiple of 32) to Q8_0 the way ggml's AVX2/AVX-512 `quantize_row_q8_0`
// does at run time: d = max|x| / 127 stored as f16, q = x · (127 / max|x|) rounded half to even.
// (The converter's reference quantizer, ggml's quantize_row_q8_0_ref (synth/quantize.cc), divides
// by the rounded d and rounds half away from zero; the two differ in the last bit on ties.)
void QuantizeActivationsQ8_0(const float* x, BlockQ8_0* blocks, int64_t n);

// One Q8_K block of activations (ggml's block_q8_K): an f32 scale, 256 int8 values and the sums
// of each 16 of them.
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];
};

// Quantizes `n` floats (a multiple of 256) to Q8_K as ggml's `quantize_row_q8_K_ref` (which x86
// uses as is): the value of largest magnitude (the first, on ties) maps to −127, iscale =
// −127 / that value, q = min(127, round-half-even(iscale · x)), d = 1 / iscale in f32. A block
// with a NaN or an infinity gets d = NaN and zeros; one whose iscale overflows (max|x| below
// ~4e-37) or that is all zeros gets d = 0 and zeros (no undefined conversion either way).
void QuantizeActivationsQ8_K(const float* x, BlockQ8_K* blocks, int64_t n);

// Replaces `n` activations by their round trip through `type` (ActivationType of some weight):
// what ggml's dot products actually multiply. F32 leaves them unchanged. `n` must be a multiple
// of the type's block size.
void RoundThroughActivationType(GgmlType type, float* x, int64_t n);

}  // namespace ggufembed

#endif  // GGUFEMBED_KERNELS_ACTIVATION_QUANT_H_
