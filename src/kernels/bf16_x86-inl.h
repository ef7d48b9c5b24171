// The x86 bf16 kernels beside the portable float one (float_tile-inl.h), tested against it.
// AVX512-BF16: bf16 weights against bf16 activations with VDPBF16PS, tokens in the lanes, one
// weight pair broadcast per instruction — two products per lane where FloatTile does one. The
// instruction is numerics.h's order 2b step for a pair (odd value first, each step fused)
// wherever the values are tame, which the caller checks; Highway's AVX3_DL target does not
// include it, so the functions carry their own target attribute and run only where the CPU
// reports it. AVX2: weight rows in the lanes (short inputs waste no lanes), FMA, any value.

#include <cstring>

#include "kernels/matmul.h"

// Per-target include guard.
#if defined(GGUFEMBED_KERNELS_BF16_X86_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_BF16_X86_INL_H_
#undef GGUFEMBED_KERNELS_BF16_X86_INL_H_
#else
#define GGUFEMBED_KERNELS_BF16_X86_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/int8_x86-inl.h"  // GGUFEMBED_X86_INT8, Transpose8x8Epi32
#include "kernels/vec_math-inl.h"
#undef GGUFEMBED_BF16_X86
#if HWY_TARGET == HWY_AVX3_DL
#define GGUFEMBED_BF16_X86 1  // this target has the VDPBF16PS kernel (for CPUs that have it)
#include <cpuid.h>
#include <immintrin.h>
#else
#define GGUFEMBED_BF16_X86 0
#endif

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {

// Whether this target has the VDPBF16PS kernel and the CPU the instruction (AVX512-BF16: CPUID
// leaf 7, sub-leaf 1, EAX bit 5).
inline bool CpuHasBf16Dp() {
#if GGUFEMBED_BF16_X86
  static const bool has = [] {
    unsigned eax, ebx, ecx, edx;
    return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax >> 5 & 1) != 0;
  }();
  return has;
#else
  return false;
#endif
}

#if GGUFEMBED_BF16_X86

// AVX3_DL's features plus AVX512-BF16.
#define GGUFEMBED_BF16_ATTR \
  __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512vnni,avx512bf16")))

// Tokens per vector of the VDPBF16PS kernel.
inline constexpr int kBf16DpLanes = 16;

// acc[k] += the pair u + k of every row times the tokens' pairs, for k < K.
template <int V, int K>
GGUFEMBED_BF16_ATTR HWY_INLINE void Bf16DpUnits(const uint8_t* const* rows, const uint32_t* x,
                                                size_t P, int u, __m512 (&acc)[2][kTileRows][V]) {
  for (int k = 0; k < K; ++k) {
    const uint32_t* xu = x + size_t(u + k) * P;
    __m512i xv[V];
    for (int v = 0; v < V; ++v) xv[v] = _mm512_loadu_si512(xu + kBf16DpLanes * v);
    for (int r = 0; r < kTileRows; ++r) {
      int32_t pair;  // rows need not be 4-byte aligned (tests place them anywhere)
      std::memcpy(&pair, rows[r] + 4 * size_t(u + k), 4);
      const __m512i w = _mm512_set1_epi32(pair);
      for (int v = 0; v < V; ++v) {
        acc[k][r][v] = _mm512_dpbf16_ps(acc[k][r][v], (__m512bh)w, (__m512bh)xv[v]);
      }
    }
  }
}

