// Activations quantized for the integer matrix-product kernels: Q8_0 and Q8_K blocks in the int8
// kernels' layouts (matmul.h describes them), and where each value sits in those layouts.
// PrepareMatMulInput (matmul.cc) calls QuantizeToInput, or rounds and transposes for the float
// kernel.

#include <algorithm>
#include <cstring>

#include "gguf/ggml_type.h"
#include "kernels/activation_quant.h"
#include "kernels/matmul.h"
#include "kernels/numerics.h"
#include "util/fp16.h"

// Per-target include guard.
#if defined(GGUFEMBED_KERNELS_MATMUL_INPUT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_MATMUL_INPUT_INL_H_
#undef GGUFEMBED_KERNELS_MATMUL_INPUT_INL_H_
#else
#define GGUFEMBED_KERNELS_MATMUL_INPUT_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Tokens per vector of the portable int8 kernel (its int32 lanes).
HWY_INLINE size_t Int8Lanes() { return hn::Lanes(hn::ScalableTag<int32_t>()); }

// Where value j (0..31) of block b of token t sits in the kI16Pairs layout:
// [block][group of L = Int8Lanes() tokens][pair][L tokens][2 values]. A tile's token vectors for
// one block are then at fixed distances from each other, so the kernel addresses them with
// constant offsets from one pointer per block.
HWY_INLINE size_t I16PairsIndex(int b, int t, int j, int P) {
  const size_t L = Int8Lanes();
  return ((size_t(b) * P + t / L * L) * 16 + size_t(j / 2) * L + t % L) * 2 + j % 2;
}

// Where value j of block b of token t sits in the kS8QuadGroups layout: [block][group of 4
// tokens][group of 4 values][4 tokens][4 values]. As with kI16Pairs, a tile reads one run of
// bytes per block (128 per vector of tokens) instead of 8 pieces P·4 bytes apart.
HWY_INLINE size_t S8QuadGroupsIndex(int b, int t, int j, int P) {
  return ((size_t(b) * P + t / 4 * 4) * 8 + size_t(j / 4) * 4 + t % 4) * 4 + j % 4;
}

// ------------------------------------------------------------------------ activation preparation

// Quantizes one token's block of 32 values to Q8_0 exactly as QuantizeActivationsQ8_0:
// d = max|x|/127 as f16, q = round-half-even(x · 127/max|x|); a block with a NaN or an infinity
// gets d = NaN and zeros. Returns d; q gets the values, *sum their sum and *s Q8_1's s, which
// ggml computes from the unrounded d: f16((max|x|/127) · Σq) (NaN for a non-finite block).
HWY_INLINE float QuantizeBlock(const float* HWY_RESTRICT x, int8_t* HWY_RESTRICT q, int* sum,
                               float* s) {
  const hn::CappedTag<float, 8> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::Rebind<int16_t, decltype(df)> d16;
  const hn::Rebind<int8_t, decltype(df)> d8;
  const size_t n = hn::Lanes(df);
  auto vmax = hn::Zero(df);
  auto diff = hn::Zero(df);  // Σ (x − x): 0 if every x is finite, NaN otherwise
  for (size_t i = 0; i < 32; i += n) {
    const auto v = hn::LoadU(df, x + i);
    vmax = hn::Max(vmax, hn::Abs(v));
    diff = hn::Add(diff, hn::Sub(v, v));
  }
  if (HWY_UNLIKELY(!hn::AllTrue(df, hn::Eq(diff, hn::Zero(df))))) {
    std::memset(q, 0, 32);
    *sum = 0;
    *s = NAN;
    return NAN;
  }
  const float amax = hn::GetLane(hn::MaxOfLanes(df, vmax));
  const float id = QuantizeFactor(amax);
  auto vsum = hn::Zero(di);
  for (size_t i = 0; i < 32; i += n) {
    const auto qi = hn::ConvertTo(di, hn::Round(hn::Mul(hn::LoadU(df, x + i), hn::Set(df, id))));
    hn::StoreU(hn::DemoteTo(d8, hn::DemoteTo(d16, qi)), d8, q + i);
    vsum = hn::Add(vsum, qi);
  }
  *sum = static_cast<int>(hn::GetLane(hn::SumOfLanes(di, vsum)));
  *s = F16ToF32(F32ToF16(amax / 127.0f * static_cast<float>(*sum)));
  return F16ToF32(F32ToF16(amax / 127.0f));
}

