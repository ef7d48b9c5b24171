// K-quant weight tiles and their integer kernels (numerics.h, order 1b): kTileRows rows of Q4_K,
// Q5_K or Q6_K unpacked super-block by super-block into unsigned values with the scale and zero
// of each 16 (UnpackSuperBlockK), and one kernel per activation layout, all giving the same exact
// integers S and Z per super-block and then the same two f32 steps:
//  - portable (kI16Pairs): the values pre-multiplied by their scale as int16 (at most 63·128),
//    i32x4.dot_i16x8_s / VPMADDWD;
//  - x86 (kS8Quads): VPMADDUBSW of the unsigned values (at most 63) by the int8 activations, then
//    VPMADDWD by the scale of each half block, as ggml's AVX2 K-quant code does; with AVX-512
//    VNNI, VPDPBUSD per group and VPMULLD by the scale;
//  - relaxed SIMD (kS8QuadGroups): the unsigned values are the 7-bit operand, so the result is
//    fully defined: of i16x8.relaxed_dot_i8x16_i7x16_s, pair sums added in int16 as far as they
//    fit, then multiplied by their scale with i32x4.dot_i16x8_s; or, where the engine runs
//    i32x4.relaxed_dot_i8x16_i7x16_add_s as one multiply (RelaxedInt32Dot), of that, added in
//    int32 under one scale and multiplied by it with i32x4.mul.
// Z (the activations' sums of 16 times the zeros) comes from VPMADDWD / dot_i16x8 on the input's
// bsum pairs.

#include <algorithm>
#include <cstring>

#include "gguf/ggml_type.h"
#include "kernels/matmul.h"
#include "kernels/matrix.h"
#include "util/check.h"

// Per-target include guard.
#if defined(GGUFEMBED_KERNELS_KQUANT_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_KQUANT_TILE_INL_H_
#undef GGUFEMBED_KERNELS_KQUANT_TILE_INL_H_
#else
#define GGUFEMBED_KERNELS_KQUANT_TILE_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/int8_relaxed-inl.h"
#include "kernels/int8_tile-inl.h"
#include "kernels/int8_x86-inl.h"
#include "kernels/matmul_input-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Up to kTileRows rows of K-quant weights; rows past `rows` repeat the last one.
struct KTile {
  int rows;
  bool q6;                        // Q6_K: S − Z in one term; else Z is the minimums' own term
  int max_value;                  // the largest unsigned value of the type: 15, 31 or 63
  const uint8_t* u[kTileRows];    // row r's unsigned values [cols] (x86, relaxed SIMD)
  const int16_t* w16[kTileRows];  // portable: row r's values times their scale [cols]
  const int16_t* scale;           // [nb][kTileRows][2]: the scales of each block's halves
  const int16_t* zero;            // [nb][kTileRows][2]: their zeros
  const float* d;                 // [nb / 8][kTileRows] super-block scales
  const float* dmin;              // [nb / 8][kTileRows]
};

// Scratch bytes one KTile of `cols`-value rows takes.
inline size_t KTileScratchBytes(int cols) {
  const size_t nb = cols / 32;
  // Per row: unsigned values and int16 values (3 bytes per value); per block
  // and row two scales and two zeros, twice (row by row, then interleaved); per super-block and
  // row d and dmin.
  return kTileRows * (size_t(cols) * 3 + nb * 16 + nb / 8 * 8) + 3 * Arena::kAlignment;
}

