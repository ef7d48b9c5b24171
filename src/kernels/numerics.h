// The numeric contract of the engine: deterministic f32 math, and the order of every sum, written
// once here. The scalar reference (reference.h) follows it, every SIMD kernel repeats it lane by
// lane, and so every target — AVX-512, AVX2, scalar, WebAssembly — gives the same bits.
//
// Why: quantized models amplify last-bit differences (an activation one ulp away can round to
// another int8 value), so results that feed the model are defined by their exact sequence of IEEE
// operations, not by a C library or a compiler's choice. Multiplies and adds stay separate (no
// FMA: WebAssembly SIMD has none, and the build passes -ffp-contract=off), except where a product
// is exact (f16/bf16 times f16/bf16-rounded values), where fusing cannot change the result.
//
// Summation orders:
//  1. Matrix products, int8 blocks (Q8_0, Q4_0, Q5_0, Q4_1, Q5_1 weights): activations are
//     quantized to Q8_0 blocks; each block's integer dot product isum is exact (so any SIMD
//     grouping gives it); blocks are summed in order, acc = acc + (d_w·d_x)·isum, each operation
//     rounded on its own; Q4_1/Q5_1 add m_w·s_x (s_x = d_x·Σq rounded to f16) to the block's term
//     first.
//  1b. Matrix products, K-quants (Q4_K, Q5_K, Q6_K weights): activations are quantized to Q8_K
//     (256 values, an f32 scale, sums of 16); per super-block two exact integers, S = Σ_k
//     scale_k·Σ q·a and Z = Σ_k zero_k·Σ a over its 16 sub-blocks of 16 (UnpackSuperBlockK), then
//     acc = acc + (d_w·d_x)·(S − Z) for Q6_K, or acc = acc + (d_w·d_x)·S and then
//     acc = acc − (dmin_w·d_x)·Z for Q4_K/Q5_K; super-blocks in order. This is ggml's integer
//     arithmetic (vec_dot_q*_K_q8_K) with one f32 sum where its generic code keeps eight.
//  2. Matrix products, float weights (f32, f16, bf16), and every other dot product
//     (attention scores): activations rounded through the weight's activation type; element i
//     goes into partial sum i mod 8, each partial summed in order, and the partials combined as
//     ((s0+s4)+(s2+s6))+((s1+s5)+(s3+s7)), the order of a 256-bit reduction.
//  2b. Matrix products, bf16 weights: as 2 but by pairs of values, the unit of VDPBF16PS: pair p
//     (values 2p, 2p+1) goes into partial sum p mod 8, its odd value first, each step fused,
//     s = fma(w, x, s) (DotBf16Pairs). The products of bf16 values are exact, so wherever no
//     product or sum is subnormal or overflows a fused step equals a product and an add, and
//     the instruction's flushing of subnormals never acts: Bf16Tame names values for which that
//     holds. VDPBF16PS (which flushes) and targets without FMA (a product, then an add) run
//     only on tame weights and activations; targets with FMA are exact for any value.
//  3. RMS norm: squares (f32) summed in order in double; L2 normalization the same.
//  4. Softmax attention: an online softmax over keys in order (numbers below); independent
//     queries and value lanes may be reordered, the operations of one output may not.
//  5. Mean pooling: Σ_t h_t·(1/T) in token order.
#ifndef GGUFEMBED_KERNELS_NUMERICS_H_
#define GGUFEMBED_KERNELS_NUMERICS_H_

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ggufembed {

// Whether x[0, n) holds no NaN and no infinity. Non-finite values get defined behaviour, never a
// silently wrong result: a block of activations holding one quantizes to d = NaN and zeros (no
// float-to-integer conversion sees it), so every product it feeds is NaN, and the forward passes
// fail with an error naming the layer where one first appears.
inline bool AllFinite(const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return false;
  }
  return true;
}

// 127 / amax, the factor a Q8_0 block of activations is quantized with — 0 when that overflows
// (amax below ~4e-37, or 0): its f16 scale amax / 127 is 0 then, so the values do not matter,
// and an infinite factor would make them undefined float-to-integer conversions.
inline float QuantizeFactor(float amax) {
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  return std::isinf(id) ? 0.0f : id;
}

