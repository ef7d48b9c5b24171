// The hand-tuned x86 int8 kernels beside the portable one (int8_tile-inl.h), tested against it:
// AVX2 with tokens in the lanes (VPSIGNB/VPMADDUBSW/VPMADDWD; for the 4- and 5-bit types
// VPMADDUBSW on their stored unsigned values), AVX2 with weight rows in the lanes for Q8_0 (short
// inputs waste no lanes), and AVX-512 VNNI (VPDPBUSD). Same exact block sums,
// same f32 steps as every int8 kernel (numerics.h).

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "gguf/ggml_type.h"
#include "kernels/matmul.h"
#include "kernels/matrix.h"
#include "util/check.h"
#include "util/fp16.h"

// Per-target include guard.
#if defined(GGUFEMBED_KERNELS_INT8_X86_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_INT8_X86_INL_H_
#undef GGUFEMBED_KERNELS_INT8_X86_INL_H_
#else
#define GGUFEMBED_KERNELS_INT8_X86_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/int8_tile-inl.h"
#include "kernels/matmul-inl.h"  // GGUFEMBED_X86_INT8: whether this target has these kernels
#if GGUFEMBED_X86_INT8
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ------------------------------------------------------------------------ x86 int8 kernels
#if GGUFEMBED_X86_INT8

HWY_INLINE __m256i Broadcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// The f32 steps of block b for the AVX2 kernels' tile (8 tokens per vector): AccumulateBlock on
// every row's and vector's exact sums, into the f32 sums kept in `out`.
template <int V>
HWY_INLINE void AccumulateBlockAvx2(const Int8Tile& w, const MatMulInput& in, int b, int t0,
                                    const __m256i (&isum)[kTileRows][V], float* HWY_RESTRICT out) {
  const hn::Full256<float> df;
  const float* dx = in.d + size_t(b) * in.padded_tokens + t0;
  const float* sx = in.s + size_t(b) * in.padded_tokens + t0;
  for (int r = 0; r < kTileRows; ++r) {
    const float* mins_b = w.mins ? &w.mins[b * kTileRows + r] : nullptr;
    for (int v = 0; v < V; ++v) {
      float* acc = out + (r * V + v) * 8;
      hn::StoreU(AccumulateBlock(df, hn::LoadU(df, acc), hn::Vec256<int32_t>{isum[r][v]},
                                 w.dw[b * kTileRows + r], dx + 8 * v, mins_b, sx + 8 * v),
                 df, acc);
    }
  }
}

// The AVX2 kernel on the kS8Quads layout, 8 tokens per vector. Per group of 4 values:
// VPSIGNB moves the sign of w onto x, VPMADDUBSW multiplies |w| (unsigned) by it and adds
// pairs (at most 2·128·127, no saturation), VPMADDWD by ones adds the pairs into each token's
// 32-bit lane. Needs the tile's u rows as |w| (UnsignedWeights::kAbs).
template <int V>
HWY_NOINLINE void Int8TileAvx2(const Int8Tile& w, const MatMulInput& in, int t0,
                               float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const uint8_t* xq = static_cast<const uint8_t*>(in.q);
  const hn::Full256<float> df;
  const __m256i ones = _mm256_set1_epi16(1);
  // The f32 sums live in `out` (the 16 vector registers hold the integer sums).
  for (int i = 0; i < kTileRows * V; ++i) hn::StoreU(hn::Zero(df), df, out + 8 * i);
  for (int b = 0; b < nb; ++b) {
    __m256i isum[kTileRows][V];
    for (int r = 0; r < kTileRows; ++r) {
      for (int v = 0; v < V; ++v) isum[r][v] = _mm256_setzero_si256();
    }
    for (int g = 0; g < 8; ++g) {
      const uint8_t* xg = xq + ((size_t(b) * 8 + g) * P + t0) * 4;
      __m256i x[V];
      for (int v = 0; v < V; ++v)
        x[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(xg + 32 * v));
      for (int r = 0; r < kTileRows; ++r) {
        const __m256i wq = Broadcast4(w.q[r] + b * w.stride + 4 * g);
        const __m256i aw = Broadcast4(w.u[r] + 32 * b + 4 * g);
        for (int v = 0; v < V; ++v) {
          const __m256i pairs = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(x[v], wq));
          isum[r][v] = _mm256_add_epi32(isum[r][v], _mm256_madd_epi16(pairs, ones));
        }
      }
    }
    AccumulateBlockAvx2<V>(w, in, b, t0, isum, out);
  }
}

