// The float kernel, for float weights (f32, f16, bf16): rows dequantized to f32 (f16/bf16
// widened a vector at a time), tokens in the lanes, the reference's eight interleaved partial sums
// (numerics.h, order 2; bf16 by pairs, order 2b, with an exact slow path for values outside the
// range where every target agrees).

#include <cstring>

#include "gguf/ggml_type.h"
#include "kernels/matmul.h"
#include "kernels/numerics.h"
#include "util/fp16.h"

// Per-target include guard.
#if defined(GGUFEMBED_KERNELS_FLOAT_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_FLOAT_TILE_INL_H_
#undef GGUFEMBED_KERNELS_FLOAT_TILE_INL_H_
#else
#define GGUFEMBED_KERNELS_FLOAT_TILE_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/vec_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ------------------------------------------------------------------------ float kernel

// out[r][v·L + l] = row r · token (t0 + v·L + l) for f32 rows (dequantized weights) against
// `xt`, the reference's Dot for each lane (numerics.h, order 2) — with kPairs, DotBf16Pairs
// (order 2b: pairs of values, the odd one first), for tame bf16 values only. With kFma, a·b + c
// is one fused operation: only for weight types whose products with their activations are exact
// in f32 (f16, bf16), where fusing cannot change the result.
template <int V, bool kFma, bool kPairs = false>
HWY_NOINLINE void FloatTile(const float* const* rows, const MatMulInput& in, int t0,
                            float* HWY_RESTRICT out) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  const size_t L = hn::Lanes(df);
  const int cols = in.cols, P = in.padded_tokens;
  VF partial[8][kTileRows][V];
  // K partial sums at a time: one vector of tokens (a short input) gives only kTileRows
  // independent chains of dependent adds, too few to hide their latency, so two partials run
  // side by side there, and with two vectors where AVX-512's 32 registers hold the 16 sums.
  // Each partial is still its own chain in its own order.
  constexpr bool kManyRegisters = HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL;
  constexpr int K = V == 1 || kManyRegisters ? 2 : 1;
  // Partial j takes the values i ≡ j (mod 8) in order, or with kPairs the pairs p ≡ j (mod 8).
  constexpr int kStep = kPairs ? 2 : 1;  // values per unit
  const int units = (cols + kStep - 1) / kStep;
  for (int j0 = 0; j0 < 8; j0 += K) {
    VF acc[K][kTileRows][V];
    for (int k = 0; k < K; ++k) {
      for (int r = 0; r < kTileRows; ++r) {
        for (int v = 0; v < V; ++v) acc[k][r][v] = hn::Zero(df);
      }
    }
    // acc[k] += rows[·][i] · x[i].
    const auto add_value = [&](int k, int i) HWY_ATTR {
      const float* xi = in.xt + size_t(i) * P + t0;
      VF x[V];
      for (int v = 0; v < V; ++v) x[v] = hn::Load(df, xi + v * L);
      for (int r = 0; r < kTileRows; ++r) {
        const VF wv = hn::Set(df, rows[r][i]);
        for (int v = 0; v < V; ++v) {
          acc[k][r][v] =
              kFma ? hn::MulAdd(wv, x[v], acc[k][r][v]) : hn::Add(acc[k][r][v], hn::Mul(wv, x[v]));
        }
      }
    };
    // Unit u into partial k: a value, or a pair with its odd value first (if it has one).
    const auto add_unit = [&](int k, int u) HWY_ATTR {
      const int i = kStep * u;
      if (kPairs && i + 1 < cols) add_value(k, i + 1);
      add_value(k, i);
    };
    int u = j0;
    for (; kStep * (u + K) <= cols; u += 8) {  // K whole units
      for (int k = 0; k < K; ++k) {
        if (kPairs) add_value(k, 2 * (u + k) + 1);
        add_value(k, kStep * (u + k));
      }
    }
    for (; u < units; u += 8) {  // the last ones, of partials j0 + k
      for (int k = 0; k < K && u + k < units; ++k) add_unit(k, u + k);
    }
    for (int k = 0; k < K; ++k) {
      for (int r = 0; r < kTileRows; ++r) {
        for (int v = 0; v < V; ++v) partial[j0 + k][r][v] = acc[k][r][v];
      }
    }
  }
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < V; ++v) {
      VF p[8];
      for (int j = 0; j < 8; ++j) p[j] = partial[j][r][v];
      hn::StoreU(CombinePartials8(p), df, out + (r * V + v) * L);
    }
  }
}

