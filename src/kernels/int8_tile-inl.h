// Int8 weight tiles and the portable int8 kernel: kTileRows weight rows unpacked to int8 blocks
// (and widened to int16 for the portable kernel), multiplied by V vectors of tokens from the
// kI16Pairs layout with i32x4.dot_i16x8_s (WebAssembly) or VPMADDWD (x86). Exact block sums, then
// the f32 steps of numerics.h, order 1.

#include <algorithm>
#include <cstring>

#include "gguf/ggml_type.h"
#include "kernels/matmul.h"
#include "kernels/matrix.h"
#include "util/check.h"
#include "util/fp16.h"

// Per-target include guard.
#if defined(GGUFEMBED_KERNELS_INT8_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_INT8_TILE_INL_H_
#undef GGUFEMBED_KERNELS_INT8_TILE_INL_H_
#else
#define GGUFEMBED_KERNELS_INT8_TILE_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/matmul_input-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ------------------------------------------------------------------------ int8 weight tiles

// Up to kTileRows weight rows in the form the int8 kernels read; rows past `rows` repeat the
// last one (their results are discarded).
struct Int8Tile {
  int rows;
  GgmlType type;
  // Row r, block b at q[r] + b·stride: 32 int8 values (null for the stored forms).
  const int8_t* q[kTileRows];
  size_t stride;
  const uint8_t* u[kTileRows];    // row r as unsigned bytes [nb × 32] (UnsignedWeights)
  const int16_t* w16[kTileRows];  // portable: row r widened [nb × 32]
  const float* dw;                // [nb][kTileRows] block scales
  const float* mins;              // [nb][kTileRows] block minimums (Q4_1/Q5_1), else nullptr
};

// Which unsigned form of the weights a kernel wants besides the int8 values: none, |w|, w + 128
// or, for the 4- and 5-bit types, the stored values w + Block32Offset (x86; relaxed SIMD, where
// those below 32 are a 7-bit operand as they are).
enum class UnsignedWeights { kNone, kAbs, kPlus128, kStored };

// Scratch bytes one Int8Tile of `cols`-value rows takes.
inline size_t Int8TileScratchBytes(int cols) {
  const size_t nb = cols / 32;
  // Block scales and minimums, then (aligned) per row: the int8 or stored values (1 byte per
  // value; none for Q8_0, read in place) and then int16 values (portable, 2 bytes) or unsigned
  // values (x86, 1).
  return kTileRows * (nb * 2 * sizeof(float) + size_t(cols) * 3) + Arena::kAlignment;
}

// out[(i·kTileRows + r)·4 + j] = rows[r][i·4 + j] for i < n: kTileRows rows of n 4-byte units,
// interleaved unit by unit (a 4 × 4 transpose of 32-bit lanes per 4 units of every row).
HWY_INLINE void InterleaveRows(const uint8_t* const* rows, size_t n, uint8_t* out) {
  static_assert(kTileRows == 4, "a 4 x 4 transpose");
#if HWY_TARGET == HWY_SCALAR
  for (size_t i = 0; i < n; ++i) {
    for (int r = 0; r < kTileRows; ++r) {
      std::memcpy(out + (i * kTileRows + r) * 4, rows[r] + 4 * i, 4);
    }
  }
#else
  const hn::Full128<uint32_t> d32;
  const hn::Repartition<uint64_t, decltype(d32)> d64;
  const hn::Repartition<uint8_t, decltype(d32)> d8;
  for (size_t i = 0; i < n; i += 4) {  // n: a K-quant row's blocks, 8 per super-block
    const auto a0 = hn::BitCast(d32, hn::LoadU(d8, rows[0] + 4 * i));
    const auto a1 = hn::BitCast(d32, hn::LoadU(d8, rows[1] + 4 * i));
    const auto a2 = hn::BitCast(d32, hn::LoadU(d8, rows[2] + 4 * i));
    const auto a3 = hn::BitCast(d32, hn::LoadU(d8, rows[3] + 4 * i));
    const auto lo01 = hn::BitCast(d64, hn::InterleaveLower(d32, a0, a1));  // unit 0, 1 of rows 0, 1
    const auto lo23 = hn::BitCast(d64, hn::InterleaveLower(d32, a2, a3));
    const auto hi01 = hn::BitCast(d64, hn::InterleaveUpper(d32, a0, a1));  // units 2, 3
    const auto hi23 = hn::BitCast(d64, hn::InterleaveUpper(d32, a2, a3));
    uint8_t* o = out + i * kTileRows * 4;
    hn::StoreU(hn::BitCast(d8, hn::InterleaveLower(d64, lo01, lo23)), d8, o);
    hn::StoreU(hn::BitCast(d8, hn::InterleaveUpper(d64, lo01, lo23)), d8, o + 16);
    hn::StoreU(hn::BitCast(d8, hn::InterleaveLower(d64, hi01, hi23)), d8, o + 32);
    hn::StoreU(hn::BitCast(d8, hn::InterleaveUpper(d64, hi01, hi23)), d8, o + 48);
  }
#endif
}

