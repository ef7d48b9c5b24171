// Row-wise kernels of the forward pass: RMS norm, NEOX RoPE, residual adds and scaling.
// Bit-identical to the reference (kernels/reference.cc) on every target.

#include <cstddef>

#include "kernels/numerics.h"

#if defined(GGUFEMBED_KERNELS_NORM_ROPE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_NORM_ROPE_INL_H_
#undef GGUFEMBED_KERNELS_NORM_ROPE_INL_H_
#else
#define GGUFEMBED_KERNELS_NORM_ROPE_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// x += y over n values.
HWY_INLINE void AddInPlace(float* HWY_RESTRICT x, const float* HWY_RESTRICT y, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(hn::Add(hn::LoadU(df, x + i), hn::LoadU(df, y + i)), df, x + i);
  }
  for (; i < n; ++i) x[i] = x[i] + y[i];
}

// x *= s over n values.
HWY_INLINE void ScaleInPlace(float* HWY_RESTRICT x, float s, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  const auto vs = hn::Set(df, s);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(hn::Mul(hn::LoadU(df, x + i), vs), df, x + i);
  for (; i < n; ++i) x[i] = x[i] * s;
}

// RmsNormReference on `rows` rows of n values `stride` apart (out may alias x; `weight` may be
// null for a norm without one). The reference
// sums each row's squares in order in double, a chain of dependent adds: eight rows at a time
// keep eight chains in flight.
HWY_INLINE void RmsNormRows(const float* x, const float* weight, int rows, int n, size_t stride,
                            float eps, float* out) {
  constexpr int kChains = 8;
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  for (int r0 = 0; r0 < rows; r0 += kChains) {
    const int nr = rows - r0 < kChains ? rows - r0 : kChains;
    double sum[kChains] = {};
    for (int i = 0; i < n; ++i) {
      for (int r = 0; r < kChains; ++r) {
        const float v = x[(r0 + (r < nr ? r : 0)) * stride + i];
        sum[r] += static_cast<double>(v * v);
      }
    }
    for (int r = 0; r < nr; ++r) {
      const float mean = static_cast<float>(sum[r] / n);
      const float scale = 1.0f / std::sqrt(mean + eps);
      const float* xr = x + (r0 + r) * stride;
      float* o = out + (r0 + r) * stride;
      const auto vs = hn::Set(df, scale);
      int i = 0;
      if (weight == nullptr) {
        for (; i + static_cast<int>(lanes) <= n; i += static_cast<int>(lanes)) {
          hn::StoreU(hn::Mul(hn::LoadU(df, xr + i), vs), df, o + i);
        }
        for (; i < n; ++i) o[i] = xr[i] * scale;
        continue;
      }
      for (; i + static_cast<int>(lanes) <= n; i += static_cast<int>(lanes)) {
        hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(df, xr + i), vs), hn::LoadU(df, weight + i)), df,
                   o + i);
      }
      for (; i < n; ++i) o[i] = (xr[i] * scale) * weight[i];
    }
  }
}

// NEOX RoPE (RopeNeoxReference) on `heads` heads of each of T rows, the rotation of position t
// given by the tables' row t (RopeCosSin of that position, n_rot/2 values each).
HWY_INLINE void RopeRows(float* x, int T, int heads, int head_dim, int n_rot,
                         const float* cos_table, const float* sin_table) {
  const int half = n_rot / 2;
  const hn::ScalableTag<float> df;
  const int lanes = static_cast<int>(hn::Lanes(df));
  for (int t = 0; t < T; ++t) {
    const float* c = cos_table + size_t(t) * half;
    const float* s = sin_table + size_t(t) * half;
    for (int h = 0; h < heads; ++h) {
      float* x0 = x + (size_t(t) * heads + h) * head_dim;
      float* x1 = x0 + half;
      int i = 0;
      for (; i + lanes <= half; i += lanes) {
        const auto a = hn::LoadU(df, x0 + i), b = hn::LoadU(df, x1 + i);
        const auto vc = hn::LoadU(df, c + i), vs = hn::LoadU(df, s + i);
        hn::StoreU(hn::Sub(hn::Mul(a, vc), hn::Mul(b, vs)), df, x0 + i);
        hn::StoreU(hn::Add(hn::Mul(a, vs), hn::Mul(b, vc)), df, x1 + i);
      }
      for (; i < half; ++i) {
        const float a = x0[i], b = x1[i];
        x0[i] = a * c[i] - b * s[i];
        x1[i] = a * s[i] + b * c[i];
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