// FloatTile for bf16 weights where some weight or activation is not tame (numerics.h, order
// 2b) on a target whose MulAdd is a product and an add (WebAssembly, scalar): DotBf16Pairs lane
// by lane, exact but slow — for values no trained model holds (below 2^-51, at or above 2^50,
// subnormal, infinite or NaN). Targets with FMA run FloatTile, exact for any value.
template <int V>
HWY_NOINLINE void Bf16TileExact(const float* const* rows, const MatMulInput& in, int t0,
                                float* HWY_RESTRICT out) {
  const int L = static_cast<int>(hn::Lanes(hn::ScalableTag<float>()));
  for (int r = 0; r < kTileRows; ++r) {
    for (int l = 0; l < V * L; ++l) {
      out[r * V * L + l] = DotBf16Pairs(rows[r], in.xt + t0 + l, in.padded_tokens, in.cols);
    }
  }
}

// Whether every bf16 value of a row is tame (numerics.h): the smallest nonzero magnitude and the
// largest one, through magnitude − 1 (which wraps 0 to the top) and unsigned minimum and maximum.
HWY_INLINE bool Bf16RowTame(const uint8_t* row, int cols) {
  const hn::ScalableTag<uint16_t> d;
  const int L = static_cast<int>(hn::Lanes(d));
  const uint16_t* h = reinterpret_cast<const uint16_t*>(row);
  const auto abs_mask = hn::Set(d, 0x7FFF), one = hn::Set(d, 1);
  auto min_minus1 = hn::Set(d, 0xFFFF), max = hn::Zero(d);
  int i = 0;
  for (; i + L <= cols; i += L) {
    const auto magnitude = hn::And(hn::LoadU(d, h + i), abs_mask);
    min_minus1 = hn::Min(min_minus1, hn::Sub(magnitude, one));
    max = hn::Max(max, magnitude);
  }
  bool tame = hn::GetLane(hn::MinOfLanes(d, min_minus1)) >= kBf16TameMin - 1 &&
              hn::GetLane(hn::MaxOfLanes(d, max)) < kBf16TameEnd;
  for (; i < cols; ++i) {
    uint16_t bits;  // rows need not be 2-byte aligned (tests place them anywhere)
    std::memcpy(&bits, row + 2 * size_t(i), 2);
    tame &= Bf16Tame(bits);
  }
  return tame;
}

// True when the products of `weight_type` values with their activations are exact in f32.
inline bool ExactProducts(GgmlType weight_type) {
  return weight_type == GgmlType::kF16 || weight_type == GgmlType::kBF16;
}

// Scratch bytes one float tile of `cols`-value rows takes.
inline size_t FloatTileScratchBytes(int cols) { return kTileRows * size_t(cols) * sizeof(float); }

// A row of f16 (or bf16) weights as f32, a vector at a time; exact, as DequantizeRow (which
// converts one value at a time: as slow as the products themselves for short inputs).
HWY_INLINE void WidenHalfRow(bool f16, const uint8_t* row, float* HWY_RESTRICT out, int cols) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<uint16_t, decltype(df)> du16;
  const uint16_t* h = reinterpret_cast<const uint16_t*>(row);
  const int L = static_cast<int>(hn::Lanes(df));
  int i = 0;
  for (; i + L <= cols; i += L) {
    const auto bits = hn::PromoteTo(du, hn::LoadU(du16, h + i));
    hn::StoreU(f16 ? F16BitsToF32(df, bits) : hn::BitCast(df, hn::ShiftLeft<16>(bits)), df,
               out + i);
  }
  for (; i < cols; ++i) {
    uint16_t bits;  // rows need not be 2-byte aligned (tests place them anywhere)
    std::memcpy(&bits, row + 2 * size_t(i), 2);
    out[i] = f16 ? F16ToF32(bits) : Bf16ToF32(bits);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