// The 256 unsigned values of one K-quant super-block as UnpackSuperBlockK writes them, in 16-byte
// vectors: for short inputs a tile is prepared for every run of tokens, and the byte loop cost
// more than the products.
HWY_INLINE void UnpackValuesK(GgmlType type, const uint8_t* HWY_RESTRICT b,
                              uint8_t* HWY_RESTRICT u) {
#if HWY_TARGET == HWY_SCALAR
  int16_t scale[16], zero[16];
  float d, dmin;
  UnpackSuperBlockK(type, b, u, scale, zero, &d, &dmin);
#else
  const hn::Full128<uint8_t> d8;
  const auto low4 = hn::Set(d8, 0x0F), low2 = hn::Set(d8, 3);
  if (type == GgmlType::kQ6_K) {  // per half: 4 low bits in ql[64], 2 high bits in qh[32]
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = b + 64 * half;
      const uint8_t* qh = b + 128 + 32 * half;
      uint8_t* y = u + 128 * half;
      for (int c = 0; c < 32; c += 16) {
        const auto l0 = hn::LoadU(d8, ql + c), l1 = hn::LoadU(d8, ql + 32 + c);
        const auto h = hn::LoadU(d8, qh + c);
        hn::StoreU(hn::Or(hn::And(l0, low4), hn::ShiftLeft<4>(hn::And(h, low2))), d8, y + c);
        hn::StoreU(hn::Or(hn::And(l1, low4), hn::ShiftLeft<4>(hn::And(hn::ShiftRight<2>(h), low2))),
                   d8, y + 32 + c);
        hn::StoreU(
            hn::Or(hn::ShiftRight<4>(l0), hn::ShiftLeft<4>(hn::And(hn::ShiftRight<4>(h), low2))),
            d8, y + 64 + c);
        hn::StoreU(hn::Or(hn::ShiftRight<4>(l1), hn::ShiftLeft<4>(hn::ShiftRight<6>(h))), d8,
                   y + 96 + c);
      }
    }
    return;
  }
  // Q4_K, Q5_K: blocks j and j + 1 are the low and high nibbles of the same 32 bytes of qs; Q5_K
  // adds 16 where bit j (j + 1) of qh[l] is set.
  const bool q5 = type == GgmlType::kQ5_K;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + (q5 ? 48 : 16);
  const auto sixteen = hn::Set(d8, 16);
  for (int j = 0; j < 8; j += 2) {
    for (int c = 0; c < 32; c += 16) {
      const auto v = hn::LoadU(d8, qs + 16 * j + c);
      auto lo = hn::And(v, low4), hi = hn::ShiftRight<4>(v);
      if (q5) {
        const auto h = hn::LoadU(d8, qh + c);
        lo = hn::Or(lo, hn::IfThenElseZero(hn::TestBit(h, hn::Set(d8, uint8_t(1u << j))), sixteen));
        hi = hn::Or(hi, hn::IfThenElseZero(hn::TestBit(h, hn::Set(d8, uint8_t(2u << j))), sixteen));
      }
      hn::StoreU(lo, d8, u + 32 * j + c);
      hn::StoreU(hi, d8, u + 32 * (j + 1) + c);
    }
  }
#endif
}

// UnpackScalesK in vectors (that scalar decoder is the reference the kernel tests hold every
// target to): a tile unpacks the 16 scales and zeros of every super-block of every row for each
// run of tokens, and clang leaves the scalar loop scalar, 80 instructions a super-block in wasm
// (the stores might alias the block): 10 % of a short Q6_K text in Chromium.
HWY_INLINE void UnpackScalesKVec(GgmlType type, const uint8_t* HWY_RESTRICT b,
                                 int16_t* HWY_RESTRICT scale, int16_t* HWY_RESTRICT zero, float* d,
                                 float* dmin) {
#if HWY_TARGET == HWY_SCALAR
  UnpackScalesK(type, b, scale, zero, d, dmin);
#else
  const hn::Full128<int16_t> d16;
  if (type == GgmlType::kQ6_K) {  // zero = 32·scale
    const hn::Rebind<int8_t, decltype(d16)> d8;
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + kQ6KScalesOffset);
    *d = LoadF16(b + kQ6KDOffset);
    *dmin = 0.0f;
    for (int h = 0; h < 16; h += 8) {
      const auto v = hn::PromoteTo(d16, hn::LoadU(d8, sc + h));
      hn::StoreU(v, d16, scale + h);
      hn::StoreU(hn::ShiftLeft<5>(v), d16, zero + h);
    }
    return;
  }
  // Q4_K, Q5_K: each 32-value sub-block's scale and minimum, repeated for both its halves.
  HWY_ALIGN uint8_t bytes[16];  // the 8 scales, then the 8 minimums
  UnpackScaleBytesK(b, bytes, bytes + 8, d, dmin);
  const hn::Full128<uint8_t> d8;
  const hn::Half<decltype(d8)> h8;
  const auto v = hn::Load(d8, bytes);
  const auto scales = hn::InterleaveLower(d8, v, v), zeros = hn::InterleaveUpper(d8, v, v);
  hn::StoreU(hn::PromoteTo(d16, hn::LowerHalf(h8, scales)), d16, scale);
  hn::StoreU(hn::PromoteTo(d16, hn::UpperHalf(h8, scales)), d16, scale + 8);
  hn::StoreU(hn::PromoteTo(d16, hn::LowerHalf(h8, zeros)), d16, zero);
  hn::StoreU(hn::PromoteTo(d16, hn::UpperHalf(h8, zeros)), d16, zero + 8);
