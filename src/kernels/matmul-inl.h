// Matrix products for the forward pass: activation preparation, the int8 GEMM for Q8_0-style
// weights (portable Highway, with hand-tuned AVX2 and AVX-512 VNNI specializations beside it)
// and the float GEMM for f16/bf16/f32/K-quant weights. Results are bit-identical to
// MatMulReference on every target: block sums are exact integers, and every f32 operation is
// the reference's, in the reference's order.
//
// Most kernels put tokens in the vector lanes: activations are stored transposed (matmul.h), a
// few weight values are broadcast, and each lane accumulates one token's sum; a tile is R weight
// rows × V vectors of tokens. The AVX2 Q8_0 kernel puts weight rows in the lanes instead (tiles
// transposed when prepared) and broadcasts each token's values. Either way weight rows are
// prepared once per tile of rows and reused for every run of tokens.

#include <algorithm>
#include <cstring>

#include "kernels/activation_quant.h"
#include "util/fp16.h"
#include "kernels/gelu.h"
#include "kernels/matmul.h"
#include "models/gemma_embedding/weights.h"
#include "kernels/reference.h"

// Per-target include guard.
#if defined(GGUFEMBED_SRC_MATMUL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_SRC_MATMUL_INL_H_
#undef GGUFEMBED_SRC_MATMUL_INL_H_
#else
#define GGUFEMBED_SRC_MATMUL_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/vec_math-inl.h"

#undef GGUFEMBED_X86_INT8
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#define GGUFEMBED_X86_INT8 1  // the hand-tuned x86 kernels exist for this target
#include <immintrin.h>
#else
#define GGUFEMBED_X86_INT8 0
#endif

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Weight rows per tile.
inline constexpr int kTileRows = 4;

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

// ------------------------------------------------------------------------ activation preparation

// Quantizes one token's block of 32 values to Q8_0 exactly as QuantizeActivationsQ8_0:
// d = max|x|/127 as f16, q = round-half-even(x · 127/max|x|). Returns d; q gets the values and
// *sum their sum.
HWY_INLINE float QuantizeBlock(const float* HWY_RESTRICT x, int8_t* HWY_RESTRICT q, int* sum) {
  const hn::CappedTag<float, 8> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::Rebind<int16_t, decltype(df)> d16;
  const hn::Rebind<int8_t, decltype(df)> d8;
  const size_t n = hn::Lanes(df);
  auto vmax = hn::Zero(df);
  for (size_t i = 0; i < 32; i += n) vmax = hn::Max(vmax, hn::Abs(hn::LoadU(df, x + i)));
  const float amax = hn::GetLane(hn::MaxOfLanes(df, vmax));
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  auto vsum = hn::Zero(di);
  for (size_t i = 0; i < 32; i += n) {
    const auto qi = hn::ConvertTo(di, hn::Round(hn::Mul(hn::LoadU(df, x + i), hn::Set(df, id))));
    hn::StoreU(hn::DemoteTo(d8, hn::DemoteTo(d16, qi)), d8, q + i);
    vsum = hn::Add(vsum, qi);
  }
  *sum = static_cast<int>(hn::GetLane(hn::SumOfLanes(di, vsum)));
  return F16ToF32(F32ToF16(amax / 127.0f));
}

// Quantizes x [T × cols] into `in` (layout, n_tokens and cols set; buffers sized by
// MatMulInputBytes).
HWY_INLINE void QuantizeToInput(const float* HWY_RESTRICT x, MatMulInput* in) {
  const int nb = in->cols / 32, T = in->n_tokens, P = in->padded_tokens;
  const size_t plane = size_t(nb) * P;
  std::memset(in->d, 0, plane * sizeof(float));
  std::memset(in->s, 0, plane * sizeof(float));
  std::memset(in->bias, 0, plane * sizeof(int32_t));
  if (T < P) {  // padding tokens are zeros
    std::memset(in->q, 0, size_t(in->cols) * P * (in->layout == Int8Layout::kI16Pairs ? 2 : 1));
  }
  HWY_ALIGN int8_t q[32];
  for (int t = 0; t < T; ++t) {
    for (int b = 0; b < nb; ++b) {
      int sum;
      const float d = QuantizeBlock(x + size_t(t) * in->cols + 32 * b, q, &sum);
      const size_t at = size_t(b) * P + t;
      in->d[at] = d;
      in->s[at] = F16ToF32(F32ToF16(d * static_cast<float>(sum)));
      in->bias[at] = -128 * sum;
      if (in->layout == Int8Layout::kS8Quads) {
        uint8_t* base = static_cast<uint8_t*>(in->q) + (size_t(b) * 8 * P + t) * 4;
        for (int g = 0; g < 8; ++g) std::memcpy(base + size_t(g) * P * 4, q + 4 * g, 4);
      } else {
        int16_t* base = static_cast<int16_t*>(in->q) + I16PairsIndex(b, t, 0, P);
        const size_t L = Int8Lanes();
        for (int p = 0; p < 16; ++p) {
          base[p * L * 2] = q[2 * p];
          base[p * L * 2 + 1] = q[2 * p + 1];
        }
      }
    }
  }
}