// Quantizes one token's super-block of 256 values to Q8_K exactly as QuantizeActivationsQ8_K:
// the first value of largest magnitude maps to −127, q = min(127, round-half-even(x · iscale)),
// d = 1/iscale; NaN and zeros for a non-finite block, 0 and zeros for a vanishing one. Returns d;
// q gets the values and bsum the sums of each 16.
HWY_INLINE float QuantizeSuperBlock(const float* HWY_RESTRICT x, int8_t* HWY_RESTRICT q,
                                    int16_t* HWY_RESTRICT bsum) {
  const hn::CappedTag<float, 8> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::Rebind<int16_t, decltype(df)> d16;
  const hn::Rebind<int8_t, decltype(df)> d8;
  const size_t n = hn::Lanes(df);
  auto vmax = hn::Zero(df);
  auto diff = hn::Zero(df);  // Σ (x − x): 0 if every x is finite, NaN otherwise
  for (size_t i = 0; i < 256; i += n) {
    const auto v = hn::LoadU(df, x + i);
    vmax = hn::Max(vmax, hn::Abs(v));
    diff = hn::Add(diff, hn::Sub(v, v));
  }
  std::memset(q, 0, 256);
  std::memset(bsum, 0, 16 * sizeof(int16_t));
  if (HWY_UNLIKELY(!hn::AllTrue(df, hn::Eq(diff, hn::Zero(df))))) return NAN;
  const float amax = hn::GetLane(hn::MaxOfLanes(df, vmax));
  if (amax == 0.0f) return 0.0f;
  size_t first = 0;  // the first value whose magnitude is amax: its sign decides iscale's
  for (size_t i = 0; i < 256; i += n) {
    const intptr_t at =
        hn::FindFirstTrue(df, hn::Eq(hn::Abs(hn::LoadU(df, x + i)), hn::Set(df, amax)));
    if (at >= 0) {
      first = i + size_t(at);
      break;
    }
  }
  const float iscale = -127.0f / x[first];
  if (std::isinf(iscale)) return 0.0f;
  const auto vscale = hn::Set(df, iscale);
  const auto limit = hn::Set(di, 127);
  for (size_t i = 0; i < 256; i += n) {
    const auto qi =
        hn::Min(hn::ConvertTo(di, hn::Round(hn::Mul(hn::LoadU(df, x + i), vscale))), limit);
    hn::StoreU(hn::DemoteTo(d8, hn::DemoteTo(d16, qi)), d8, q + i);
  }
  for (int k = 0; k < 16; ++k) {
    int sum = 0;
    for (int j = 0; j < 16; ++j) sum += q[16 * k + j];
    bsum[k] = static_cast<int16_t>(sum);
  }
  return 1.0f / iscale;
}

// Stores token t's 32 int8 values of block b into `in`'s layout.
HWY_INLINE void StoreBlockValues(const int8_t* HWY_RESTRICT q, int b, int t, MatMulInput* in) {
  const int P = in->padded_tokens;
  if (in->layout == Int8Layout::kS8Quads) {
    uint8_t* base = static_cast<uint8_t*>(in->q) + (size_t(b) * 8 * P + t) * 4;
    for (int g = 0; g < 8; ++g) std::memcpy(base + size_t(g) * P * 4, q + 4 * g, 4);
  } else if (in->layout == Int8Layout::kS8QuadGroups) {
    uint8_t* base = static_cast<uint8_t*>(in->q) + S8QuadGroupsIndex(b, t, 0, P);
    for (int g = 0; g < 8; ++g) std::memcpy(base + 16 * g, q + 4 * g, 4);
  } else {
    int16_t* base = static_cast<int16_t*>(in->q) + I16PairsIndex(b, t, 0, P);
    const size_t L = Int8Lanes();
    for (int p = 0; p < 16; ++p) {
      base[p * L * 2] = q[2 * p];
      base[p * L * 2 + 1] = q[2 * p + 1];
    }
  }
}