// The AVX2 kernels for the 4- and 5-bit types on the kS8Quads layout: VPMADDUBSW multiplies the
// stored unsigned values u = w + Block32Offset (UnsignedWeights::kStored, below 2^kBits) by the
// tokens' int8 values with no sign step, and the pairs (at most 2·31·127) of a run of groups add
// up in 16 bits before one VPMADDWD by ones: all 8 groups of a block when u < 16 (8·2·15·127 =
// 30,480), 4 when u < 32 (31,496). A block's sum also adds −offset·Σx (StoredStart), which
// takes the offset back out exactly: the same integers as Int8TileAvx2 in half the multiplies.

// −offset·Σx for the tokens of vector v from t0 in block b: the input's bias (−128·Σx) shifted
// right, −2^(kBits−1)·Σx, the offset of Q4_0 and Q5_0.
template <int kBits>
HWY_INLINE __m256i StoredStart(const MatMulInput& in, int b, int t0, int v) {
  return _mm256_srai_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                               in.bias + size_t(b) * in.padded_tokens + t0 + 8 * v)),
                           8 - kBits);
}

// 4-bit values (Q4_0, Q4_1): a block is one run, so groups go in the outer loop and each vector of
// tokens is loaded once for all the tile's rows, whose 16-bit sums die with the block. With rows
// outer, gcc kept a block's activations on the stack and loaded them again for each row: this
// order is 5–7 % faster (300m Q4_0, 13 and 500 tokens).
template <int V, bool kOffset>
HWY_INLINE void Int8TileAvx2Stored4(const Int8Tile& w, const MatMulInput& in, int t0,
                                    float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const uint8_t* xq = static_cast<const uint8_t*>(in.q);
  const hn::Full256<float> df;
  const __m256i ones = _mm256_set1_epi16(1);
  for (int i = 0; i < kTileRows * V; ++i) hn::StoreU(hn::Zero(df), df, out + 8 * i);
  for (int b = 0; b < nb; ++b) {
    const uint8_t* xb = xq + (size_t(b) * 8 * P + t0) * 4;  // group g at xb + g·P·4
    __m256i pairs[kTileRows][V];
    for (int g = 0; g < 8; ++g) {
      __m256i x[V];
      for (int v = 0; v < V; ++v) {
        x[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(xb + size_t(g) * P * 4 + 32 * v));
      }
      for (int r = 0; r < kTileRows; ++r) {
        const __m256i wu = Broadcast4(w.u[r] + 32 * b + 4 * g);
        for (int v = 0; v < V; ++v) {
          const __m256i p = _mm256_maddubs_epi16(wu, x[v]);
          pairs[r][v] = g == 0 ? p : _mm256_add_epi16(pairs[r][v], p);
        }
      }
    }
    __m256i isum[kTileRows][V];
    for (int v = 0; v < V; ++v) {
      const __m256i start = kOffset ? StoredStart<4>(in, b, t0, v) : _mm256_setzero_si256();
      for (int r = 0; r < kTileRows; ++r) {
        isum[r][v] = _mm256_add_epi32(start, _mm256_madd_epi16(pairs[r][v], ones));
      }
    }
    AccumulateBlockAvx2<V>(w, in, b, t0, isum, out);
  }
}