// Prepares x [n_tokens × cols] for products with weights of `weight_type`: quantized (int8
// types) or rounded and transposed (the rest). `in` has its buffers, n_tokens, cols and, for
// int8 types, layout set.
HWY_INLINE void PrepareMatMulInput(GgmlType weight_type, const float* x, MatMulInput* in) {
  in->type = ActivationType(weight_type);
  in->padded_tokens = PaddedTokens(in->n_tokens);
  if (HasInt8Blocks(weight_type)) {
    QuantizeToInput(x, in);
    return;
  }
  const int T = in->n_tokens, P = in->padded_tokens, cols = in->cols;
  std::memset(in->xt, 0, sizeof(float) * size_t(cols) * P);
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < cols; ++i) in->xt[size_t(i) * P + t] = x[size_t(t) * cols + i];
  }
  if (in->type == GgmlType::kF16) {
    const hn::ScalableTag<float> df;
    const size_t n = size_t(cols) * P, lanes = hn::Lanes(df);
    for (size_t i = 0; i < n; i += lanes) {  // P is a multiple of the lanes
      hn::Store(RoundToF16(df, hn::Load(df, in->xt + i)), df, in->xt + i);
    }
  } else if (in->type != GgmlType::kF32) {
    // bf16 and Q8_K round whole rows of a token: do it before transposing.
    HWY_ALIGN float row[4096];
    for (int t = 0; t < T; ++t) {
      for (int c0 = 0; c0 < cols; c0 += 4096) {
        const int n = std::min(4096, cols - c0);
        for (int i = 0; i < n; ++i) row[i] = x[size_t(t) * cols + c0 + i];
        RoundThroughActivationType(in->type, row, n);
        for (int i = 0; i < n; ++i) in->xt[size_t(c0 + i) * P + t] = row[i];
      }
    }
  }
}

// ------------------------------------------------------------------------ int8 weight tiles

// Up to kTileRows weight rows in the form the int8 kernels read; rows past `rows` repeat the
// last one (their results are discarded).
struct Int8Tile {
  int rows;
  const int8_t* q[kTileRows];   // row r, block b at q[r] + b·stride: 32 int8 values
  size_t stride;
  const uint8_t* u[kTileRows];  // x86: row r as unsigned bytes [nb × 32] (|w| or w + 128)
  const int16_t* w16[kTileRows];  // portable: row r widened [nb × 32]
  const float* dw;              // [nb][kTileRows] block scales
  const float* mins;            // [nb][kTileRows] block minimums (Q4_1/Q5_1), else nullptr
};

// Which unsigned form of the weights an x86 kernel wants.
enum class UnsignedWeights { kNone, kAbs, kPlus128 };

// Scratch bytes one Int8Tile of `cols`-value rows takes.
inline size_t Int8TileScratchBytes(int cols) {
  const size_t nb = cols / 32;
  return kTileRows * (size_t(cols) * 4 + nb * 2 * sizeof(float)) + 256;
}

