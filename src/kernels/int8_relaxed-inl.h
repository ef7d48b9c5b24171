// The WebAssembly relaxed-SIMD int8 kernel beside the portable one (int8_tile-inl.h), tested
// against it: tokens in the lanes of the kS8QuadGroups layout, one relaxed dot product per group
// of 4 values with a 7-bit operand — for Q8_0 the activations' |x|
// (i32x4.relaxed_dot_i8x16_i7x16_add_s), for the 4- and 5-bit types their stored values
// (i16x8.relaxed_dot_i8x16_i7x16_s, or the i32x4 one where RelaxedInt32Dot) — so that its result
// is fully defined and every engine gives the same bits.
// Same exact block sums, same f32 steps as every int8 kernel (numerics.h).

#include <algorithm>
#include <cstring>

#include "kernels/matmul.h"

// Per-target include guard.
#if defined(GGUFEMBED_KERNELS_INT8_RELAXED_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_INT8_RELAXED_INL_H_
#undef GGUFEMBED_KERNELS_INT8_RELAXED_INL_H_
#else
#define GGUFEMBED_KERNELS_INT8_RELAXED_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/int8_tile-inl.h"
#include "kernels/matmul-inl.h"  // GGUFEMBED_RELAXED_INT8: whether this target has this kernel
#if GGUFEMBED_RELAXED_INT8
#include <wasm_simd128.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if GGUFEMBED_RELAXED_INT8

// The f32 steps of block b for the relaxed kernels' tile (4 tokens per vector): AccumulateBlock
// on every row's and vector's exact sums, into the f32 sums kept in `out`.
template <int V>
HWY_INLINE void AccumulateBlockRelaxed(const Int8Tile& w, const MatMulInput& in, int b, int t0,
                                       const v128_t (&isum)[kTileRows][V],
                                       float* HWY_RESTRICT out) {
  const hn::Full128<float> df;
  const float* dx = in.d + size_t(b) * in.padded_tokens + t0;
  const float* sx = in.s + size_t(b) * in.padded_tokens + t0;
  for (int r = 0; r < kTileRows; ++r) {
    const float* mins_b = w.mins ? &w.mins[b * kTileRows + r] : nullptr;
    for (int v = 0; v < V; ++v) {
      float* acc = out + (r * V + v) * 4;
      hn::StoreU(AccumulateBlock(df, hn::LoadU(df, acc), hn::Vec128<int32_t>{isum[r][v]},
                                 w.dw[b * kTileRows + r], dx + 4 * v, mins_b, sx + 4 * v),
                 df, acc);
    }
  }
}

// out[r][v·4 + l] = row r · token (t0 + v·4 + l), for Q8_0 weights read where the file has them
// (no tile preparation but the scales). Per group of 4 values the instruction takes the tokens'
// |x| (7-bit: activations are in [-127, 127]) and the row's 4 values, broadcast, with the tokens'
// signs moved onto them: w where x ≥ 0 and ~w = -w - 1 where x < 0 (one XOR with the tokens' sign
// masks; ~w is int8 for every w, -128 included). Each product of a negative x then comes out |x|
// too low, so the block's sums start at Σ|x| over its negative values (MatMulInput::neg_sum, like
// |x| and the masks prepared once per input). The other way round — the weights' signs moved
// onto x — needs |w|, sign masks and sums prepared for every tile, which on short inputs costs
// more than the products; fully unrolled, the group loop addresses everything at constant offsets
// (as a loop it took 1.1× as long in Chromium, on 13 tokens and on 500).
template <int V>
HWY_NOINLINE void Int8TileRelaxed(const Int8Tile& w, const MatMulInput& in, int t0,
                                  float* HWY_RESTRICT out) {
  const int nb = in.cols / 32, P = in.padded_tokens;
  const hn::Full128<float> df;
  for (int i = 0; i < kTileRows * V; ++i) hn::StoreU(hn::Zero(df), df, out + 4 * i);
  struct Sums {
    v128_t s[kTileRows][V];
  };
  const auto integer = [&](int b, Sums* sums) {
    v128_t isum[kTileRows][V];
    for (int v = 0; v < V; ++v) {
      const v128_t start = wasm_v128_load(in.neg_sum + size_t(b) * P + t0 + 4 * v);
      for (int r = 0; r < kTileRows; ++r) isum[r][v] = start;
    }
    const size_t at = S8QuadGroupsIndex(b, t0, 0, P);  // t0 is a multiple of 4
    const uint8_t* ab = in.abs_q + at;
    const uint8_t* sb = in.sgn_q + at;
    const int8_t* wb[kTileRows];
    for (int r = 0; r < kTileRows; ++r) wb[r] = w.q[r] + b * w.stride;
#pragma clang loop unroll(full)
    for (int g = 0; g < 8; ++g) {
      v128_t a[V];
      for (int v = 0; v < V; ++v) a[v] = wasm_v128_load(ab + 128 * v + 16 * g);
      for (int r = 0; r < kTileRows; ++r) {
        const v128_t wv = wasm_v128_load32_splat(wb[r] + 4 * g);
        for (int v = 0; v < V; ++v) {
          const v128_t sign = wasm_v128_load(sb + 128 * v + 16 * g);
          isum[r][v] =
              ggufembed_relaxed_dot_i8x16_i7x16_add(wasm_v128_xor(wv, sign), a[v], isum[r][v]);
        }
      }
    }
    std::memcpy(sums->s, isum, sizeof(isum));
  };
  ForEachBlockStaged<Sums>(nb, integer, [&](int b, const Sums& sums) {
    AccumulateBlockRelaxed<V>(w, in, b, t0, sums.s, out);
  });
}