// 5-bit values (Q5_0, Q5_1): two runs per block, rows in the outer loop. The 4-bit kernel's order
// keeps every row's first-run sums waiting for the second, and was 6–11 % slower here.
template <int V, bool kOffset>
HWY_INLINE void Int8TileAvx2Stored5(const Int8Tile& w, const MatMulInput& in, int t0,
                                    float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const uint8_t* xq = static_cast<const uint8_t*>(in.q);
  const hn::Full256<float> df;
  const __m256i ones = _mm256_set1_epi16(1);
  for (int i = 0; i < kTileRows * V; ++i) hn::StoreU(hn::Zero(df), df, out + 8 * i);
  for (int b = 0; b < nb; ++b) {
    __m256i isum[kTileRows][V];
    for (int v = 0; v < V; ++v) {
      const __m256i start = kOffset ? StoredStart<5>(in, b, t0, v) : _mm256_setzero_si256();
      for (int r = 0; r < kTileRows; ++r) isum[r][v] = start;
    }
    const uint8_t* xb = xq + (size_t(b) * 8 * P + t0) * 4;  // group g at xb + g·P·4
    for (int r = 0; r < kTileRows; ++r) {
      const uint8_t* ub = w.u[r] + 32 * b;
      for (int g0 = 0; g0 < 8; g0 += 4) {
        __m256i pairs[V];
        for (int g = g0; g < g0 + 4; ++g) {
          const __m256i wu = Broadcast4(ub + 4 * g);
          for (int v = 0; v < V; ++v) {
            const __m256i x = _mm256_load_si256(
                reinterpret_cast<const __m256i*>(xb + size_t(g) * P * 4 + 32 * v));
            const __m256i p = _mm256_maddubs_epi16(wu, x);
            pairs[v] = g == g0 ? p : _mm256_add_epi16(pairs[v], p);
          }
        }
        for (int v = 0; v < V; ++v) {
          isum[r][v] = _mm256_add_epi32(isum[r][v], _mm256_madd_epi16(pairs[v], ones));
        }
      }
    }
    AccumulateBlockAvx2<V>(w, in, b, t0, isum, out);
  }
}

// The AVX2 kernel for `w`'s type: Int8TileAvx2Stored4 and Stored5 for the 4- and 5-bit types, whose
// tiles hold UnsignedWeights::kStored; Int8TileAvx2 for Q8_0 (UnsignedWeights::kAbs).
template <int V>
HWY_NOINLINE void Int8TileAvx2ForType(const Int8Tile& w, const MatMulInput& in, int t0,
                                      float* HWY_RESTRICT out) {
  switch (w.type) {
    case GgmlType::kQ4_0:
      return Int8TileAvx2Stored4<V, true>(w, in, t0, out);
    case GgmlType::kQ4_1:
      return Int8TileAvx2Stored4<V, false>(w, in, t0, out);
    case GgmlType::kQ5_0:
      return Int8TileAvx2Stored5<V, true>(w, in, t0, out);
    case GgmlType::kQ5_1:
      return Int8TileAvx2Stored5<V, false>(w, in, t0, out);
    default:
      return Int8TileAvx2<V>(w, in, t0, out);
  }
}

// ---------------------------------------------------- AVX2, rows in lanes (short inputs)
// Lanes are weight rows instead of tokens: 8 rows of a group of 4 values per vector, each token's
// 4 values broadcast. The arithmetic per output is Int8TileAvx2's, but no lane is wasted on
// padding tokens (13 tokens fill 16 token lanes: 10% faster on a 13-token input) and a tile of 8
// rows reads the activations once where Int8TileAvx2 reads them per 4 rows (7% faster products on
// 500 tokens). The AVX2 path for Q8_0 weights; the other int8 types keep Int8TileAvx2.
inline constexpr int kRowLanes = 8;

// Scratch bytes of one prepared tile of kRowLanes rows of `cols` values.
inline size_t RowLanesTileBytes(int cols) {
  return 2 * size_t(kRowLanes) * cols + size_t(cols / 32) * kRowLanes * sizeof(float);
}

// kRowLanes rows of Q8_0 weights, transposed by groups of 4 values.
struct RowLanesTile {
  int rows;
  const int8_t* w;   // [nb][8 groups][8 rows][4]: the values
  const uint8_t* a;  // the same layout: |w| (|−128| is 128 as unsigned: exact)
  const float* dw;   // [nb][8 rows] block scales
};

// The 8×8 transpose of 32-bit words: out[k] holds word k of v[0], v[1], …, v[7] (rows pairwise,
// then quads, then the 128-bit halves). Also bf16_x86-inl.h's, whose pairs are 32-bit words.
HWY_INLINE void Transpose8x8Epi32(const __m256i (&v)[8], __m256i (&out)[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {  // rows 4i..4i+3: u[4i + k] holds words k (low) and k + 4
    u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int k = 0; k < 4; ++k) {
    out[k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x20);
    out[k + 4] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x31);
  }
}