#endif
}

// A row's values times their scale as int16 (at most 63·128), 16 values per scale.
HWY_INLINE void WidenScaled(const uint8_t* HWY_RESTRICT u, const int16_t* HWY_RESTRICT scale,
                            int cols, int16_t* HWY_RESTRICT w16) {
  for (int k = 0; k < cols / 16; ++k) {
    const int16_t s = scale[k];
#if HWY_TARGET == HWY_SCALAR
    for (int j = 16 * k; j < 16 * k + 16; ++j) w16[j] = static_cast<int16_t>(s * u[j]);
#else
    const hn::Full128<int16_t> d16;
    const hn::Rebind<uint8_t, decltype(d16)> d8;
    for (int j = 16 * k; j < 16 * k + 16; j += 8) {
      hn::StoreU(hn::Mul(hn::PromoteTo(d16, hn::LoadU(d8, u + j)), hn::Set(d16, s)), d16, w16 + j);
    }
#endif
  }
}

// Fills `tile` with rows [n0, n0 + rows) of `w` for `kernel`'s layout, using `scratch`.
HWY_INLINE void PrepareKTile(const Matrix& w, int64_t n0, int rows, bool widen, uint8_t* scratch,
                             KTile* tile) {
  const int cols = static_cast<int>(w.cols), nb = cols / 32, nsb = nb / 8;
  constexpr uintptr_t kAlign = Arena::kAlignment;
  auto align = [](uint8_t* p) {
    return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(p) + kAlign - 1) &
                                      ~(kAlign - 1));
  };
  uint8_t* next = align(scratch);
  float* d = reinterpret_cast<float*>(next);
  float* dmin = d + size_t(nsb) * kTileRows;
  int16_t* scale = reinterpret_cast<int16_t*>(dmin + size_t(nsb) * kTileRows);
  int16_t* zero = scale + size_t(nb) * kTileRows * 2;
  // Each row's scales and zeros as UnpackScalesK writes them, [nb][2], before interleaving.
  int16_t* row_scales = reinterpret_cast<int16_t*>(
      align(reinterpret_cast<uint8_t*>(zero + size_t(nb) * kTileRows * 2)));
  int16_t* row_zeros = row_scales + size_t(nb) * kTileRows * 2;
  next = align(reinterpret_cast<uint8_t*>(row_zeros + size_t(nb) * kTileRows * 2));
  tile->rows = rows;
  tile->q6 = w.type == GgmlType::kQ6_K;
  tile->max_value = w.type == GgmlType::kQ4_K ? 15 : w.type == GgmlType::kQ5_K ? 31 : 63;
  tile->d = d;
  tile->dmin = dmin;
  tile->scale = scale;
  tile->zero = zero;
  const uint64_t block_bytes = GetGgmlType(w.type).type_size;
  const uint8_t* scale_rows[kTileRows];
  const uint8_t* zero_rows[kTileRows];
  for (int r = 0; r < kTileRows; ++r) {
    const uint8_t* row = w.Row(n0 + std::min(r, rows - 1));
    int16_t* row_scale = row_scales + size_t(nb) * 2 * r;
    int16_t* row_zero = row_zeros + size_t(nb) * 2 * r;
    uint8_t* u = next;
    next += cols;
    for (int sb = 0; sb < nsb; ++sb) {
      UnpackScalesKVec(w.type, row + sb * block_bytes, row_scale + 16 * sb, row_zero + 16 * sb,
                       &d[sb * kTileRows + r], &dmin[sb * kTileRows + r]);
      UnpackValuesK(w.type, row + sb * block_bytes, u + 256 * sb);
    }
    scale_rows[r] = reinterpret_cast<const uint8_t*>(row_scale);
    zero_rows[r] = reinterpret_cast<const uint8_t*>(row_zero);
    tile->u[r] = u;
    if (widen) {
      int16_t* w16 = reinterpret_cast<int16_t*>(next);
      next += 2 * size_t(cols);
      WidenScaled(u, row_scale, cols, w16);
      tile->w16[r] = w16;
    }
  }
  // Every kernel reads a block's scale pairs of the tile's rows side by side: [nb][kTileRows][2].
  InterleaveRows(scale_rows, nb, reinterpret_cast<uint8_t*>(scale));
  InterleaveRows(zero_rows, nb, reinterpret_cast<uint8_t*>(zero));
}

