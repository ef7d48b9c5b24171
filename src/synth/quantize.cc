// Row quantizers bit-identical to ggml's reference ones (ggml-quants.c `quantize_row_*_ref`):
// the same float operations in the same order, the same rounding (ties away from zero, to even
// through nearest_int's 1.5·2^23 trick, or truncation, as each quantizer does), the same f16
// conversion of the scales. Block layouts as in ggml-common.h (and DequantizeRow).
#include "synth/quantize.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "util/error.h"
#include "util/fp16.h"

namespace ggufembed {
namespace {

constexpr int kQK = 32;     // elements per legacy block
constexpr int kQK_K = 256;  // elements per K-quant super-block
constexpr float kGroupMaxEps = 1e-15f;

void StoreF16(uint8_t* p, float f) {
  const uint16_t h = F32ToF16(f);
  std::memcpy(p, &h, sizeof(h));
}

// ggml's nearest_int: adding 1.5·2^23 makes the FPU round to an integer in the current mode
// (to nearest, ties to even); the integer is then read from the mantissa bits. Valid for
// |f| <= 4194303, like ggml's (whose assert is compiled out); used for the same inputs.
int NearestInt(float f) {
  const float val = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &val, sizeof(i));
  return (i & 0x007fffff) - 0x00400000;
}

// The largest |v| of a block and its signed value (the first one on ties), as q4_0/q5_0 find it.
void SignedAbsMax(const float* x, int n, float* amax, float* max) {
  *amax = 0.0f;
  *max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (*amax < std::fabs(x[j])) {
      *amax = std::fabs(x[j]);
      *max = x[j];
    }
  }
}

void MinMax(const float* x, int n, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// Q8_0 `f16 d; i8 qs[32]` (ggml's quantize_row_q8_0_ref and the Python converter): d = max|x|/127
// stored as f16, q = round(x/d) with halves away from zero.
void QuantizeQ8_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += kQ8_0BlockBytes) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t d16 = F32ToF16(d);
    std::memcpy(y, &d16, sizeof(d16));
    for (int j = 0; j < kQK; ++j) {
      y[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::roundf(x[j] * id)));
    }
  }
}

