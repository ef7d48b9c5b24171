// Deterministic f32 math: the same bits on every CPU, in WebAssembly and in SIMD kernels.
//
// Quantized models amplify last-bit differences (an activation one ulp away can round to another
// int8 value), so functions whose results feed the model are defined here by their exact sequence
// of IEEE operations instead of by a C library. Multiplies and adds stay separate (no FMA, which
// WebAssembly SIMD lacks); the SIMD kernels repeat the same sequence lane by lane.
#ifndef GGUFEMBED_SRC_MATH_F32_H_
#define GGUFEMBED_SRC_MATH_F32_H_

#include <cmath>
#include <cstdint>
#include <cstring>

namespace ggufembed {

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

// e^x for finite x in [kExpMin, kExpMax]; 0 below, +inf above.
inline float ExpF32(float x) {
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

}  // namespace ggufembed

#endif  // GGUFEMBED_SRC_MATH_F32_H_