// Fills `tile` with rows [n0, n0 + rows) of `w`, using `scratch` (Int8TileScratchBytes).
HWY_INLINE void PrepareInt8Tile(const Matrix& w, int64_t n0, int rows, UnsignedWeights uform,
                                bool widen, uint8_t* scratch, Int8Tile* tile) {
  const int cols = static_cast<int>(w.cols), nb = cols / 32;
  float* dw = reinterpret_cast<float*>(scratch);
  float* mins = dw + size_t(nb) * kTileRows;
  uint8_t* next = reinterpret_cast<uint8_t*>(mins + size_t(nb) * kTileRows);
  next = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(next) + 63) & ~uintptr_t{63});
  tile->rows = rows;
  tile->dw = dw;
  const bool has_min = w.type == GgmlType::kQ4_1 || w.type == GgmlType::kQ5_1;
  tile->mins = has_min ? mins : nullptr;
  const uint64_t block_bytes = GetGgmlType(w.type).type_size;
  for (int r = 0; r < kTileRows; ++r) {
    const uint8_t* row = w.Row(n0 + std::min(r, rows - 1));
    if (w.type == GgmlType::kQ8_0) {  // read in place
      tile->q[r] = reinterpret_cast<const int8_t*>(row + 2);
      tile->stride = 34;
      for (int b = 0; b < nb; ++b) {
        uint16_t d16;
        std::memcpy(&d16, row + 34 * b, 2);
        dw[b * kTileRows + r] = F16ToF32(d16);
      }
    } else {  // unpack into scratch (exact: the values fit in int8)
      int8_t* q = reinterpret_cast<int8_t*>(next);
      next += cols;
      for (int b = 0; b < nb; ++b) {
        UnpackBlock32(w.type, row + b * block_bytes, q + 32 * b, &dw[b * kTileRows + r],
                      &mins[b * kTileRows + r]);
      }
      tile->q[r] = q;
      tile->stride = 32;
    }
    if (uform != UnsignedWeights::kNone) {
      const hn::CappedTag<int8_t, 32> d8;
      const hn::RebindToUnsigned<decltype(d8)> du8;
      uint8_t* u = next;
      next += cols;
      for (int b = 0; b < nb; ++b) {
        const int8_t* qb = tile->q[r] + b * tile->stride;
        for (size_t j = 0; j < 32; j += hn::Lanes(d8)) {
          const auto q = hn::LoadU(d8, qb + j);
          // |-128| wraps to -128, which is 128 as unsigned: still exact.
          const auto uq = uform == UnsignedWeights::kAbs ? hn::BitCast(du8, hn::Abs(q))
                                                         : hn::Xor(hn::BitCast(du8, q), hn::Set(du8, 0x80));
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

// ------------------------------------------------------------------------ portable int8 kernel

// Lanes (tokens) per vector of the int8 kernels on this target.
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
  // The f32 sums live in `out`, so the vector registers (16 in WebAssembly engines on x86) hold
  // the integer sums.
  for (size_t i = 0; i < kTileRows * V; ++i) hn::StoreU(hn::Zero(df), df, out + i * L);
  for (int b = 0; b < nb; ++b) {
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
    const float* dx = in.d + size_t(b) * P + t0;
    const float* sx = in.s + size_t(b) * P + t0;
    for (int r = 0; r < kTileRows; ++r) {
      const float* mins_b = w.mins ? &w.mins[b * kTileRows + r] : nullptr;
      for (int v = 0; v < V; ++v) {
        float* acc = out + (r * V + v) * L;
        hn::StoreU(AccumulateBlock(df, hn::LoadU(df, acc), hn::Add(isum[r][v], odd[r][v]),
                                   w.dw[b * kTileRows + r], dx + v * L, mins_b, sx + v * L),
                   df, acc);
      }
    }
  }
#endif
}

// ------------------------------------------------------------------------ x86 int8 kernels
#if GGUFEMBED_X86_INT8

HWY_INLINE __m256i Broadcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
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
      for (int v = 0; v < V; ++v) x[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(xg + 32 * v));
      for (int r = 0; r < kTileRows; ++r) {
        const __m256i wq = Broadcast4(w.q[r] + b * w.stride + 4 * g);
        const __m256i aw = Broadcast4(w.u[r] + 32 * b + 4 * g);
        for (int v = 0; v < V; ++v) {
          const __m256i pairs = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(x[v], wq));
          isum[r][v] = _mm256_add_epi32(isum[r][v], _mm256_madd_epi16(pairs, ones));
        }
      }
    }
    const float* dx = in.d + size_t(b) * P + t0;
    const float* sx = in.s + size_t(b) * P + t0;
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
  return 2 * size_t(kRowLanes) * cols + size_t(cols / 32) * kRowLanes * sizeof(float) + 64;
}