// Constants of ExpF32 (Cephes `expf`): e^x = 2^n · e^r with n = round(x·log2 e) and
// r = x − n·ln2 split into two parts so that n·kLn2Hi is exact, then a degree-5 polynomial on
// |r| <= ln2/2 (relative error about 1e-7, like expf).
inline constexpr float kExpLog2e = 1.44269504088896341f;
inline constexpr float kExpLn2Hi = 0.693359375f;
inline constexpr float kExpLn2Lo = -2.12194440e-4f;
inline constexpr float kExpP0 = 1.9875691500e-4f;
inline constexpr float kExpP1 = 1.3981999507e-3f;
inline constexpr float kExpP2 = 8.3334519073e-3f;
inline constexpr float kExpP3 = 4.1665795894e-2f;
inline constexpr float kExpP4 = 1.6666665459e-1f;
inline constexpr float kExpP5 = 5.0000001201e-1f;
// Below this the result would be subnormal; ExpF32 returns 0 (softmax weights that small vanish).
inline constexpr float kExpMin = -87.0f;
inline constexpr float kExpMax = 88.0f;

// e^x for finite x in [kExpMin, kExpMax]; 0 below, +inf above, NaN for NaN (which must never
// reach the integer conversion below: that would be undefined behaviour).
inline float ExpF32(float x) {
  if (std::isnan(x)) return x;
  if (x < kExpMin) return 0.0f;
  if (x > kExpMax) return INFINITY;
  const float n = std::nearbyint(x * kExpLog2e);  // ties to even
  float r = x - n * kExpLn2Hi;
  r = r - n * kExpLn2Lo;
  float p = kExpP0;
  p = p * r + kExpP1;
  p = p * r + kExpP2;
  p = p * r + kExpP3;
  p = p * r + kExpP4;
  p = p * r + kExpP5;
  const float r2 = r * r;
  p = p * r2 + r;
  p = p + 1.0f;
  // Multiply by 2^n through the exponent bits (n is in [-126, 127] here).
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

// Whether a bf16 value (its bits) is zero or has a magnitude in [2^-51, 2^50). Products of two
// such values are exact multiples of 2^-116 below 2^100, so every sum of them in f32 is a
// multiple of 2^-116 too: never subnormal, never infinite (for fewer than 2^27 terms) — and then
// VDPBF16PS (which flushes subnormals), an FMA and a product followed by an add all give the
// same result as DotBf16Pairs.
inline constexpr uint16_t kBf16TameMin = (127 - 51) << 7;  // bits of 2^-51
inline constexpr uint16_t kBf16TameEnd = (127 + 50) << 7;  // bits of 2^50
inline bool Bf16Tame(uint16_t bits) {
  const uint16_t magnitude = bits & 0x7FFF;
  return magnitude == 0 || (magnitude >= kBf16TameMin && magnitude < kBf16TameEnd);
}

// Order 2's combination of eight partial sums, ((s0+s4)+(s2+s6))+((s1+s5)+(s3+s7)): the order of
// a 256-bit reduction. SIMD code combines vectors of partials the same way (vec_math-inl.h).
inline float CombinePartials8(const float (&s)[8]) {
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

// numerics.h, order 2b: w[i] · x[i·x_stride] summed by pairs into 8 partial sums, for bf16
// weights against bf16-rounded activations. std::fma is exact everywhere (a software routine
// where the CPU has no FMA), so this is also the kernels' path for values that are not tame.
inline float DotBf16Pairs(const float* w, const float* x, size_t x_stride, int64_t n) {
  float s[8] = {};
  for (int64_t p = 0; 2 * p < n; ++p) {
    float& acc = s[p % 8];
    const int64_t odd = 2 * p + 1, even = 2 * p;
    if (odd < n) acc = std::fma(w[odd], x[size_t(odd) * x_stride], acc);
    acc = std::fma(w[even], x[size_t(even) * x_stride], acc);
  }
  return CombinePartials8(s);
}

// True when llama.cpp's CPU flash attention keeps the running output sum in f16 for this shape:
// its per-row "one chunk" kernel, used below 64 query rows or when head_dim is not a multiple of
// 16; the tiled kernel accumulates in f32.
inline bool AttentionAccumulatesInF16(int n_tokens, int head_dim) {
  return n_tokens < 64 || head_dim % 16 != 0;
}

}  // namespace ggufembed

#endif  // GGUFEMBED_KERNELS_NUMERICS_H_