// Rows [n0, n0 + rows) of Q8_0 matrix `m` (rows past the end repeat the last one).
HWY_INLINE void PrepareRowLanesTile(const Matrix& m, int64_t n0, int rows, uint8_t* scratch,
                                    RowLanesTile* tile) {
  const int nb = static_cast<int>(m.cols / 32);
  int8_t* w = reinterpret_cast<int8_t*>(scratch);
  uint8_t* a = scratch + size_t(kRowLanes) * m.cols;
  float* dw = reinterpret_cast<float*>(a + size_t(kRowLanes) * m.cols);
  const uint8_t* row[kRowLanes];
  for (int r = 0; r < kRowLanes; ++r) row[r] = m.Row(n0 + std::min(r, rows - 1));
  for (int b = 0; b < nb; ++b) {
    __m256i v[kRowLanes];  // row r's block: 8 groups of 4 values
    for (int r = 0; r < kRowLanes; ++r) {
      dw[b * kRowLanes + r] = LoadF16(row[r] + kQ8_0BlockBytes * b);
      v[r] = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(row[r] + kQ8_0BlockBytes * b + kQ8_0ValuesOffset));
    }
    __m256i g[8];  // group k of every row
    Transpose8x8Epi32(v, g);
    for (int k = 0; k < 8; ++k) {
      const size_t at = (size_t(b) * 8 + k) * 32;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w + at), g[k]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + at), _mm256_abs_epi8(g[k]));
    }
  }
  tile->rows = rows;
  tile->w = w;
  tile->a = a;
  tile->dw = dw;
}

// out[n][r] = row r · token (t0 + n) for N tokens, from the kS8Quads layout: per group,
// VPSIGNB moves the rows' signs onto the token's broadcast values, VPMADDUBSW and VPMADDWD as in
// Int8TileAvx2; then the f32 epilogue of every int8 kernel, lanes being rows.
template <int N>
HWY_NOINLINE void RowLanesAvx2(const RowLanesTile& w, const MatMulInput& in, int t0,
                               float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const uint8_t* xq = static_cast<const uint8_t*>(in.q);
  const __m256i ones = _mm256_set1_epi16(1);
  // The f32 sums live in `out` (the 16 vector registers hold the integer sums).
  for (int n = 0; n < N; ++n) _mm256_storeu_ps(out + 8 * n, _mm256_setzero_ps());
  for (int b = 0; b < nb; ++b) {
    __m256i isum[N];
    for (int n = 0; n < N; ++n) isum[n] = _mm256_setzero_si256();
    for (int g = 0; g < 8; ++g) {
      const size_t at = (size_t(b) * 8 + g) * 32;
      const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.w + at));
      const __m256i aw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.a + at));
      const uint8_t* xg = xq + ((size_t(b) * 8 + g) * P + t0) * 4;
      for (int n = 0; n < N; ++n) {
        const __m256i pairs =
            _mm256_maddubs_epi16(aw, _mm256_sign_epi8(Broadcast4(xg + 4 * n), wq));
        isum[n] = _mm256_add_epi32(isum[n], _mm256_madd_epi16(pairs, ones));
      }
    }
    const __m256 dw = _mm256_loadu_ps(w.dw + b * kRowLanes);
    for (int n = 0; n < N; ++n) {
      const __m256 dx = _mm256_set1_ps(in.d[size_t(b) * P + t0 + n]);
      const __m256 term = _mm256_mul_ps(_mm256_mul_ps(dw, dx), _mm256_cvtepi32_ps(isum[n]));
      _mm256_storeu_ps(out + 8 * n, _mm256_add_ps(_mm256_loadu_ps(out + 8 * n), term));
    }
  }
}

// f(std::integral_constant<int, n>()) for a run of n (1..kMax) tokens: the rows-in-lanes kernels
// are unrolled over their run's tokens, one instantiation per length.
template <int kMax, class F>
HWY_INLINE void WithRunLength(int n, F&& f) {
  GGUFEMBED_DCHECK(n >= 1 && n <= kMax);
  if constexpr (kMax > 1) {
    if (n < kMax) return WithRunLength<kMax - 1>(n, f);
  }
  f(std::integral_constant<int, kMax>());
}

// RowLanesAvx2 for n (1..8) tokens.
HWY_INLINE void RunRowLanes(int n, const RowLanesTile& w, const MatMulInput& in, int t0,
                            float* out) {
  WithRunLength<kRowLanes>(n, [&](auto N) HWY_ATTR { RowLanesAvx2<N>(w, in, t0, out); });
}

#endif  // GGUFEMBED_X86_INT8

// The unsigned form of the weights the x86 kernels take for `type`: for the 4- and 5-bit types
// their stored values, for Q8_0 |w| (AVX2) or w + 128 (VNNI).
inline UnsignedWeights X86UnsignedWeights(bool vnni, GgmlType type) {
  if (type != GgmlType::kQ8_0) return UnsignedWeights::kStored;
  return vnni ? UnsignedWeights::kPlus128 : UnsignedWeights::kAbs;
}