// The two f32 steps of one super-block for one row and one vector of tokens (numerics.h, 1b).
template <class DF, class VF = hn::Vec<DF>, class VI = hn::Vec<hn::RebindToSigned<DF>>>
HWY_INLINE VF AccumulateSuperBlock(DF df, VF acc, VI s, VI z, bool q6, float d, float dmin,
                                   const float* HWY_RESTRICT dx) {
  const VF vdx = hn::LoadU(df, dx);
  if (q6)
    return hn::Add(acc, hn::Mul(hn::Mul(hn::Set(df, d), vdx), hn::ConvertTo(df, hn::Sub(s, z))));
  acc = hn::Add(acc, hn::Mul(hn::Mul(hn::Set(df, d), vdx), hn::ConvertTo(df, s)));
  return hn::Sub(acc, hn::Mul(hn::Mul(hn::Set(df, dmin), vdx), hn::ConvertTo(df, z)));
}

// The zero pair of block b, row r, as one int32 (low half: the first 16 values).
HWY_INLINE int32_t ZeroPair(const KTile& w, int b, int r) {
  int32_t pair;
  std::memcpy(&pair, w.zero + (size_t(b) * kTileRows + r) * 2, 4);
  return pair;
}

// ------------------------------------------------------------------------ portable kernel

