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

// ggml's `quantize_row_q8_K_ref` (x86 uses it as is): per 256 values the element of largest
// magnitude maps to -127, d = 1/iscale is kept in f32, rounding is half to even.
void RoundThroughQ8_K(float* x, int64_t n) {
  for (int64_t b = 0; b < n / 256; ++b) {
    float* xb = x + 256 * b;
    if (!AllFinite(xb, 256)) {  // as QuantizeActivationsQ8_0: NaN, and no conversion
      std::fill_n(xb, 256, NAN);
      continue;
    }
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 256; ++j) {
      const float ax = std::fabs(xb[j]);
      if (ax > amax) {
        amax = ax;
        max = xb[j];
      }
    }
    if (amax == 0.0f) {
      for (int j = 0; j < 256; ++j) xb[j] = 0.0f;
      continue;
    }
    const float iscale = -127.0f / max;
    if (std::isinf(iscale)) {  // |max| below ~4e-37: d would be 0 (and iscale · x overflow)
      std::fill_n(xb, 256, 0.0f);
      continue;
    }
    const float d = 1.0f / iscale;
    for (int j = 0; j < 256; ++j) {
      const int q = std::min(127, static_cast<int>(std::nearbyint(iscale * xb[j])));
      xb[j] = d * q;
    }
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