// kRowLanes rows of Q8_0 weights, transposed by groups of 4 values.
struct RowLanesTile {
  int rows;
  const int8_t* w;   // [nb][8 groups][8 rows][4]: the values
  const uint8_t* a;  // the same layout: |w| (|−128| is 128 as unsigned: exact)
  const float* dw;   // [nb][8 rows] block scales
};

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
    __m256i v[kRowLanes];  // row r's block: groups 0..3 in the low half, 4..7 in the high half
    for (int r = 0; r < kRowLanes; ++r) {
      uint16_t d16;
      std::memcpy(&d16, row[r] + 34 * b, 2);
      dw[b * kRowLanes + r] = F16ToF32(d16);
      v[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[r] + 34 * b + 2));
    }
    // 8×8 transpose of 4-byte groups: rows pairwise, then quads, then the 128-bit halves.
    __m256i t[8], u[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
    }
    for (int i = 0; i < 2; ++i) {  // rows 4i..4i+3: u[4i + k] holds groups k (low) and k + 4
      u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
      u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
      u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
      u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int k = 0; k < 4; ++k) {
      const __m256i g_lo = _mm256_permute2x128_si256(u[k], u[4 + k], 0x20);  // group k
      const __m256i g_hi = _mm256_permute2x128_si256(u[k], u[4 + k], 0x31);  // group k + 4
      const size_t at_lo = (size_t(b) * 8 + k) * 32, at_hi = (size_t(b) * 8 + k + 4) * 32;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w + at_lo), g_lo);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(w + at_hi), g_hi);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + at_lo), _mm256_abs_epi8(g_lo));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + at_hi), _mm256_abs_epi8(g_hi));
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
        const __m256i pairs = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(Broadcast4(xg + 4 * n), wq));
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

// RowLanesAvx2 for n (1..8) tokens.
HWY_INLINE void RunRowLanes(int n, const RowLanesTile& w, const MatMulInput& in, int t0,
                            float* out) {
  switch (n) {
    case 1: return RowLanesAvx2<1>(w, in, t0, out);
    case 2: return RowLanesAvx2<2>(w, in, t0, out);
    case 3: return RowLanesAvx2<3>(w, in, t0, out);
    case 4: return RowLanesAvx2<4>(w, in, t0, out);
    case 5: return RowLanesAvx2<5>(w, in, t0, out);
    case 6: return RowLanesAvx2<6>(w, in, t0, out);
    case 7: return RowLanesAvx2<7>(w, in, t0, out);
    default: return RowLanesAvx2<8>(w, in, t0, out);
  }
}

#endif  // GGUFEMBED_X86_INT8

#undef GGUFEMBED_VNNI_ATTR
#if HWY_TARGET == HWY_AVX3_DL
// Highway's AVX3_DL target guarantees AVX512-VNNI but does not enable it for the compiler.
#define GGUFEMBED_VNNI_ATTR                                                             \
  __attribute__((target("avx2,fma,f16c,bmi2,avx512f,avx512vl,avx512dq,avx512bw," \
                        "avx512vnni")))

// The AVX-512 VNNI kernel on the kS8Quads layout, 16 tokens per vector: one VPDPBUSD per group
// of 4 values multiplies w + 128 (unsigned, the tile's u rows, UnsignedWeights::kPlus128) by x
// and adds into each token's lane; starting the sum at −128·Σx (the input's bias) removes the
// +128.
template <int V>
GGUFEMBED_VNNI_ATTR HWY_NOINLINE void Int8TileVnni(const Int8Tile& w, const MatMulInput& in,
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
      const __m512i bias = _mm512_loadu_si512(in.bias + size_t(b) * P + t0 + 16 * v);
      for (int r = 0; r < kTileRows; ++r) isum[r][v] = bias;
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
#endif  // HWY_TARGET == HWY_AVX3_DL

// The int8 kernels a target has: kPortable everywhere, the hand-tuned ones on x86.
enum class Int8Kernel { kPortable, kAvx2, kVnni };

// The fastest int8 kernel on this target.
inline Int8Kernel NativeInt8Kernel() {
#if HWY_TARGET == HWY_AVX3_DL
  return Int8Kernel::kVnni;
#elif GGUFEMBED_X86_INT8
  return Int8Kernel::kAvx2;
#else
  return Int8Kernel::kPortable;
#endif
}

inline Int8Layout LayoutOf(Int8Kernel kernel) {
  return kernel == Int8Kernel::kPortable ? Int8Layout::kI16Pairs : Int8Layout::kS8Quads;
}

// Lanes (tokens) per vector of `kernel`.
inline int KernelLanes(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::kAvx2: return 8;
    case Int8Kernel::kVnni: return 16;
    default: return static_cast<int>(Int8Lanes());
  }
}