// out[r][v·L + l] = row r · token (t0 + v·L + l) from the kI16Pairs layout.
template <int V>
HWY_NOINLINE void KTilePortable(const KTile& w, const MatMulInput& in, int t0,
                                float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const int16_t* x16 = static_cast<const int16_t*>(in.q);
#if HWY_TARGET == HWY_SCALAR
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < V; ++v) {
      const int t = t0 + v;
      float acc = 0.0f;
      for (int sb = 0; sb < nb / 8; ++sb) {
        int32_t s = 0, z = 0;
        for (int b = 8 * sb; b < 8 * sb + 8; ++b) {
          for (int j = 0; j < 32; ++j) {
            s += int32_t{w.w16[r][32 * b + j]} * x16[I16PairsIndex(b, t, j, P)];
          }
          const int16_t* bs = in.bsum + 2 * (size_t(b) * P + t);
          const int16_t* zr = w.zero + (size_t(b) * kTileRows + r) * 2;
          z += int32_t{zr[0]} * bs[0] + int32_t{zr[1]} * bs[1];
        }
        const float dx = in.d[size_t(8 * sb) * P + t];
        const float d = w.d[sb * kTileRows + r], dmin = w.dmin[sb * kTileRows + r];
        if (w.q6) {
          acc = acc + (d * dx) * static_cast<float>(s - z);
        } else {
          acc = acc + (d * dx) * static_cast<float>(s);
          acc = acc - (dmin * dx) * static_cast<float>(z);
        }
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
  // The super-block's integer sums in a function of their own, as in Int8TilePortable: clang 14
  // keeps an array of vectors in locals only where every loop indexing it is unrolled, and the
  // zeros' loop below is not, which left the sums in memory, 8 stores a pair step in wasm.
  const auto integer = [&](int sb, Sums* sums) {
    VI s[kTileRows][V], odd[kTileRows][V];
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) s[r][v] = odd[r][v] = hn::Zero(d32);
    }
    for (int b = 8 * sb; b < 8 * sb + 8; ++b) {
      const int16_t* xb = x16 + I16PairsIndex(b, t0, 0, P);  // t0 is a multiple of L
      for (int p = 0; p < 16; ++p) {
        hn::Vec<decltype(d16)> xv[V];
        for (int v = 0; v < V; ++v) xv[v] = hn::Load(d16, xb + (v * 16 + p) * 2 * L);
        for (int r = 0; r < kTileRows; ++r) {
          int32_t pair;
          std::memcpy(&pair, w.w16[r] + 32 * b + 2 * p, 4);
          const auto wv = hn::BitCast(d16, hn::Set(d32, pair));
          for (int v = 0; v < V; ++v) {
            s[r][v] = hn::ReorderWidenMulAccumulate(d32, xv[v], wv, s[r][v], odd[r][v]);
          }
        }
      }
    }
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) sums->s[r][v] = hn::Add(s[r][v], odd[r][v]);
    }
  };
  for (int sb = 0; sb < nb / 8; ++sb) {
    Sums sums;
    integer(sb, &sums);
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) {
        VI z = hn::Zero(d32), zodd = hn::Zero(d32);
        for (int b = 8 * sb; b < 8 * sb + 8; ++b) {
          const auto bs = hn::LoadU(d16, in.bsum + 2 * (size_t(b) * P + t0 + v * L));
          const auto zv = hn::BitCast(d16, hn::Set(d32, ZeroPair(w, b, r)));
          z = hn::ReorderWidenMulAccumulate(d32, bs, zv, z, zodd);
        }
        float* acc = out + (r * V + v) * L;
        hn::StoreU(AccumulateSuperBlock(df, hn::LoadU(df, acc), sums.s[r][v], hn::Add(z, zodd),
                                        w.q6, w.d[sb * kTileRows + r], w.dmin[sb * kTileRows + r],
                                        in.d + size_t(8 * sb) * P + t0 + v * L),
                   df, acc);
      }
    }
  }
#endif
}

// ------------------------------------------------------------------------ x86 kernel
#if GGUFEMBED_X86_INT8

// The AVX2 kernel on the kS8Quads layout, 8 tokens per vector (also used by the AVX-512 targets):
// per group of 4 values VPMADDUBSW multiplies the unsigned values (broadcast) by the tokens' int8
// values and adds pairs (at most 2·63·127, no saturation). The pairs of a half block's groups are
// added in 16 bits first — all 4 groups when the values are below 32 (Q4_K, Q5_K: at most
// 4·2·31·127 = 31,496), 2 at a time for Q6_K — then VPMADDWD by the half block's scale adds them
// into each token's 32-bit lane. A super-block goes row by row, so that only one row's sums are
// live: with all the tile's rows in registers across the blocks, gcc spilled (the 300m q4_k_m and
// q6_k models 11–13 % slower on AVX2).
template <int V, bool kQ6>
HWY_INLINE void KTileX86Impl(const KTile& w, const MatMulInput& in, int t0,
                             float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const uint8_t* xq = static_cast<const uint8_t*>(in.q);
  const hn::Full256<float> df;
  constexpr int kRun = kQ6 ? 2 : 4;  // groups summed in 16 bits
  for (int i = 0; i < kTileRows * V; ++i) hn::StoreU(hn::Zero(df), df, out + 8 * i);
  for (int sb = 0; sb < nb / 8; ++sb) {
    for (int r = 0; r < kTileRows; ++r) {
      __m256i s[V];
      for (int v = 0; v < V; ++v) s[v] = _mm256_setzero_si256();
      for (int b = 8 * sb; b < 8 * sb + 8; ++b) {
        const uint8_t* xb = xq + (size_t(b) * 8 * P + t0) * 4;  // group g at xb + g·P·4
        const uint8_t* ub = w.u[r] + 32 * b;
        for (int g0 = 0; g0 < 8; g0 += kRun) {
          __m256i pairs[V];
          for (int g = g0; g < g0 + kRun; ++g) {
            const __m256i wq = Broadcast4(ub + 4 * g);
            for (int v = 0; v < V; ++v) {
              const __m256i x = _mm256_load_si256(
                  reinterpret_cast<const __m256i*>(xb + size_t(g) * P * 4 + 32 * v));
              const __m256i p = _mm256_maddubs_epi16(wq, x);
              pairs[v] = g == g0 ? p : _mm256_add_epi16(pairs[v], p);
            }
          }
          const __m256i scale =
              _mm256_set1_epi16(w.scale[(size_t(b) * kTileRows + r) * 2 + g0 / 4]);
          for (int v = 0; v < V; ++v)
            s[v] = _mm256_add_epi32(s[v], _mm256_madd_epi16(pairs[v], scale));
        }
      }
      for (int v = 0; v < V; ++v) {
        __m256i z = _mm256_setzero_si256();
        for (int b = 8 * sb; b < 8 * sb + 8; ++b) {
          const __m256i bs = _mm256_loadu_si256(
              reinterpret_cast<const __m256i*>(in.bsum + 2 * (size_t(b) * P + t0 + 8 * v)));
          z = _mm256_add_epi32(z, _mm256_madd_epi16(bs, _mm256_set1_epi32(ZeroPair(w, b, r))));
        }
        float* acc = out + (r * V + v) * 8;
        hn::StoreU(AccumulateSuperBlock(df, hn::LoadU(df, acc), hn::Vec256<int32_t>{s[v]},
                                        hn::Vec256<int32_t>{z}, w.q6, w.d[sb * kTileRows + r],
                                        w.dmin[sb * kTileRows + r],
                                        in.d + size_t(8 * sb) * P + t0 + 8 * v),
                   df, acc);
      }
    }
  }
}