// out[r][v·16 + l] = row r · token (t0 + v·16 + l): `rows` are bf16 weight rows of even length,
// the tokens bf16 pairs in in.q ([cols/2][P]); every value tame (numerics.h). Two partial sums
// at a time (16 chains with two vectors of tokens), then the reference's reduction.
template <int V>
GGUFEMBED_BF16_ATTR HWY_NOINLINE void Bf16TileDp(const uint8_t* const* rows, const MatMulInput& in,
                                                 int t0, float* HWY_RESTRICT out) {
  const int units = in.cols / 2;
  const size_t P = in.padded_tokens;
  const uint32_t* x = static_cast<const uint32_t*>(in.q) + t0;
  __m512 partial[8][kTileRows][V];
  for (int j0 = 0; j0 < 8; j0 += 2) {
    __m512 acc[2][kTileRows][V];
    for (int k = 0; k < 2; ++k) {
      for (int r = 0; r < kTileRows; ++r) {
        for (int v = 0; v < V; ++v) acc[k][r][v] = _mm512_setzero_ps();
      }
    }
    int u = j0;
    for (; u + 2 <= units; u += 8) Bf16DpUnits<V, 2>(rows, x, P, u, acc);
    if (u < units) Bf16DpUnits<V, 1>(rows, x, P, u, acc);
    for (int k = 0; k < 2; ++k) {
      for (int r = 0; r < kTileRows; ++r) {
        for (int v = 0; v < V; ++v) partial[j0 + k][r][v] = acc[k][r][v];
      }
    }
  }
  for (int r = 0; r < kTileRows; ++r) {
    for (int v = 0; v < V; ++v) {
      // CombinePartials8's tree written out: that template is always-inline with the Highway
      // region's target, which clang lets GGUFEMBED_BF16_ATTR replace rather than extend (it
      // then refuses to inline it here).
      const __m512(&p)[8][kTileRows][V] = partial;
      const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(p[0][r][v], p[4][r][v]),
                                                   _mm512_add_ps(p[2][r][v], p[6][r][v])),
                                     _mm512_add_ps(_mm512_add_ps(p[1][r][v], p[5][r][v]),
                                                   _mm512_add_ps(p[3][r][v], p[7][r][v])));
      _mm512_storeu_ps(out + (r * V + v) * kBf16DpLanes, s);
    }
  }
}

#undef GGUFEMBED_BF16_ATTR

#endif  // GGUFEMBED_BF16_X86

// ---------------------------------------------------- AVX2, rows in lanes
#if GGUFEMBED_X86_INT8
// bf16 weights on the kAvx2 kernel, rows in the lanes as Q8_0's (int8_x86-inl.h): a tile holds
// 8 rows' pairs of values transposed, the file's 32-bit words as they are, and each token's
// values are broadcast from the transposed activations. Per lane the arithmetic is FloatTile's
// with kPairs (order 2b, each step fused: exact for any value, so nothing is checked), but a
// 13-token input takes 13 multiply-adds per row and value rather than 16, and a run of up to
// kBf16RowLanesRun tokens keeps as many chains of dependent adds going (two partial sums side by
// side for short runs) where FloatTile's 4 rows × 2 vectors keep 8, too few to hide the adds'
// latency. Rows of a multiple of 16 values (whole vectors of pairs; every model's), inputs of up
// to kBf16RowLanesMaxTokens: 13 tokens of the 300m model 68 → 52 ms, 30 tokens 117 → 109 ms,
// about equal at 120, 10 % slower at 500 (its runs of 12 tokens issue about as many broadcasts as
// multiply-adds, where FloatTile's 4 rows × 16 tokens issue half as many).
inline constexpr int kBf16RowLanesRun = 12;
inline constexpr int kBf16RowLanesMaxTokens = 64;

// kRowLanes rows of bf16 weights: [cols/2][8 rows] pairs.
struct Bf16RowLanesTile {
  const uint32_t* pairs;
};

// On the AVX2 target only: the AVX-512 one (whose int8 kernel is kAvx2 where the CPU lacks VNNI)
// keeps FloatTile, 16 tokens per vector, which was as fast there or faster (`--target avx512`, the
// 300m model: 13 tokens 52 against 49 ms, 40 tokens 107 against 121–126 ms).
inline bool UseBf16RowLanes(const Matrix& w, const MatMulInput& in, Int8Kernel kernel) {
  return HWY_TARGET == HWY_AVX2 && kernel == Int8Kernel::kAvx2 && w.type == GgmlType::kBF16 &&
         w.cols % 16 == 0 && in.n_tokens <= kBf16RowLanesMaxTokens;
}

