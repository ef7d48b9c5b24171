// GELU as llama.cpp's CPU backend evaluates it in GeGLU: through a table indexed by f16 bits.
#ifndef GGUFEMBED_KERNELS_GELU_H_
#define GGUFEMBED_KERNELS_GELU_H_

#include <cstdint>

#include "util/fp16.h"

namespace ggufembed {

// GELU, tanh approximation: 0.5·x·(1 + tanh(sqrt(2/π)·x·(1 + 0.044715·x²))), in f32 with the
// tanh taken in double (so it is the same on every C library).
float GeluTanh(float x);

// 65,536 f32 values: entry h is GeluTanh(f16 h) rounded to f16 (ggml's `ggml_table_gelu_f16`).
// Built once, on first use; thread-safe.
const float* GeluTable();

// GELU the ggml way: 0 for x <= -10, x for x >= 10, else the table entry of x rounded to f16.
// Matching this rather than the exact function keeps the Q8_0 quantization of the FFN's output
// in step with llama.cpp.
inline float GeluF16(float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return GeluTable()[F32ToF16(x)];
}

}  // namespace ggufembed

#endif  // GGUFEMBED_KERNELS_GELU_H_