template <int V>
HWY_NOINLINE void KTileX86(const KTile& w, const MatMulInput& in, int t0, float* HWY_RESTRICT out) {
  if (w.q6) return KTileX86Impl<V, true>(w, in, t0, out);
  KTileX86Impl<V, false>(w, in, t0, out);
}

#if HWY_TARGET == HWY_AVX3_DL
// The AVX-512 VNNI kernel on the kS8Quads layout, 16 tokens per vector: one VPDPBUSD per group
// of 4 values multiplies the unsigned values (broadcast, < 64) by the tokens' int8 values into a
// block's (Q4_K, Q5_K: one scale per 32) or half block's (Q6_K) sum, which VPMULLD by its scale
// adds to S.
template <int V, bool kQ6>
GGUFEMBED_VNNI_ATTR HWY_INLINE void KTileVnniImpl(const KTile& w, const MatMulInput& in, int t0,
                                                  float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const uint8_t* xq = static_cast<const uint8_t*>(in.q);
  constexpr int kRun = kQ6 ? 4 : 8;  // groups under one scale
  __m512 acc[kTileRows][V];
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (int sb = 0; sb < nb / 8; ++sb) {
    __m512i s[kTileRows][V];
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) s[r][v] = _mm512_setzero_si512();
    }
    for (int b = 8 * sb; b < 8 * sb + 8; ++b) {
      for (int g0 = 0; g0 < 8; g0 += kRun) {
        __m512i part[kTileRows][V];
        for (int r = 0; r < kTileRows; ++r) {
          for (int v = 0; v < V; ++v) part[r][v] = _mm512_setzero_si512();
        }
        for (int g = g0; g < g0 + kRun; ++g) {
          const uint8_t* xg = xq + ((size_t(b) * 8 + g) * P + t0) * 4;
          __m512i x[V];
          for (int v = 0; v < V; ++v) x[v] = _mm512_load_si512(xg + 64 * v);
          for (int r = 0; r < kTileRows; ++r) {
            int32_t wu;
            std::memcpy(&wu, w.u[r] + 32 * b + 4 * g, 4);
            const __m512i wb = _mm512_set1_epi32(wu);
            for (int v = 0; v < V; ++v) part[r][v] = _mm512_dpbusd_epi32(part[r][v], wb, x[v]);
          }
        }
        for (int r = 0; r < kTileRows; ++r) {
          const __m512i scale =
              _mm512_set1_epi32(w.scale[(size_t(b) * kTileRows + r) * 2 + g0 / 4]);
          for (int v = 0; v < V; ++v) {
            s[r][v] = _mm512_add_epi32(s[r][v], _mm512_mullo_epi32(part[r][v], scale));
          }
        }
      }
    }
    const float* dx = in.d + size_t(8 * sb) * P + t0;
    for (int r = 0; r < kTileRows; ++r) {
      const __m512 d = _mm512_set1_ps(w.d[sb * kTileRows + r]);
      const __m512 dmin = _mm512_set1_ps(w.dmin[sb * kTileRows + r]);
      for (int v = 0; v < V; ++v) {
        __m512i z = _mm512_setzero_si512();
        for (int b = 8 * sb; b < 8 * sb + 8; ++b) {
          const __m512i bs = _mm512_loadu_si512(in.bsum + 2 * (size_t(b) * P + t0 + 16 * v));
          int32_t zero;  // ZeroPair, spelled out: this function's target differs from Highway's
          std::memcpy(&zero, w.zero + (size_t(b) * kTileRows + r) * 2, 4);
          z = _mm512_add_epi32(z, _mm512_madd_epi16(bs, _mm512_set1_epi32(zero)));
        }
        const __m512 vdx = _mm512_loadu_ps(dx + 16 * v);
        if (kQ6) {
          acc[r][v] = _mm512_add_ps(
              acc[r][v], _mm512_mul_ps(_mm512_mul_ps(d, vdx),
                                       _mm512_cvtepi32_ps(_mm512_sub_epi32(s[r][v], z))));
        } else {
          acc[r][v] = _mm512_add_ps(
              acc[r][v], _mm512_mul_ps(_mm512_mul_ps(d, vdx), _mm512_cvtepi32_ps(s[r][v])));
          acc[r][v] = _mm512_sub_ps(acc[r][v],
                                    _mm512_mul_ps(_mm512_mul_ps(dmin, vdx), _mm512_cvtepi32_ps(z)));
        }
      }
    }
  }
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(out + (r * V + v) * 16, acc[r][v]);
  }
}