// Runs `kernel` on one tile of V vectors of tokens.
template <int V>
HWY_INLINE void RunInt8Tile(Int8Kernel kernel, const Int8Tile& w, const MatMulInput& in, int t0,
                            float* out) {
  switch (kernel) {
#if GGUFEMBED_X86_INT8
    case Int8Kernel::kAvx2: return Int8TileAvx2<V>(w, in, t0, out);
#endif
#if HWY_TARGET == HWY_AVX3_DL
    case Int8Kernel::kVnni: return Int8TileVnni<V>(w, in, t0, out);
#endif
    default: return Int8TilePortable<V>(w, in, t0, out);
  }
}

// ------------------------------------------------------------------------ float kernel

// out[r][v·L + l] = row r · token (t0 + v·L + l) for f32 rows (dequantized weights) against
// `xt`, the reference's Dot for each lane: element i goes into partial sum i mod 8 (each chain
// summed in order), then ((s0+s4)+(s2+s6))+((s1+s5)+(s3+s7)). With kFma, a·b + c is one fused
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
          acc[r][v] = kFma ? hn::MulAdd(wv, x[v], acc[r][v]) : hn::Add(acc[r][v], hn::Mul(wv, x[v]));
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
inline size_t FloatTileScratchBytes(int cols) { return kTileRows * size_t(cols) * sizeof(float) + 64; }

// ------------------------------------------------------------------------ drivers

// Bytes of one prepared weight tile of any kind, for `cols`-value rows.
inline size_t MatMulTileBytes(int cols) {
  size_t tile = std::max(Int8TileScratchBytes(cols), FloatTileScratchBytes(cols));
#if GGUFEMBED_X86_INT8
  tile = std::max(tile, RowLanesTileBytes(cols));
#endif
  return (tile + 63) / 64 * 64;
}

// Bytes of scratch MatMul and MatMulGeGLU need for `cols`-value rows (for the arena): two tiles
// and their two outputs.
inline uint64_t MatMulScratchBytes(int cols) {
  return 2 * MatMulTileBytes(cols) + 2 * sizeof(float) * kTileRows * 2 * 16 + 256;
}

// Prepared weight rows of one tile, int8 or float.
struct WeightTile {
  Int8Tile int8;
  const float* rows[kTileRows];
};

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
    hn::StoreU(f16 ? F16BitsToF32(df, bits) : hn::BitCast(df, hn::ShiftLeft<16>(bits)), df, out + i);
  }
  for (; i < cols; ++i) {
    uint16_t bits;  // rows need not be 2-byte aligned (tests place them anywhere)
    std::memcpy(&bits, row + 2 * size_t(i), 2);
    out[i] = f16 ? F16ToF32(bits) : Bf16ToF32(bits);
  }
}

// A matrix's weights, tile by tile, for one kernel.
class TileSource {
 public:
  TileSource(const Matrix& w, Int8Kernel kernel, uint8_t* scratch)
      : w_(w), kernel_(kernel), scratch_(scratch), int8_(HasInt8Blocks(w.type)) {}

  bool int8() const { return int8_; }

  // Prepares rows [n0, n0 + rows).
  void Prepare(int64_t n0, int rows, WeightTile* tile) const {
    if (int8_) {
      const UnsignedWeights uform = kernel_ == Int8Kernel::kAvx2   ? UnsignedWeights::kAbs
                                    : kernel_ == Int8Kernel::kVnni ? UnsignedWeights::kPlus128
                                                                   : UnsignedWeights::kNone;
      PrepareInt8Tile(w_, n0, rows, uform, kernel_ == Int8Kernel::kPortable, scratch_, &tile->int8);
      return;
    }
    const int cols = static_cast<int>(w_.cols);
    float* f = reinterpret_cast<float*>(scratch_);
    for (int r = 0; r < kTileRows; ++r) {
      if (r >= rows) {
      } else if (w_.type == GgmlType::kF16 || w_.type == GgmlType::kBF16) {
        WidenHalfRow(w_.type == GgmlType::kF16, w_.Row(n0 + r), f + size_t(r) * cols, cols);
      } else {
        (void)DequantizeRow(w_.type, w_.Row(n0 + r), f + size_t(r) * cols, cols);
      }
      tile->rows[r] = f + size_t(std::min(r, rows - 1)) * cols;
    }
  }