// Rows [n0, n0 + rows) of bf16 matrix `m` (rows past the end repeat the last one).
HWY_INLINE void PrepareBf16RowLanesTile(const Matrix& m, int64_t n0, int rows, uint8_t* scratch,
                                        Bf16RowLanesTile* tile) {
  const int units = static_cast<int>(m.cols / 2);
  uint32_t* pairs = reinterpret_cast<uint32_t*>(scratch);
  const uint8_t* row[kRowLanes];
  for (int r = 0; r < kRowLanes; ++r) row[r] = m.Row(n0 + std::min(r, rows - 1));
  for (int u0 = 0; u0 < units; u0 += 8) {
    __m256i v[kRowLanes], t[8];  // 8 pairs of each row; pair u0 + k of every row
    for (int r = 0; r < kRowLanes; ++r) {
      v[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[r] + 4 * size_t(u0)));
    }
    Transpose8x8Epi32(v, t);
    for (int k = 0; k < 8; ++k) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(pairs + size_t(u0 + k) * kRowLanes), t[k]);
    }
  }
  tile->pairs = pairs;
}

// acc[k][n] += pair u + k of the rows times token t0 + n's values, for K partials: the odd value
// (the pair's high half is its f32 bits, less the low half) before the even one (the low half
// shifted up).
template <int N, int K>
HWY_INLINE void Bf16RowLanesUnits(const uint32_t* pairs, const float* x, size_t P, int u,
                                  __m256 (&acc)[K][N]) {
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
  for (int k = 0; k < K; ++k) {
    const __m256i w =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pairs + size_t(u + k) * kRowLanes));
    const __m256 odd = _mm256_castsi256_ps(_mm256_and_si256(w, high));
    const float* xe = x + 2 * size_t(u + k) * P;
    const float* xo = xe + P;
    // Hides that xe = xo − P: GCC would otherwise address the even values as xo + (n − P),
    // with a register for each n (more than there are).
    asm("" : "+r"(xo));
    for (int n = 0; n < N; ++n) {
      acc[k][n] = _mm256_fmadd_ps(odd, _mm256_broadcast_ss(xo + n), acc[k][n]);
    }
    const __m256 even = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
    for (int n = 0; n < N; ++n) {
      acc[k][n] = _mm256_fmadd_ps(even, _mm256_broadcast_ss(xe + n), acc[k][n]);
    }
  }
}

// out[n][r] = row r · token (t0 + n) for N tokens: partial j takes pairs u ≡ j (mod 8) in order,
// then the reference's reduction (numerics.h, order 2b).
template <int N>
HWY_NOINLINE void Bf16RowLanesAvx2(const Bf16RowLanesTile& w, const MatMulInput& in, int t0,
                                   float* HWY_RESTRICT out) {
  constexpr int K = N <= kBf16RowLanesRun / 2 ? 2 : 1;
  const int units = in.cols / 2;  // a multiple of 8
  const size_t P = in.padded_tokens;
  const float* x = in.xt + t0;
  __m256 partial[8][N];
  for (int j0 = 0; j0 < 8; j0 += K) {
    __m256 acc[K][N];
    for (int k = 0; k < K; ++k) {
      for (int n = 0; n < N; ++n) acc[k][n] = _mm256_setzero_ps();
    }
    for (int u = j0; u < units; u += 8) Bf16RowLanesUnits<N, K>(w.pairs, x, P, u, acc);
    for (int k = 0; k < K; ++k) {
      for (int n = 0; n < N; ++n) partial[j0 + k][n] = acc[k][n];
    }
  }
  for (int n = 0; n < N; ++n) {
    __m256 p[8];
    for (int j = 0; j < 8; ++j) p[j] = partial[j][n];
    _mm256_storeu_ps(out + kRowLanes * n, CombinePartials8(p));
  }
}

// Bf16RowLanesAvx2 for n (1..kBf16RowLanesRun) tokens.
HWY_INLINE void RunBf16RowLanes(int n, const Bf16RowLanesTile& w, const MatMulInput& in, int t0,
                                float* out) {
  WithRunLength<kBf16RowLanesRun>(n, [&](auto N) HWY_ATTR { Bf16RowLanesAvx2<N>(w, in, t0, out); });
}

#endif  // GGUFEMBED_X86_INT8

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
