// The GELU table.
#include "kernels/gelu.h"

#include <cmath>
#include <cstdint>

namespace ggufembed {

float GeluTanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoefA = 0.044715f;
  const float inner = kSqrt2OverPi * x * (1.0f + kCoefA * x * x);
  return 0.5f * x * (1.0f + static_cast<float>(std::tanh(static_cast<double>(inner))));
}

// A static array, not a heap one: filling it allocates nothing, so it cannot fail (a failed
// allocation inside a static's initialization left the threads build's next call waiting
// forever on the guard).
const float* GeluTable() {
  static float table[65536];
  static const bool filled = [] {
    for (uint32_t h = 0; h < 65536; ++h) {
      table[h] = F16ToF32(F32ToF16(GeluTanh(F16ToF32(static_cast<uint16_t>(h)))));
    }
    return true;
  }();
  (void)filled;
  return table;
}

}  // namespace ggufembed