// The 32 values of one Q4_0, Q4_1, Q5_0 or Q5_1 block minus `offset`, in 16-byte vectors: with
// Block32Offset(type) the int8 values UnpackBlock32 writes, with 0 the stored unsigned values
// (UnsignedWeights::kStored). For short inputs a tile is prepared for every run of tokens, and the
// byte loop cost more than the products.
HWY_INLINE void UnpackValues32(GgmlType type, const uint8_t* HWY_RESTRICT b, int offset,
                               uint8_t* HWY_RESTRICT out) {
#if HWY_TARGET == HWY_SCALAR
  int8_t q[32];
  float d, m;
  UnpackBlock32(type, b, q, &d, &m);
  for (int j = 0; j < 32; ++j) out[j] = static_cast<uint8_t>(q[j] + Block32Offset(type) - offset);
#else
  const hn::Full128<uint8_t> d8;
  const bool has_min = type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1;
  const bool q5 = type == GgmlType::kQ5_0 || type == GgmlType::kQ5_1;
  const uint8_t* qs = b + (has_min ? 4 : 2) + (q5 ? 4 : 0);
  const auto v = hn::LoadU(d8, qs);
  auto lo = hn::And(v, hn::Set(d8, 0x0F)), hi = hn::ShiftRight<4>(v);
  if (q5) {  // bit j of the little-endian qh: the 5th bit of value j
    const uint8_t* qh = b + (has_min ? 4 : 2);
    const auto sixteen = hn::Set(d8, 16);
    lo = hn::Or(lo, hn::IfThenElseZero(hn::LoadMaskBits(d8, qh), sixteen));
    hi = hn::Or(hi, hn::IfThenElseZero(hn::LoadMaskBits(d8, qh + 2), sixteen));
  }
  // The offset in 8-bit wrapping arithmetic: minus Block32Offset, the values are the int8 bits.
  const auto sub = hn::Set(d8, static_cast<uint8_t>(offset));
  hn::StoreU(hn::Sub(lo, sub), d8, out);
  hn::StoreU(hn::Sub(hi, sub), d8, out + 16);
#endif
}

