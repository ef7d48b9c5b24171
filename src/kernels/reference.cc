// Scalar reference operations (see kernels/reference.h). Loops are kept simple on purpose.
#include "kernels/reference.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/activation_quant.h"
#include "kernels/numerics.h"
#include "util/check.h"
#include "util/fp16.h"

namespace ggufembed {
namespace {

// numerics.h, order 2: eight interleaved partial sums added pairwise, a fixed order that
// 8-lane SIMD code can reproduce exactly.
float Dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] = acc[j] + a[i + j] * b[i + j];
  }
  for (int j = 0; i < n; ++i, ++j) acc[j] = acc[j] + a[i] * b[i];
  return CombinePartials8(acc);
}

// Products with weights in 32-value integer blocks against Q8_0/Q8_1 activations.
void MatMulInt8Blocks(const Matrix& w, const float* x, int n_tokens, float* y) {
  const int64_t k = w.cols, nb = k / 32;
  std::vector<BlockQ8_0> xq(static_cast<size_t>(n_tokens * nb));
  // Q8_1's s = d·Σq as ggml's quantize_row_q8_1 computes it: with the f32 d = max|x|/127, not
  // the f16 one the block stores, then rounded to f16 (NaN for a non-finite block).
  std::vector<float> xs(xq.size());
  for (int t = 0; t < n_tokens; ++t) {
    QuantizeActivationsQ8_0(x + t * k, &xq[t * nb], k);
    for (int64_t b = 0; b < nb; ++b) {
      const BlockQ8_0& blk = xq[t * nb + b];
      const float* xb = x + t * k + 32 * b;
      float amax = 0.0f;
      int sum = 0;
      for (int j = 0; j < 32; ++j) {
        amax = std::fmax(amax, std::fabs(xb[j]));
        sum += blk.qs[j];
      }
      xs[t * nb + b] = std::isnan(F16ToF32(blk.d))
                           ? NAN
                           : F16ToF32(F32ToF16(amax / 127.0f * static_cast<float>(sum)));
    }
  }
  const uint64_t block_bytes = GetGgmlType(w.type).type_size;
  const bool has_min = w.type == GgmlType::kQ4_1 || w.type == GgmlType::kQ5_1;
  std::vector<int8_t> q(static_cast<size_t>(k));  // one weight row as integers
  std::vector<float> dw(static_cast<size_t>(nb)), mw(static_cast<size_t>(nb));
  for (int64_t n = 0; n < w.rows; ++n) {
    for (int64_t b = 0; b < nb; ++b) {
      UnpackBlock32(w.type, w.Row(n) + b * block_bytes, &q[32 * b], &dw[b], &mw[b]);
    }
    for (int t = 0; t < n_tokens; ++t) {
      float acc = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        const BlockQ8_0& blk = xq[t * nb + b];
        int32_t isum = 0;
        for (int j = 0; j < 32; ++j) isum += int32_t{q[32 * b + j]} * blk.qs[j];
        float term = (dw[b] * F16ToF32(blk.d)) * static_cast<float>(isum);
        if (has_min) term = term + mw[b] * xs[t * nb + b];
        acc = acc + term;
      }
      y[t * w.rows + n] = acc;
    }
  }
}

// Products with K-quant weights against Q8_K activations, as ggml's vec_dot_q{4,5,6}_K_q8_K: per
// super-block, exact integer sums — the sub-block scales applied to each sub-block's sum of
// products, the minimums (Q4_K/Q5_K) or the offset 32 (Q6_K) to the activations' sums of 16 —
// then two f32 steps. (ggml's generic code splits the first sum over 8 float lanes and its SIMD
// code uses FMA; a fixed single order keeps every target of ours on the same bits.)
void MatMulKQuants(const Matrix& w, const float* x, int n_tokens, float* y) {
  const int64_t k = w.cols, nb = k / 256;
  std::vector<BlockQ8_K> xq(static_cast<size_t>(n_tokens * nb));
  for (int t = 0; t < n_tokens; ++t) QuantizeActivationsQ8_K(x + t * k, &xq[t * nb], k);
  const uint64_t block_bytes = GetGgmlType(w.type).type_size;
  const bool q6 = w.type == GgmlType::kQ6_K;
  std::vector<uint8_t> q(static_cast<size_t>(k));
  std::vector<int16_t> scale(static_cast<size_t>(nb * 16)), zero(scale.size());
  std::vector<float> d(static_cast<size_t>(nb)), dmin(d.size());
  for (int64_t n = 0; n < w.rows; ++n) {
    for (int64_t b = 0; b < nb; ++b) {
      UnpackSuperBlockK(w.type, w.Row(n) + b * block_bytes, &q[256 * b], &scale[16 * b],
                        &zero[16 * b], &d[b], &dmin[b]);
    }
    for (int t = 0; t < n_tokens; ++t) {
      float acc = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        const BlockQ8_K& a = xq[t * nb + b];
        int32_t sum = 0, zsum = 0;  // Σ_k scale_k Σ q·a and Σ_k zero_k Σ a over sub-blocks of 16
        for (int kk = 0; kk < 16; ++kk) {
          int32_t dot = 0;
          for (int j = 16 * kk; j < 16 * kk + 16; ++j) dot += int32_t{q[256 * b + j]} * a.qs[j];
          sum += scale[16 * b + kk] * dot;
          zsum += zero[16 * b + kk] * a.bsums[kk];
        }
        if (q6) {
          acc = acc + (d[b] * a.d) * static_cast<float>(sum - zsum);
        } else {
          acc = acc + (d[b] * a.d) * static_cast<float>(sum);
          acc = acc - (dmin[b] * a.d) * static_cast<float>(zsum);
        }
      }
      y[t * w.rows + n] = acc;
    }
  }
}

}  // namespace

