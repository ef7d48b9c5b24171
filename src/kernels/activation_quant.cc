// Activation quantizers with ggml's x86 rounding (scalar; the fast kernels vectorize the same).
#include "kernels/activation_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/numerics.h"
#include "util/fp16.h"

namespace ggufembed {

GgmlType ActivationType(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
      return GgmlType::kQ8_0;
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
      return GgmlType::kQ8_1;
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return GgmlType::kQ8_K;
    case GgmlType::kF16:
      return GgmlType::kF16;
    case GgmlType::kBF16:
      return GgmlType::kBF16;
    default:
      return GgmlType::kF32;
  }
}

bool SharesActivations(GgmlType a, GgmlType b) {
  return ActivationType(a) == ActivationType(b) || (HasInt8Blocks(a) && HasInt8Blocks(b));
}

void QuantizeActivationsQ8_0(const float* x, BlockQ8_0* blocks, int64_t n) {
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    if (!AllFinite(x, 32)) {  // d = NaN carries it into every product; no value is converted
      blocks[b].d = F32ToF16(NAN);
      std::fill_n(blocks[b].qs, 32, int8_t{0});
      continue;
    }
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float id = QuantizeFactor(amax);
    blocks[b].d = F32ToF16(amax / 127.0f);
    for (int j = 0; j < 32; ++j) {
      blocks[b].qs[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));  // ties to even
    }
  }
}

void QuantizeActivationsQ8_K(const float* x, BlockQ8_K* blocks, int64_t n) {
  for (int64_t b = 0; b < n / 256; ++b, x += 256) {
    BlockQ8_K& y = blocks[b];
    std::fill_n(y.qs, 256, int8_t{0});
    std::fill_n(y.bsums, 16, int16_t{0});
    if (!AllFinite(x, 256)) {  // as QuantizeActivationsQ8_0: NaN, and no conversion
      y.d = NAN;
      continue;
    }
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 256; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    const float iscale = amax != 0.0f ? -127.0f / max : 0.0f;
    if (amax == 0.0f || std::isinf(iscale)) {
      y.d = 0.0f;
      continue;
    }
    for (int j = 0; j < 256; ++j) {
      y.qs[j] = static_cast<int8_t>(std::min(127, static_cast<int>(std::nearbyint(iscale * x[j]))));
      y.bsums[j / 16] = static_cast<int16_t>(y.bsums[j / 16] + y.qs[j]);
    }
    y.d = 1.0f / iscale;
  }
}

namespace {

// Q8_0 and Q8_1 hold the same quantized values (Q8_1 adds a sum for the weights' minimum).
void RoundThroughQ8_0(float* x, int64_t n) {
  BlockQ8_0 block;
  for (int64_t b = 0; b < n / 32; ++b) {
    float* xb = x + 32 * b;
    QuantizeActivationsQ8_0(xb, &block, 32);
    const float d = F16ToF32(block.d);
    for (int j = 0; j < 32; ++j) xb[j] = block.qs[j] * d;
  }
}

// d · q for each value: what the K-quant products multiply (NaN for a non-finite block).
void RoundThroughQ8_K(float* x, int64_t n) {
  BlockQ8_K block;
  for (int64_t b = 0; b < n / 256; ++b) {
    float* xb = x + 256 * b;
    QuantizeActivationsQ8_K(xb, &block, 256);
    for (int j = 0; j < 256; ++j) xb[j] = block.d * block.qs[j];
  }
}

}  // namespace

void RoundThroughActivationType(GgmlType type, float* x, int64_t n) {
  switch (type) {
    case GgmlType::kQ8_0:
    case GgmlType::kQ8_1:
      RoundThroughQ8_0(x, n);
      break;
    case GgmlType::kQ8_K:
      RoundThroughQ8_K(x, n);
      break;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) x[i] = F16ToF32(F32ToF16(x[i]));
      break;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) x[i] = Bf16ToF32(F32ToBf16(x[i]));
      break;
    default:
      break;
  }
}

}  // namespace ggufembed