// Stores token t's 32 int8 values of block b as the relaxed Q8_0 kernel takes them, in the
// kS8QuadGroups layout: |q| (7-bit: q is in [-127, 127]), the sign masks, and the block's Σ|q|
// over its negative values.
HWY_INLINE void StoreSignMagnitude(const int8_t* HWY_RESTRICT q, int b, int t, MatMulInput* in) {
  const size_t at = S8QuadGroupsIndex(b, t, 0, in->padded_tokens);
  uint8_t abs_q[32], sgn_q[32];
  int32_t neg_sum = 0;
  for (int j = 0; j < 32; ++j) {
    abs_q[j] = static_cast<uint8_t>(q[j] < 0 ? -q[j] : q[j]);
    sgn_q[j] = q[j] < 0 ? 0xFF : 0;
    neg_sum += q[j] < 0 ? -q[j] : 0;
  }
  for (int g = 0; g < 8; ++g) {
    std::memcpy(in->abs_q + at + 16 * g, abs_q + 4 * g, 4);
    std::memcpy(in->sgn_q + at + 16 * g, sgn_q + 4 * g, 4);
  }
  in->neg_sum[size_t(b) * in->padded_tokens + t] = neg_sum;
}

// Quantizes x [T × cols] into `in` (type, layout, n_tokens and cols set; buffers carved by
// CarveMatMulInput): Q8_0 blocks, or Q8_K super-blocks for K-quant weights.
HWY_INLINE void QuantizeToInput(const float* HWY_RESTRICT x, MatMulInput* in) {
  const int nb = in->cols / 32, T = in->n_tokens, P = in->padded_tokens;
  const size_t plane = size_t(nb) * P;
  std::memset(in->d, 0, plane * sizeof(float));
  std::memset(in->s, 0, plane * sizeof(float));
  std::memset(in->bias, 0, plane * sizeof(int32_t));
  std::memset(in->bsum, 0, 2 * plane * sizeof(int16_t));
  // The relaxed Q8_0 kernel's operands, for 32-value blocks in its layout — also Q8_1 ones (of
  // Q4_1 and Q5_1 weights): an input is shared by every int8-block type (SharesActivations).
  const bool sign_magnitude =
      in->layout == Int8Layout::kS8QuadGroups && in->type != GgmlType::kQ8_K;
  if (sign_magnitude) std::memset(in->neg_sum, 0, plane * sizeof(int32_t));
  if (T < P) {  // padding tokens are zeros
    std::memset(in->q, 0, size_t(in->cols) * P * (in->layout == Int8Layout::kI16Pairs ? 2 : 1));
    if (sign_magnitude) {
      std::memset(in->abs_q, 0, size_t(in->cols) * P);
      std::memset(in->sgn_q, 0, size_t(in->cols) * P);
    }
  }
  // Tokens in runs of 16, block by block: the layouts keep a block's tokens side by side (P
  // apart from the next block), so each run writes whole cache lines instead of one 4-byte
  // piece per line at a stride of P — which thrashed the caches for inputs of hundreds of tokens.
  constexpr int kRun = 16;
  if (in->type == GgmlType::kQ8_K) {
    HWY_ALIGN int8_t q[256];
    int16_t bsum[16];
    for (int t0 = 0; t0 < T; t0 += kRun) {
      const int t1 = std::min(T, t0 + kRun);
      for (int sb = 0; sb < nb / 8; ++sb) {
        for (int t = t0; t < t1; ++t) {
          const float d = QuantizeSuperBlock(x + size_t(t) * in->cols + 256 * sb, q, bsum);
          for (int i = 0; i < 8; ++i) {
            const int b = 8 * sb + i;
            const size_t at = size_t(b) * P + t;
            in->d[at] = d;
            in->bsum[2 * at] = bsum[2 * i];
            in->bsum[2 * at + 1] = bsum[2 * i + 1];
            StoreBlockValues(q + 32 * i, b, t, in);
          }
        }
      }
    }
    return;
  }
  HWY_ALIGN int8_t q[32];
  for (int t0 = 0; t0 < T; t0 += kRun) {
    const int t1 = std::min(T, t0 + kRun);
    for (int b = 0; b < nb; ++b) {
      for (int t = t0; t < t1; ++t) {
        int sum;
        const size_t at = size_t(b) * P + t;
        in->d[at] = QuantizeBlock(x + size_t(t) * in->cols + 32 * b, q, &sum, &in->s[at]);
        in->bias[at] = -128 * sum;
        StoreBlockValues(q, b, t, in);
        if (sign_magnitude) StoreSignMagnitude(q, b, t, in);
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