template <int V>
GGUFEMBED_VNNI_ATTR HWY_NOINLINE void KTileVnni(const KTile& w, const MatMulInput& in, int t0,
                                                float* HWY_RESTRICT out) {
  if (w.q6) return KTileVnniImpl<V, true>(w, in, t0, out);
  KTileVnniImpl<V, false>(w, in, t0, out);
}
#endif  // HWY_TARGET == HWY_AVX3_DL

#endif  // GGUFEMBED_X86_INT8

// ------------------------------------------------------------------------ relaxed-SIMD kernel
#if GGUFEMBED_RELAXED_INT8

// out[r][v·4 + l] from the kS8QuadGroups layout, the row's unsigned values (below 64: a 7-bit
// operand, so every engine gives the same result) broadcast against the tokens' values, in one of
// two forms:
//  - int16 (kInt32 false): per group of 4 values one i16x8.relaxed_dot_i8x16_i7x16_s, each
//    token's two pair sums added in int16 over kRun groups under one scale — as many as fit: 8 for
//    Q4_K (values below 16: at most 8·2·15·127 = 30,480), 4 for Q5_K (below 32: 4·2·31·127 =
//    31,496), 2 for Q6_K (below 64: 2·2·63·127 = 32,004) — then i32x4.dot_i16x8_s by that scale
//    adds them into S. One multiply per 16 products on x86, where the int32 instruction takes two
//    without AVX-VNNI.
//  - int32 (kInt32 true, RelaxedInt32Dot): per group one i32x4.relaxed_dot_i8x16_i7x16_add_s into
//    int32 sums over all the groups under one scale — a block's 8 for Q4_K and Q5_K, 4 for Q6_K —
//    then i32x4.mul by that scale. No widening: where AVX-VNNI makes the instruction one VPDPBUSD
//    it wins, most for Q6_K (Chromium, 300m q6_k: 1.23 short, 1.20 long).
// Then per super-block Z from the input's bsum pairs and the two f32 steps on the exact sums S.
template <int V, int kRun, bool kInt32>
HWY_INLINE void KTileRelaxedImpl(const KTile& w, const MatMulInput& in, int t0,
                                 float* HWY_RESTRICT out) {
  static_assert(kRun == 2 || kRun == 4 || kRun == 8, "runs tile a block, within one scale");
  GGUFEMBED_DCHECK(!w.q6 || kRun <= 4);  // Q6_K has a scale per 16 values
  const int nb = in.cols / 32, P = in.padded_tokens;
  const uint8_t* xq = static_cast<const uint8_t*>(in.q);
  const hn::Full128<float> df;
  for (int i = 0; i < kTileRows * V; ++i) hn::StoreU(hn::Zero(df), df, out + 4 * i);
  for (int sb = 0; sb < nb / 8; ++sb) {
    v128_t s[kTileRows][V];
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) s[r][v] = wasm_i32x4_splat(0);
    }
    for (int b = 8 * sb; b < 8 * sb + 8; ++b) {
      const uint8_t* xb = xq + S8QuadGroupsIndex(b, t0, 0, P);  // t0 is a multiple of 4
      const uint8_t* u_b[kTileRows];
      for (int r = 0; r < kTileRows; ++r) u_b[r] = w.u[r] + 32 * b;
      for (int g0 = 0; g0 < 8; g0 += kRun) {
        v128_t sums[kTileRows][V];
        if constexpr (kInt32) {
          for (int r = 0; r < kTileRows; ++r) {
            for (int v = 0; v < V; ++v) sums[r][v] = wasm_i32x4_splat(0);
          }
        }
        RelaxedGroupSums<V, kRun, kInt32>(xb, u_b, g0, sums);
        for (int r = 0; r < kTileRows; ++r) {
          // The scale of the block's half the run is in; Q4_K's and Q5_K's halves share theirs, so
          // a run of 8 reads the first.
          const int16_t scale = w.scale[(size_t(b) * kTileRows + r) * 2 + g0 / 4];
          for (int v = 0; v < V; ++v) {
            v128_t scaled;
            if constexpr (kInt32) {
              scaled = wasm_i32x4_mul(sums[r][v], wasm_i32x4_splat(scale));
            } else {
              scaled = wasm_i32x4_dot_i16x8(sums[r][v], wasm_i16x8_splat(scale));
            }
            s[r][v] = wasm_i32x4_add(s[r][v], scaled);
          }
        }
      }
    }
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) {
        v128_t z = wasm_i32x4_splat(0);
        for (int b = 8 * sb; b < 8 * sb + 8; ++b) {
          const v128_t bs = wasm_v128_load(in.bsum + 2 * (size_t(b) * P + t0 + 4 * v));
          z = wasm_i32x4_add(z, wasm_i32x4_dot_i16x8(bs, wasm_i32x4_splat(ZeroPair(w, b, r))));
        }
        float* acc = out + (r * V + v) * 4;
        hn::StoreU(AccumulateSuperBlock(df, hn::LoadU(df, acc), hn::Vec128<int32_t>{s[r][v]},
                                        hn::Vec128<int32_t>{z}, w.q6, w.d[sb * kTileRows + r],
                                        w.dmin[sb * kTileRows + r],
                                        in.d + size_t(8 * sb) * P + t0 + 4 * v),
                   df, acc);
      }
    }
  }
}

template <int V>
HWY_NOINLINE void KTileRelaxed(const KTile& w, const MatMulInput& in, int t0,
                               float* HWY_RESTRICT out) {
  if (RelaxedInt32Dot()) {
    // One scale per 32 values (Q4_K, Q5_K) or per 16 (Q6_K).
    if (w.q6) return KTileRelaxedImpl<V, 4, true>(w, in, t0, out);
    return KTileRelaxedImpl<V, 8, true>(w, in, t0, out);
  }
  switch (w.max_value) {
    case 15:
      return KTileRelaxedImpl<V, 8, false>(w, in, t0, out);
    case 31:
      return KTileRelaxedImpl<V, 4, false>(w, in, t0, out);
    default:  // 63 (Q6_K); the shortest run is safe for any value below 64
      GGUFEMBED_DCHECK(w.max_value == 63);
      return KTileRelaxedImpl<V, 2, false>(w, in, t0, out);
  }
}

#endif  // GGUFEMBED_RELAXED_INT8

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