  // out [kTileRows][V·L] for V vectors of tokens from t0.
  template <int V>
  void Run(const WeightTile& tile, const MatMulInput& in, int t0, float* out) const {
    if (int8_) {
      RunInt8Tile<V>(kernel_, tile.int8, in, t0, out);
    } else if (ExactProducts(w_.type)) {
      FloatTile<V, true>(tile.rows, in, t0, out);
    } else {
      FloatTile<V, false>(tile.rows, in, t0, out);
    }
  }

  // Tokens per vector.
  int lanes() const {
    return int8_ ? KernelLanes(kernel_) : static_cast<int>(hn::Lanes(hn::ScalableTag<float>()));
  }

 private:
  const Matrix& w_;
  Int8Kernel kernel_;
  uint8_t* scratch_;
  bool int8_;
};

// For each tile of rows of `w` and of tokens of `in`, calls epilogue(n0, rows, t0, tokens, out,
// stride), out holding the tile's results as [row][token] with `stride` floats per row.
template <class Epilogue>
HWY_INLINE void ForEachTile(const TileSource& source, const Matrix& w, const MatMulInput& in,
                            float* tile_out, Epilogue&& epilogue) {
  const int L = source.lanes(), T = in.n_tokens;
  WeightTile tile;
  for (int64_t n0 = 0; n0 < w.rows; n0 += kTileRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kTileRows, w.rows - n0));
    source.Prepare(n0, rows, &tile);
    for (int t0 = 0; t0 < T; t0 += 2 * L) {
      if (T - t0 > L) {
        source.Run<2>(tile, in, t0, tile_out);
        epilogue(n0, rows, t0, std::min(2 * L, T - t0), tile_out, 2 * L);
      } else {
        source.Run<1>(tile, in, t0, tile_out);
        epilogue(n0, rows, t0, T - t0, tile_out, L);
      }
    }
  }
}

#if GGUFEMBED_X86_INT8
// Whether a product takes the rows-in-lanes path (Q8_0 weights, AVX2 kernel).
HWY_INLINE bool UseRowLanes(const Matrix& w, Int8Kernel kernel) {
  return kernel == Int8Kernel::kAvx2 && w.type == GgmlType::kQ8_0;
}

// For each tile of kRowLanes rows of `w` and run of up to 8 tokens of `in`, calls
// epilogue(n0, rows, t0, n) with out [n][8] holding the products.
template <class Epilogue>
HWY_INLINE void ForEachRowLanesTile(const Matrix& w, const MatMulInput& in, uint8_t* scratch,
                                    float* out, Epilogue&& epilogue) {
  RowLanesTile tile;
  for (int64_t n0 = 0; n0 < w.rows; n0 += kRowLanes) {
    const int rows = static_cast<int>(std::min<int64_t>(kRowLanes, w.rows - n0));
    PrepareRowLanesTile(w, n0, rows, scratch, &tile);
    for (int t0 = 0; t0 < in.n_tokens; t0 += 8) {
      const int n = std::min(8, in.n_tokens - t0);
      RunRowLanes(n, tile, in, t0, out);
      epilogue(n0, rows, t0, n);
    }
  }
}
#endif

