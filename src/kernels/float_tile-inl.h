// The float kernel, for weights that are not int8 blocks (f32, f16, bf16, K-quants): rows
// dequantized to f32 (f16/bf16 widened a vector at a time), tokens in the lanes, the reference's
// eight interleaved partial sums (numerics.h, order 2).

#include <cstring>

#include "gguf/ggml_type.h"
#include "kernels/matmul.h"
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
// `xt`, the reference's Dot for each lane (numerics.h, order 2). With kFma, a·b + c is one fused
// operation: only for weight types whose products with their activations are exact in f32
// (f16, bf16), where fusing cannot change the result.
template <int V, bool kFma>
HWY_NOINLINE void FloatTile(const float* const* rows, const MatMulInput& in, int t0,
                            float* HWY_RESTRICT out) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  const size_t L = hn::Lanes(df);
  const int cols = in.cols, P = in.padded_tokens;
  VF partial[8][kTileRows][V];
  for (int j = 0; j < 8; ++j) {
    VF acc[kTileRows][V];
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) acc[r][v] = hn::Zero(df);
    }
    for (int i = j; i < cols; i += 8) {
      const float* xi = in.xt + size_t(i) * P + t0;
      VF x[V];
      for (int v = 0; v < V; ++v) x[v] = hn::Load(df, xi + v * L);
      for (int r = 0; r < kTileRows; ++r) {
        const VF wv = hn::Set(df, rows[r][i]);
        for (int v = 0; v < V; ++v) {
          acc[r][v] =
              kFma ? hn::MulAdd(wv, x[v], acc[r][v]) : hn::Add(acc[r][v], hn::Mul(wv, x[v]));
        }
      }
    }
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) partial[j][r][v] = acc[r][v];
    }
  }
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < V; ++v) {
      const VF s = hn::Add(hn::Add(hn::Add(partial[0][r][v], partial[4][r][v]),
                                   hn::Add(partial[2][r][v], partial[6][r][v])),
                           hn::Add(hn::Add(partial[1][r][v], partial[5][r][v]),
                                   hn::Add(partial[3][r][v], partial[7][r][v])));
      hn::StoreU(s, df, out + (r * V + v) * L);
    }
  }
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

// A matrix's weights, tile by tile, for one kernel.

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
