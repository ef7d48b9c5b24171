// The AVX512-BF16 kernel beside the portable float one (float_tile-inl.h), tested against it:
// bf16 weights against bf16 activations with VDPBF16PS, tokens in the lanes, one weight pair
// broadcast per instruction — two products per lane where FloatTile does one. The instruction
// is numerics.h's order 2b step for a pair (odd value first, each step fused) wherever the
// values are tame, which the caller checks; Highway's AVX3_DL target does not include it, so
// the functions carry their own target attribute and run only where the CPU reports it.

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

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