// y[t·ldy + n] = W·x[t] for every row n of `w` and token t of `in`, with the fastest kernel of
// this target (or `kernel`).
HWY_INLINE void MatMul(const Matrix& w, const MatMulInput& in, uint8_t* scratch, float* y,
                       size_t ldy, Int8Kernel kernel = NativeInt8Kernel()) {
#if GGUFEMBED_X86_INT8
  if (UseRowLanes(w, kernel)) {
    float* out = reinterpret_cast<float*>(scratch + 2 * MatMulTileBytes(in.cols));  // [8][8]
    ForEachRowLanesTile(w, in, scratch, out, [&](int64_t n0, int rows, int t0, int n) {
      for (int l = 0; l < n; ++l) std::copy_n(out + 8 * l, rows, y + size_t(t0 + l) * ldy + n0);
    });
    return;
  }
#endif
  const TileSource source(w, kernel, scratch);
  float* tile_out = reinterpret_cast<float*>(scratch + 2 * MatMulTileBytes(in.cols));
  ForEachTile(source, w, in, tile_out,
              [&](int64_t n0, int rows, int t0, int tokens, const float* out, int stride) {
                for (int r = 0; r < rows; ++r) {
                  for (int l = 0; l < tokens; ++l) y[size_t(t0 + l) * ldy + n0 + r] = out[r * stride + l];
                }
              });
}

// g[t·ldg + n] = GeluF16(gate_n·x[t]) · (up_n·x[t]): GeGLU in the epilogue of the gate and up
// products (same types, so one prepared input serves both).
HWY_INLINE void MatMulGeGLU(const Matrix& gate, const Matrix& up, const MatMulInput& in,
                            uint8_t* scratch, float* g, size_t ldg,
                            Int8Kernel kernel = NativeInt8Kernel()) {
  const size_t tile_bytes = MatMulTileBytes(in.cols);
  const hn::CappedTag<float, 8> df;
  const float* table = GeluTable();
#if GGUFEMBED_X86_INT8
  if (UseRowLanes(gate, kernel) && UseRowLanes(up, kernel)) {
    float* gate_out = reinterpret_cast<float*>(scratch + 2 * tile_bytes);  // [8][8]
    float* up_out = gate_out + 64;                                         // [8][8]
    RowLanesTile up_tile;
    ForEachRowLanesTile(gate, in, scratch, gate_out, [&](int64_t n0, int rows, int t0, int n) {
      if (t0 == 0) PrepareRowLanesTile(up, n0, rows, scratch + tile_bytes, &up_tile);
      RunRowLanes(n, up_tile, in, t0, up_out);
      for (int l = 0; l < n; ++l) {
        float* gl = gate_out + 8 * l;
        hn::StoreU(hn::Mul(GeluF16Vec(df, hn::LoadU(df, gl), table), hn::LoadU(df, up_out + 8 * l)),
                   df, gl);
        std::copy_n(gl, rows, g + size_t(t0 + l) * ldg + n0);
      }
    });
    return;
  }
#endif
  const TileSource gate_source(gate, kernel, scratch);
  const TileSource up_source(up, kernel, scratch + tile_bytes);
  float* gate_out = reinterpret_cast<float*>(scratch + 2 * tile_bytes);
  float* up_out = gate_out + kTileRows * 2 * 16;
  const int L = gate_source.lanes(), T = in.n_tokens;
  const int lanes = static_cast<int>(hn::Lanes(df));  // divides every kernel's vector lanes
  WeightTile gate_tile, up_tile;
  for (int64_t n0 = 0; n0 < gate.rows; n0 += kTileRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kTileRows, gate.rows - n0));
    gate_source.Prepare(n0, rows, &gate_tile);
    up_source.Prepare(n0, rows, &up_tile);
    for (int t0 = 0; t0 < T; t0 += 2 * L) {
      int stride;
      if (T - t0 > L) {
        gate_source.Run<2>(gate_tile, in, t0, gate_out);
        up_source.Run<2>(up_tile, in, t0, up_out);
        stride = 2 * L;
      } else {
        gate_source.Run<1>(gate_tile, in, t0, gate_out);
        up_source.Run<1>(up_tile, in, t0, up_out);
        stride = L;
      }
      const int tokens = std::min(2 * L, T - t0);
      for (int r = 0; r < rows; ++r) {
        float* gr = gate_out + r * stride;
        const float* ur = up_out + r * stride;
        for (int l = 0; l < stride; l += lanes) {  // in place, then scattered to [token][row]
          hn::StoreU(hn::Mul(GeluF16Vec(df, hn::LoadU(df, gr + l), table), hn::LoadU(df, ur + l)),
                     df, gr + l);
        }
        for (int l = 0; l < tokens; ++l) g[size_t(t0 + l) * ldg + n0 + r] = gr[l];
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
