// Scalar IEEE half (f16) and bfloat16 conversions, bit-exact with ggml (round to nearest even).
#ifndef GGUFEMBED_UTIL_FP16_H_
#define GGUFEMBED_UTIL_FP16_H_

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ggufembed {

inline float FloatFromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

inline uint32_t BitsFromFloat(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

// f16 -> f32, exact. Normal halves are rebiased by a multiply by 2^-112 (exact in f32); subnormal
// halves are built as (1 + m·2^-23)·2^-1 − 0.5 (M. Dukhan's FP16 method, also ggml's portable
// path).
inline float F16ToF32(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  const float normalized = FloatFromBits((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
  const float denormalized = FloatFromBits((two_w >> 17) | (126u << 23)) - 0.5f;
  const uint32_t magnitude =
      two_w < (1u << 27) ? BitsFromFloat(denormalized) : BitsFromFloat(normalized);
  return FloatFromBits(sign | magnitude);
}

// The f16 stored at `p` (a file's little-endian bytes, any alignment) as f32.
inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  return F16ToF32(h);
}

// f32 -> f16 with round-to-nearest-even, overflow to ±inf and quiet NaN, like F16C `vcvtps2ph`.
// The f32 additions do the rounding: adding a power of two whose ulp equals the half's ulp at this
// exponent leaves exactly the rounded half mantissa in the low bits.
inline uint16_t F32ToF16(float f) {
  float base = (std::fabs(f) * 0x1.0p+112f) * 0x1.0p-110f;
  const uint32_t w = BitsFromFloat(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = FloatFromBits((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = BitsFromFloat(base);
  const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
  const uint32_t mantissa_bits = bits & 0x00000FFFu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

// bf16 is the top half of an f32.
inline float Bf16ToF32(uint16_t h) { return FloatFromBits(static_cast<uint32_t>(h) << 16); }

// f32 -> bf16 rounding to nearest even; NaNs stay (quiet) NaNs, as in ggml.
inline uint16_t F32ToBf16(float f) {
  const uint32_t u = BitsFromFloat(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);
  return static_cast<uint16_t>((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_FP16_H_
