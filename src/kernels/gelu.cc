// The GELU table.
#include "kernels/gelu.h"

#include <cmath>
#include <memory>

namespace ggufembed {

float GeluTanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoefA = 0.044715f;
  const float inner = kSqrt2OverPi * x * (1.0f + kCoefA * x * x);
  return 0.5f * x * (1.0f + static_cast<float>(std::tanh(static_cast<double>(inner))));
}

const float* GeluTable() {
  static const float* table = [] {
    float* t = new float[65536];
    for (uint32_t h = 0; h < 65536; ++h) {
      t[h] = F16ToF32(F32ToF16(GeluTanh(F16ToF32(static_cast<uint16_t>(h)))));
    }
    return t;
  }();
  return table;
}

}  // namespace ggufembed