void MatMulReference(const Matrix& w, const float* x, int n_tokens, float* y) {
  if (HasInt8Blocks(w.type)) {
    MatMulInt8Blocks(w, x, n_tokens, y);
    return;
  }
  if (IsKQuant(w.type)) {
    MatMulKQuants(w, x, n_tokens, y);
    return;
  }
  const int64_t k = w.cols;
  std::vector<float> xq(x, x + static_cast<size_t>(n_tokens) * k);
  const GgmlType act = ActivationType(w.type);
  for (int t = 0; t < n_tokens; ++t) RoundThroughActivationType(act, &xq[t * k], k);
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t n = 0; n < w.rows; ++n) {
    GGUFEMBED_DCHECK_OK(DequantizeRow(w.type, w.Row(n), row.data(), k));  // checked at load
    for (int t = 0; t < n_tokens; ++t) {
      y[t * w.rows + n] = w.type == GgmlType::kBF16 ? DotBf16Pairs(row.data(), &xq[t * k], 1, k)
                                                    : Dot(row.data(), &xq[t * k], k);
    }
  }
}

void RmsNormReference(const float* x, const float* weight, int n, float eps, float* out) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / n);
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int i = 0; i < n; ++i) out[i] = weight ? (x[i] * scale) * weight[i] : x[i] * scale;
}

void RopeCosSin(float base, int n_rot, int pos, float* cos_out, float* sin_out) {
  const float theta_scale = static_cast<float>(std::pow(static_cast<double>(base), -2.0 / n_rot));
  float theta = static_cast<float>(pos);
  for (int i = 0; i < n_rot / 2; ++i) {
    cos_out[i] = static_cast<float>(std::cos(static_cast<double>(theta)));
    sin_out[i] = static_cast<float>(std::sin(static_cast<double>(theta)));
    theta = theta * theta_scale;
  }
}

void RopeNeoxReference(float* x, int n_rot, int pos, float base) {
  const int half = n_rot / 2;
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  RopeCosSin(base, n_rot, pos, c.data(), s.data());
  for (int i = 0; i < half; ++i) {
    const float x0 = x[i], x1 = x[i + half];
    x[i] = x0 * c[i] - x1 * s[i];
    x[i + half] = x0 * s[i] + x1 * c[i];
  }
}

void AttentionReference(const float* q, const float* k, const float* v, int n_tokens, int n_head,
                        int n_head_kv, int head_dim, int head_dim_v, int half_window, float* out) {
  const int group = n_head / n_head_kv;
  const int q_stride = n_head * head_dim, k_stride = n_head_kv * head_dim;
  const int v_stride = n_head_kv * head_dim_v, o_stride = n_head * head_dim_v;
  const bool f16_sum = AttentionAccumulatesInF16(n_tokens, head_dim);
  auto round16 = [](float x) { return F16ToF32(F32ToF16(x)); };
  // K and V are stored as f16 by llama.cpp's attention.
  std::vector<float> k16(k, k + size_t(n_tokens) * k_stride);
  std::vector<float> v16(v, v + size_t(n_tokens) * v_stride);
  for (float& x : k16) x = round16(x);
  for (float& x : v16) x = round16(x);
  std::vector<float> qh(static_cast<size_t>(head_dim)), acc(static_cast<size_t>(head_dim_v));
  for (int h = 0; h < n_head; ++h) {
    const int kvh = h / group;
    for (int t = 0; t < n_tokens; ++t) {
      const float* qt = q + t * q_stride + h * head_dim;
      for (int i = 0; i < head_dim; ++i) qh[i] = f16_sum ? round16(qt[i]) : qt[i];
      float max = -INFINITY, sum = 0.0f;
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int u = 0; u < n_tokens; ++u) {
        if (half_window >= 0 && std::abs(t - u) > half_window) continue;
        const float s = Dot(qh.data(), &k16[u * k_stride + kvh * head_dim], head_dim);
        // A new maximum rescales what was accumulated; otherwise the key gets weight e^(s-max).
        float rescale = 1.0f, weight = 1.0f;
        if (s > max) {
          rescale = ExpF32(max - s);
          max = s;
        } else {
          weight = ExpF32(s - max);
        }
        const float* vu = &v16[u * v_stride + kvh * head_dim_v];
        for (int i = 0; i < head_dim_v; ++i) {
          if (f16_sum) {
            acc[i] = round16(round16(acc[i] * rescale) + vu[i] * weight);
          } else {
            acc[i] = acc[i] * rescale + vu[i] * weight;
          }
        }
        sum = sum * rescale + weight;
      }
      float* ot = out + t * o_stride + h * head_dim_v;
      const float inv = sum == 0.0f ? 0.0f : 1.0f / sum;
      for (int i = 0; i < head_dim_v; ++i) ot[i] = acc[i] * inv;
    }
  }
}

}  // namespace ggufembed