// The sums of groups [g0, g0 + kRun) of a block for every row and vector of tokens: per group of
// 4 values one relaxed dot product of the tokens' values (`xb`, the block's kS8QuadGroups run) by
// the row's 7-bit values (`u_b[r]`, row r's 32 values of the block) — the int16 pair sums of
// i16x8.relaxed_dot_i8x16_i7x16_s added in int16 (the caller's kRun keeps every sum below 32,768),
// or with kInt32 the int32 products of i32x4.relaxed_dot_i8x16_i7x16_add_s added into `sums` as
// the caller started them. The int32 form's loop is unrolled, so that every load is at a constant
// offset from the block's pointers (Chromium, 300m: q4_0 1.07 short, 1.045 long; q4_k_m 1.05,
// 1.00); the int16 form's is left to the compiler: unrolled, Node 22 (which runs it) took
// 1.3–1.4× as long.
template <int V, int kRun, bool kInt32 = false>
HWY_INLINE void RelaxedGroupSums(const uint8_t* HWY_RESTRICT xb,
                                 const uint8_t* const (&u_b)[kTileRows], int g0,
                                 v128_t (&sums)[kTileRows][V]) {
  static_assert(8 % kRun == 0, "runs tile a block's 8 groups");
  const auto group = [&](int g) {
    v128_t x[V];
    for (int v = 0; v < V; ++v) x[v] = wasm_v128_load(xb + 128 * v + 16 * g);
    for (int r = 0; r < kTileRows; ++r) {
      const v128_t uw = wasm_v128_load32_splat(u_b[r] + 4 * g);
      for (int v = 0; v < V; ++v) {
        if constexpr (kInt32) {
          sums[r][v] = ggufembed_relaxed_dot_i8x16_i7x16_add(x[v], uw, sums[r][v]);
        } else {
          const v128_t p = ggufembed_relaxed_dot_i8x16_i7x16(x[v], uw);
          sums[r][v] = g == g0 ? p : wasm_i16x8_add(sums[r][v], p);
        }
      }
    }
  };
  if constexpr (kInt32) {
#pragma clang loop unroll(full)
    for (int g = g0; g < g0 + kRun; ++g) group(g);
  } else {
    for (int g = g0; g < g0 + kRun; ++g) group(g);
  }
}