// Fills `tile` with rows [n0, n0 + rows) of `w`, using `scratch` (Int8TileScratchBytes).
HWY_INLINE void PrepareInt8Tile(const Matrix& w, int64_t n0, int rows, UnsignedWeights uform,
                                bool widen, uint8_t* scratch, Int8Tile* tile) {
  const int cols = static_cast<int>(w.cols), nb = cols / 32;
  float* dw = reinterpret_cast<float*>(scratch);
  float* mins = dw + size_t(nb) * kTileRows;
  uint8_t* next = reinterpret_cast<uint8_t*>(mins + size_t(nb) * kTileRows);
  constexpr uintptr_t kAlign = Arena::kAlignment;
  next =
      reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(next) + kAlign - 1) & ~(kAlign - 1));
  tile->rows = rows;
  tile->type = w.type;
  tile->dw = dw;
  const bool has_min = w.type == GgmlType::kQ4_1 || w.type == GgmlType::kQ5_1;
  tile->mins = has_min ? mins : nullptr;
  const uint64_t block_bytes = GetGgmlType(w.type).type_size;
  for (int r = 0; r < kTileRows; ++r) {
    const uint8_t* row = w.Row(n0 + std::min(r, rows - 1));
    if (w.type == GgmlType::kQ8_0) {  // read in place
      tile->q[r] = reinterpret_cast<const int8_t*>(row + kQ8_0ValuesOffset);
      tile->stride = kQ8_0BlockBytes;
      for (int b = 0; b < nb; ++b) dw[b * kTileRows + r] = LoadF16(row + kQ8_0BlockBytes * b);
    } else {  // unpack into scratch (exact: the values fit in int8), or only their stored form
      uint8_t* q = next;
      next += cols;
      const bool stored = uform == UnsignedWeights::kStored;
      const int offset = stored ? 0 : Block32Offset(w.type);
      for (int b = 0; b < nb; ++b) {
        UnpackBlock32Scales(w.type, row + b * block_bytes, &dw[b * kTileRows + r],
                            &mins[b * kTileRows + r]);
        UnpackValues32(w.type, row + b * block_bytes, offset, q + 32 * b);
      }
      tile->stride = 32;
      if (stored) {  // the kernels that take them read nothing else (no widening: not portable)
        GGUFEMBED_DCHECK(!widen);
        tile->q[r] = nullptr;
        tile->u[r] = q;
        continue;
      }
      tile->q[r] = reinterpret_cast<const int8_t*>(q);
    }
    if (uform != UnsignedWeights::kNone) {
      const hn::CappedTag<int8_t, 32> d8;
      const hn::RebindToUnsigned<decltype(d8)> du8;
      uint8_t* u = next;
      next += cols;
      const auto plus128 = hn::Set(du8, 128);
      for (int b = 0; b < nb; ++b) {
        const int8_t* qb = tile->q[r] + b * tile->stride;
        for (size_t j = 0; j < 32; j += hn::Lanes(d8)) {
          const auto q = hn::LoadU(d8, qb + j);
          // |-128| wraps to -128, which is 128 as unsigned: still exact.
          const auto uq = uform == UnsignedWeights::kAbs ? hn::BitCast(du8, hn::Abs(q))
                                                         : hn::Add(hn::BitCast(du8, q), plus128);
          hn::StoreU(uq, du8, u + 32 * b + j);
        }
      }
      tile->u[r] = u;
    }
    if (widen) {
      const hn::CappedTag<int16_t, 16> d16;
      const hn::Rebind<int8_t, decltype(d16)> d8;
      int16_t* w16 = reinterpret_cast<int16_t*>(next);
      next += 2 * size_t(cols);
      for (int b = 0; b < nb; ++b) {
        const int8_t* qb = tile->q[r] + b * tile->stride;
        for (size_t j = 0; j < 32; j += hn::Lanes(d16)) {
          hn::StoreU(hn::PromoteTo(d16, hn::LoadU(d8, qb + j)), d16, w16 + 32 * b + j);
        }
      }
      tile->w16[r] = w16;
    }
  }
}

// The f32 part shared by every int8 kernel: acc += (dw·d_x)·isum (+ min·s_x), lane by lane, for
// one row and one vector of tokens: the reference's operations in its order.
template <class DF, class VF = hn::Vec<DF>, class VI = hn::Vec<hn::RebindToSigned<DF>>>
HWY_INLINE VF AccumulateBlock(DF df, VF acc, VI isum, float dw, const float* HWY_RESTRICT dx,
                              const float* mins_b, const float* HWY_RESTRICT sx) {
  VF term = hn::Mul(hn::Mul(hn::Set(df, dw), hn::LoadU(df, dx)), hn::ConvertTo(df, isum));
  if (mins_b) term = hn::Add(term, hn::Mul(hn::Set(df, *mins_b), hn::LoadU(df, sx)));
  return hn::Add(acc, term);
}

// Blocks per stage of ForEachBlockStaged.
inline constexpr int kStagedBlocks = 16;

// Runs a kernel's two parts over its n blocks: integer(b, &sums) computes block b's exact sums for
// every row and vector of tokens, f32(b, sums) applies its f32 steps; the integer parts of
// kStagedBlocks blocks, then their f32 parts, in block order. Apart, the tile's f32 sums are not
// live across the integer loop: in one loop the compiler kept them in registers there, and
// WebAssembly engines spilled the integer sums (the relaxed Q8_0 kernel on 500 tokens 14–17 %
// faster in Chromium staged). The f32 steps keep their order: the same bits.
template <class Sums, class Integer, class Float>
HWY_INLINE void ForEachBlockStaged(int n, const Integer& integer, const Float& f32) {
  Sums staged[kStagedBlocks];
  for (int b0 = 0; b0 < n; b0 += kStagedBlocks) {
    const int stage = std::min(kStagedBlocks, n - b0);
    for (int i = 0; i < stage; ++i) integer(b0 + i, &staged[i]);
    for (int i = 0; i < stage; ++i) f32(b0 + i, staged[i]);
  }
}

