// Pooling and normalization of the final hidden states.
#include "embed/head.h"

#include <cmath>
#include <cstring>

namespace ggufembed {

void Pool(Pooling pooling, const float* hidden, int n_tokens, int n, float* out) {
  switch (pooling) {
    case Pooling::kMean: {
      const float inv = 1.0f / static_cast<float>(n_tokens);
      for (int i = 0; i < n; ++i) {
        float sum = 0.0f;
        for (int t = 0; t < n_tokens; ++t) sum += hidden[size_t(t) * n + i] * inv;
        out[i] = sum;
      }
      break;
    }
    case Pooling::kCls: std::memcpy(out, hidden, sizeof(float) * n); break;
    case Pooling::kLast:
      std::memcpy(out, hidden + size_t(n_tokens - 1) * n, sizeof(float) * n);
      break;
    case Pooling::kNone: std::memcpy(out, hidden, sizeof(float) * n * size_t(n_tokens)); break;
  }
}

void NormalizeL2(float* x, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += x[i] * x[i];  // f32 products, double sum
  const double norm = std::sqrt(sum);
  const float scale = norm > 0.0 ? static_cast<float>(1.0 / norm) : 0.0f;
  for (int i = 0; i < n; ++i) x[i] *= scale;
}

}  // namespace ggufembed