// The 4- and 5-bit types (UnsignedWeights::kStored): their stored values, below 32, are
// the 7-bit operand as they are, so no sign moves onto the tokens; each block's sum starts at
// −offset·Σx, the input's bias (−128·Σx) shifted right by kShift (offset 8: 4, offset 16: 3), or
// at 0 (kShift < 0: Q4_1, Q5_1), as in the x86 kernels of these types. Per group of 4 values one
// i16x8.relaxed_dot_i8x16_i7x16_s (one multiply per 16 products on x86, where the i32x4 form
// takes two without AVX-VNNI), its pair sums added in int16 over kRun groups — all 8 of a block
// for the 4-bit types (at most 8·2·15·127 = 30,480), 4 for the 5-bit ones (4·2·31·127 = 31,496)
// — then widened into the block's sum; or, with kInt32 (RelaxedInt32Dot: the engine makes the
// instruction one VPDPBUSD), one i32x4.relaxed_dot_i8x16_i7x16_add_s per group straight into it
// (all 8 groups: kRun is 8).
template <int V, int kShift, int kRun, bool kInt32>
HWY_INLINE void Int8TileRelaxedStored(const Int8Tile& w, const MatMulInput& in, int t0,
                                      float* HWY_RESTRICT out) {
  static_assert(!kInt32 || kRun == 8, "the int32 form sums a whole block");
  const int nb = in.cols / 32, P = in.padded_tokens;
  const uint8_t* xq = static_cast<const uint8_t*>(in.q);
  const hn::Full128<float> df;
  for (int i = 0; i < kTileRows * V; ++i) hn::StoreU(hn::Zero(df), df, out + 4 * i);
  // One loop (ForEachBlockStaged was 2 % slower on Q4_0's long text: fewer live sums here).
  for (int b = 0; b < nb; ++b) {
    v128_t isum[kTileRows][V];
    for (int v = 0; v < V; ++v) {
      v128_t start = wasm_i32x4_splat(0);
      if (kShift >= 0) {
        start = wasm_i32x4_shr(wasm_v128_load(in.bias + size_t(b) * P + t0 + 4 * v),
                               kShift < 0 ? 0 : kShift);
      }
      for (int r = 0; r < kTileRows; ++r) isum[r][v] = start;
    }
    const uint8_t* xb = xq + S8QuadGroupsIndex(b, t0, 0, P);  // t0 is a multiple of 4
    const uint8_t* u_b[kTileRows];
    for (int r = 0; r < kTileRows; ++r) u_b[r] = w.u[r] + 32 * b;
    if constexpr (kInt32) {
      RelaxedGroupSums<V, 8, true>(xb, u_b, 0, isum);
    } else {
      for (int g0 = 0; g0 < 8; g0 += kRun) {
        v128_t pairs[kTileRows][V];
        RelaxedGroupSums<V, kRun>(xb, u_b, g0, pairs);
        for (int r = 0; r < kTileRows; ++r) {
          for (int v = 0; v < V; ++v) {
            isum[r][v] = wasm_i32x4_add(isum[r][v], wasm_i32x4_extadd_pairwise_i16x8(pairs[r][v]));
          }
        }
      }
    }
    AccumulateBlockRelaxed<V>(w, in, b, t0, isum, out);
  }
}

// The int32 or int16 form of Int8TileRelaxedStored, as RelaxedInt32Dot says.
template <int V, int kShift, int kRun>
HWY_INLINE void Int8TileRelaxedStoredForm(const Int8Tile& w, const MatMulInput& in, int t0,
                                          float* HWY_RESTRICT out) {
  if (RelaxedInt32Dot()) return Int8TileRelaxedStored<V, kShift, 8, true>(w, in, t0, out);
  return Int8TileRelaxedStored<V, kShift, kRun, false>(w, in, t0, out);
}

// The relaxed-SIMD kernel for `w`'s type.
template <int V>
HWY_NOINLINE void Int8TileRelaxedForType(const Int8Tile& w, const MatMulInput& in, int t0,
                                         float* HWY_RESTRICT out) {
  switch (w.type) {
    case GgmlType::kQ4_0:
      return Int8TileRelaxedStoredForm<V, 4, 8>(w, in, t0, out);
    case GgmlType::kQ5_0:
      return Int8TileRelaxedStoredForm<V, 3, 4>(w, in, t0, out);
    case GgmlType::kQ4_1:
      return Int8TileRelaxedStoredForm<V, -1, 8>(w, in, t0, out);
    case GgmlType::kQ5_1:
      return Int8TileRelaxedStoredForm<V, -1, 4>(w, in, t0, out);
    default:
      return Int8TileRelaxed<V>(w, in, t0, out);
  }
}

#endif  // GGUFEMBED_RELAXED_INT8

// The unsigned form of the weights the relaxed-SIMD kernels take for `type`.
inline UnsignedWeights RelaxedUnsignedWeights(GgmlType type) {
  return type == GgmlType::kQ8_0 ? UnsignedWeights::kNone : UnsignedWeights::kStored;
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