// Q4_0 `f16 d; u8 qs[16]`: d = max/-8 (max: the value of largest magnitude), q = trunc(x/d +
// 8.5) capped at 15; element j in the low nibble of qs[j], element j+16 in the high one.
void QuantizeQ4_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 18) {
    float amax, max;
    SignedAbsMax(x, kQK, &amax, &max);
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreF16(y, d);
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[kQK / 2 + j] * id;
      const uint8_t xi0 = std::min(15, static_cast<int>(static_cast<int8_t>(x0 + 8.5f)));
      const uint8_t xi1 = std::min(15, static_cast<int>(static_cast<int8_t>(x1 + 8.5f)));
      y[2 + j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

// Q4_1 `f16 d; f16 m; u8 qs[16]`: m = min, d = (max - min)/15, q = trunc((x - min)/d + 0.5).
void QuantizeQ4_1(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 20) {
    float min, max;
    MinMax(x, kQK, &min, &max);
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreF16(y, d);
    StoreF16(y + 2, min);
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[kQK / 2 + j] - min) * id;
      const uint8_t xi0 = std::min(15, static_cast<int>(static_cast<int8_t>(x0 + 0.5f)));
      const uint8_t xi1 = std::min(15, static_cast<int>(static_cast<int8_t>(x1 + 0.5f)));
      y[4 + j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

// Q5_0 `f16 d; u8 qh[4]; u8 qs[16]`: d = max/-16, q = trunc(x/d + 16.5) capped at 31; the low
// four bits as in Q4_0, bit j of the little-endian qh the fifth bit of element j.
void QuantizeQ5_0(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 22) {
    float amax, max;
    SignedAbsMax(x, kQK, &amax, &max);
    const float d = max / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreF16(y, d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[kQK / 2 + j] * id;
      const uint8_t xi0 = std::min(31, static_cast<int>(static_cast<int8_t>(x0 + 16.5f)));
      const uint8_t xi1 = std::min(31, static_cast<int>(static_cast<int8_t>(x1 + 16.5f)));
      y[6 + j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
      qh |= ((xi1 & 0x10u) >> 4) << (j + kQK / 2);
    }
    std::memcpy(y + 2, &qh, sizeof(qh));
  }
}

// Q5_1 `f16 d; f16 m; u8 qh[4]; u8 qs[16]`: m = min, d = (max - min)/31, q = trunc((x -
// min)/d + 0.5) (no cap, as in ggml).
void QuantizeQ5_1(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK, y += 24) {
    float min, max;
    MinMax(x, kQK, &min, &max);
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreF16(y, d);
    StoreF16(y + 2, min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[kQK / 2 + j] - min) * id;
      const uint8_t xi0 = static_cast<uint8_t>(static_cast<int>(x0 + 0.5f));
      const uint8_t xi1 = static_cast<uint8_t>(static_cast<int>(x1 + 0.5f));
      y[8 + j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
      qh |= ((xi1 & 0x10u) >> 4) << (j + kQK / 2);
    }
    std::memcpy(y + 4, &qh, sizeof(qh));
  }
}

// ggml's make_qkx2_quants (use_mad = false): the scale and offset of an n-value group with
// weights, starting from min/max and trying nstep + 1 other spreads, each refitted by weighted
// least squares; keeps the one with the smallest weighted squared error. Returns the scale,
// sets *the_min to minus the offset (a positive number) and L to the levels 0..nmax.
float MakeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                     float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = NearestInt(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = diff * diff;
    const float w = weights[i];
    best_error += w * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = NearestInt(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * Laux[i] + this_min - x[i];
        diff = diff * diff;
        const float w = weights[i];
        cur_error += w * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

// ggml's make_qx_quants with rmse_type 1 and no importance weights (weights x², so large values
// count most): a symmetric scale for n values, levels L in 0..2·nmax−1 (q + nmax), searching
// ±0.9 around nmax in steps of 0.1. Returns the (signed) scale.
float MakeQxQuantsRmse1(int n, int nmax, const float* x, int8_t* L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = NearestInt(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = NearestInt(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = NearestInt(iscale * x[i]);
        L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// The 6-bit scale and min of sub-block j packed in the 12 scale bytes of Q4_K/Q5_K (ggml's
// get_scale_min_k4).
void GetScaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// The part Q4_K and Q5_K share (quantize_row_q{4,5}_K_ref up to the packing of the levels): per
// 32-value sub-block a scale and a min by MakeQkx2Quants with weights av|x| + |x|; both as 6-bit
// multiples of the super-block's f16 d and dmin (bytes 0..3 of `dm`, the 12 scale bytes after
// it); then every level again from the rounded d·sc and dmin·m. Fills L[256] with 0..nmax.
void QuantizeKSuperBlock(const float* x, int nmax, float rmin, int nstep, uint8_t* dm,
                         uint8_t* scales_out, uint8_t* L) {
  uint8_t Laux[32];
  float weights[32];
  float mins[kQK_K / 32];
  float scales[kQK_K / 32];
  float max_scale = 0;  // as the min is subtracted, scales are positive
  float max_min = 0;
  for (int j = 0; j < kQK_K / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = MakeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                               0.1f, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kQK_K / 32; ++j) {
    // ggml stores nearest_int's int into a uint8_t before capping it at 63.
    uint8_t ls = static_cast<uint8_t>(NearestInt(inv_scale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(NearestInt(inv_min * mins[j]));
    ls = std::min<uint8_t>(63, ls);
    lm = std::min<uint8_t>(63, lm);
    if (j < 4) {
      scales_out[j] = ls;
      scales_out[j + 4] = lm;
    } else {
      scales_out[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      scales_out[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      scales_out[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  StoreF16(dm, max_scale / 63.f);
  StoreF16(dm + 2, max_min / 63.f);
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, m;
    GetScaleMinK4(j, scales_out, &sc, &m);
    const float d = LoadF16(dm) * sc;
    if (d == 0.0f) continue;  // keeps MakeQkx2Quants' levels, as ggml does
    const float dmv = LoadF16(dm + 2) * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = NearestInt((x[32 * j + ii] + dmv) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

// Q4_K `f16 d; f16 dmin; u8 scales[12]; u8 qs[128]`: per 64 values, 32 bytes holding values
// l (low nibble) and l + 32 (high nibble).
void QuantizeQ4_K(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += 144) {
    QuantizeKSuperBlock(x, 15, -1.f, 20, y, y + 4, L);
    uint8_t* q = y + 16;
    for (int j = 0; j < kQK_K; j += 64) {
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
      q += 32;
    }
  }
}

// Q5_K `f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]`: low nibbles as Q4_K; for the
// n-th 64 values, bit 2n of qh[l] is the fifth bit of value l, bit 2n+1 that of value l + 32.
void QuantizeQ5_K(const float* x, uint8_t* y, int64_t nb) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += 176) {
    QuantizeKSuperBlock(x, 31, -0.5f, 15, y, y + 4, L);
    uint8_t* qh = y + 16;
    uint8_t* ql = y + 48;
    std::memset(qh, 0, kQK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQK_K; n += 64) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] |= m1;
        }
        int l2 = L[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[j] |= m2;
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
      ql += 32;
    }
  }
}

// Q6_K `u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d`: 16 sub-blocks of 16 with signed 8-bit
// scales of d; levels q + 32 in 0..63, four low bits in ql and two high bits in qh.
void QuantizeQ6_K(const float* x, uint8_t* y, int64_t nb) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K, y += 210) {
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float scale = MakeQxQuantsRmse1(16, 32, x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(y, 0, 210);
      StoreF16(y + 208, 0.f);
      continue;
    }
    const float iscale = -128.f / max_scale;
    StoreF16(y + 208, 1 / iscale);
    int8_t* sc = reinterpret_cast<int8_t*>(y + 192);
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      sc[ib] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[ib])));
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = LoadF16(y + 208) * sc[j];
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        int l = NearestInt(x[16 * j + ii] / d);
        l = std::max(-32, std::min(31, l));
        L[16 * j + ii] = static_cast<int8_t>(l + 32);
      }
    }
    uint8_t* ql = y;
    uint8_t* qh = y + 128;
    for (int j = 0; j < kQK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = L[j + l + 0] & 0xF;
        const uint8_t q2 = L[j + l + 32] & 0xF;
        const uint8_t q3 = L[j + l + 64] & 0xF;
        const uint8_t q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                     ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
      }
      ql += 64;
      qh += 32;
    }
  }
}

}  // namespace

bool CanQuantize(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}

Status QuantizeRow(GgmlType type, const float* x, int64_t n, uint8_t* out) {
  const char* name = GgmlTypeName(static_cast<uint32_t>(type));
  if (!CanQuantize(type)) {
    return Error(StatusCode::kUnsupported, "no quantizer for tensor type %s", name);
  }
  const GgmlTypeInfo& info = GetGgmlType(type);
  if (n < 0 || n % info.block_size != 0) {
    return Error(StatusCode::kInvalidArgument,
                 "%lld elements is not a whole number of %s blocks of %u",
                 static_cast<long long>(n), name, info.block_size);
  }
  const int64_t nb = n / info.block_size;
  switch (type) {
    case GgmlType::kF32:
      if (n > 0) std::memcpy(out, x, static_cast<size_t>(n) * sizeof(float));
      break;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToF16(x[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToBf16(x[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    case GgmlType::kQ8_0:
      QuantizeQ8_0(x, out, nb);
      break;
    case GgmlType::kQ4_0:
      QuantizeQ4_0(x, out, nb);
      break;
    case GgmlType::kQ4_1:
      QuantizeQ4_1(x, out, nb);
      break;
    case GgmlType::kQ5_0:
      QuantizeQ5_0(x, out, nb);
      break;
    case GgmlType::kQ5_1:
      QuantizeQ5_1(x, out, nb);
      break;
    case GgmlType::kQ4_K:
      QuantizeQ4_K(x, out, nb);
      break;
    case GgmlType::kQ5_K:
      QuantizeQ5_K(x, out, nb);
      break;
    case GgmlType::kQ6_K:
      QuantizeQ6_K(x, out, nb);
      break;
    default:
      return Error(StatusCode::kInternal, "quantizer table out of sync for %s", name);
  }
  return OkStatus();
}

}  // namespace ggufembed