// ------------------------------------------------------------------------ portable int8 kernel

// out[r][v·L + l] = row r · token (t0 + v·L + l), for V vectors of L tokens, from the kI16Pairs
// layout: per pair of values, each lane multiplies its token's two int16 values by the row's two
// (i32x4.dot_i16x8_s in WebAssembly, VPMADDWD on x86).
template <int V>
HWY_NOINLINE void Int8TilePortable(const Int8Tile& w, const MatMulInput& in, int t0,
                                   float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const int16_t* x16 = static_cast<const int16_t*>(in.q);
#if HWY_TARGET == HWY_SCALAR
  // One lane: plain loops over the same layout.
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < V; ++v) {
      const int t = t0 + v;
      float acc = 0.0f;
      for (int b = 0; b < nb; ++b) {
        int32_t isum = 0;
        for (int p = 0; p < 16; ++p) {
          const int16_t* xp = x16 + I16PairsIndex(b, t, 2 * p, P);
          isum += int32_t{w.w16[r][32 * b + 2 * p]} * xp[0] +
                  int32_t{w.w16[r][32 * b + 2 * p + 1]} * xp[1];
        }
        const size_t at = size_t(b) * P + t;
        float term = (w.dw[b * kTileRows + r] * in.d[at]) * static_cast<float>(isum);
        if (w.mins) term = term + w.mins[b * kTileRows + r] * in.s[at];
        acc = acc + term;
      }
      out[r * V + v] = acc;
    }
  }
#else
  const hn::ScalableTag<int32_t> d32;
  const hn::Repartition<int16_t, decltype(d32)> d16;
  const hn::Rebind<float, decltype(d32)> df;
  using VI = hn::Vec<decltype(d32)>;
  const size_t L = hn::Lanes(d32);
  for (size_t i = 0; i < kTileRows * V; ++i) hn::StoreU(hn::Zero(df), df, out + i * L);
  struct Sums {
    VI s[kTileRows][V];
  };
  const auto integer = [&](int b, Sums* sums) {
    VI isum[kTileRows][V], odd[kTileRows][V];
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) isum[r][v] = odd[r][v] = hn::Zero(d32);
    }
    const int16_t* xb = x16 + I16PairsIndex(b, t0, 0, P);  // t0 is a multiple of L
    for (int p = 0; p < 16; ++p) {
      hn::Vec<decltype(d16)> xv[V];
      for (int v = 0; v < V; ++v) xv[v] = hn::Load(d16, xb + (v * 16 + p) * 2 * L);
      for (int r = 0; r < kTileRows; ++r) {
        int32_t pair;
        std::memcpy(&pair, w.w16[r] + 32 * b + 2 * p, 4);
        const auto wv = hn::BitCast(d16, hn::Set(d32, pair));
        for (int v = 0; v < V; ++v) {
          isum[r][v] = hn::ReorderWidenMulAccumulate(d32, xv[v], wv, isum[r][v], odd[r][v]);
        }
      }
    }
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) sums->s[r][v] = hn::Add(isum[r][v], odd[r][v]);
    }
  };
  const auto f32 = [&](int b, const Sums& sums) {
    const float* dx = in.d + size_t(b) * P + t0;
    const float* sx = in.s + size_t(b) * P + t0;
    for (int r = 0; r < kTileRows; ++r) {
      const float* mins_b = w.mins ? &w.mins[b * kTileRows + r] : nullptr;
      for (int v = 0; v < V; ++v) {
        float* acc = out + (r * V + v) * L;
        hn::StoreU(AccumulateBlock(df, hn::LoadU(df, acc), sums.s[r][v], w.dw[b * kTileRows + r],
                                   dx + v * L, mins_b, sx + v * L),
                   df, acc);
      }
    }
  };
  ForEachBlockStaged<Sums>(nb, integer, f32);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