#undef GGUFEMBED_VNNI_ATTR
#if HWY_TARGET == HWY_AVX3_DL
// Highway's AVX3_DL target guarantees AVX512-VNNI but does not enable it for the compiler.
#define GGUFEMBED_VNNI_ATTR                                           \
  __attribute__((                                                     \
      target("avx2,fma,f16c,bmi2,avx512f,avx512vl,avx512dq,avx512bw," \
             "avx512vnni")))

// The AVX-512 VNNI kernel on the kS8Quads layout, 16 tokens per vector: one VPDPBUSD per group
// of 4 values multiplies the tile's unsigned u rows by x and adds into each token's lane. For
// Q8_0 u = w + 128 (UnsignedWeights::kPlus128) and the sum starts at −128·Σx (the input's bias),
// which removes the +128; for the 4- and 5-bit types u is the stored value w + offset
// (UnsignedWeights::kStored) and the sum starts at −offset·Σx, the bias shifted right by kShift
// (offset 8: 4, offset 16: 3), or at 0 (kShift < 0: no offset, Q4_1 and Q5_1).
template <int V, int kShift>
GGUFEMBED_VNNI_ATTR HWY_INLINE void Int8TileVnniImpl(const Int8Tile& w, const MatMulInput& in,
                                                     int t0, float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const uint8_t* xq = static_cast<const uint8_t*>(in.q);
  __m512 acc[kTileRows][V];
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (int b = 0; b < nb; ++b) {
    __m512i isum[kTileRows][V];
    for (int v = 0; v < V; ++v) {
      __m512i start = _mm512_setzero_si512();
      if (kShift >= 0) {
        start = _mm512_srai_epi32(_mm512_loadu_si512(in.bias + size_t(b) * P + t0 + 16 * v),
                                  kShift < 0 ? 0 : kShift);
      }
      for (int r = 0; r < kTileRows; ++r) isum[r][v] = start;
    }
    for (int g = 0; g < 8; ++g) {
      const uint8_t* xg = xq + ((size_t(b) * 8 + g) * P + t0) * 4;
      __m512i x[V];
      for (int v = 0; v < V; ++v) x[v] = _mm512_load_si512(xg + 64 * v);
      for (int r = 0; r < kTileRows; ++r) {
        int32_t wu;
        std::memcpy(&wu, w.u[r] + 32 * b + 4 * g, 4);
        const __m512i wb = _mm512_set1_epi32(wu);
        for (int v = 0; v < V; ++v) isum[r][v] = _mm512_dpbusd_epi32(isum[r][v], wb, x[v]);
      }
    }
    const float* dx = in.d + size_t(b) * P + t0;
    const float* sx = in.s + size_t(b) * P + t0;
    for (int r = 0; r < kTileRows; ++r) {
      const __m512 dw = _mm512_set1_ps(w.dw[b * kTileRows + r]);
      for (int v = 0; v < V; ++v) {
        __m512 term = _mm512_mul_ps(_mm512_mul_ps(dw, _mm512_loadu_ps(dx + 16 * v)),
                                    _mm512_cvtepi32_ps(isum[r][v]));
        if (w.mins) {
          term = _mm512_add_ps(term, _mm512_mul_ps(_mm512_set1_ps(w.mins[b * kTileRows + r]),
                                                   _mm512_loadu_ps(sx + 16 * v)));
        }
        acc[r][v] = _mm512_add_ps(acc[r][v], term);
      }
    }
  }
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(out + (r * V + v) * 16, acc[r][v]);
  }
}

template <int V>
GGUFEMBED_VNNI_ATTR HWY_NOINLINE void Int8TileVnni(const Int8Tile& w, const MatMulInput& in, int t0,
                                                   float* HWY_RESTRICT out) {
  switch (w.type) {
    case GgmlType::kQ4_0:
      return Int8TileVnniImpl<V, 4>(w, in, t0, out);
    case GgmlType::kQ5_0:
      return Int8TileVnniImpl<V, 3>(w, in, t0, out);
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
      return Int8TileVnniImpl<V, -1>(w, in, t0, out);
    default:
      return Int8TileVnniImpl<V, 0>(w, in, t0, out);
  }
}
#endif  // HWY_TARGET == HWY_AVX3_DL

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
