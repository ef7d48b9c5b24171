// Fused attention, compiled once per target (declared in attention-inl.h), with an online softmax
// (no T×T buffer): queries are taken in blocks of kQueries that share a KV head; for each block,
// one pass computes their scores against the keys of their windows, one turns the scores into the
// online softmax's rescale factors and weights, and one accumulates the values, each value vector
// loaded once for the whole block. Bit-identical to AttentionReference (llama.cpp's
// flash-attention rounding): every f32 operation is the reference's, in its order; only
// independent work is reordered.
#include <algorithm>
#include <cmath>

#include "kernels/numerics.h"
#include "util/arena.h"
#include "util/check.h"
#include "util/fp16.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/attention.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "kernels/attention-inl.h"
#include "kernels/vec_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// `x` rounded to f16, in place, n values.
HWY_INLINE void RoundRowToF16(float* x, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(RoundToF16(df, hn::LoadU(df, x + i)), df, x + i);
  for (; i < n; ++i) x[i] = F16ToF32(F32ToF16(x[i]));
}

// scores[q][u] for keys u in [u_begin, u_end) (u_begin a multiple of the lanes): the reference's
// Dot of query q with key u, the keys' lanes side by side (kt: [head_dim][key_stride]).
HWY_NOINLINE inline void Scores(const float* const* queries, int n_queries, const float* kt,
                                size_t key_stride, int head_dim, int u_begin, int u_end,
                                float* scores, size_t score_stride) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  const int L = static_cast<int>(hn::Lanes(df));
  HWY_ALIGN float partial[8][kQueries][2 * hn::MaxLanes(df)];
  for (int u0 = u_begin; u0 < u_end; u0 += 2 * L) {
    for (int j = 0; j < 8; ++j) {
      VF acc[kQueries][2];
      for (int q = 0; q < kQueries; ++q) acc[q][0] = acc[q][1] = hn::Zero(df);
      for (int i = j; i < head_dim; i += 8) {
        const float* k = kt + size_t(i) * key_stride + u0;
        const VF k0 = hn::Load(df, k), k1 = hn::Load(df, k + L);
        for (int q = 0; q < kQueries; ++q) {
          const VF qi = hn::Set(df, queries[q][i]);
          acc[q][0] = hn::Add(acc[q][0], hn::Mul(qi, k0));
          acc[q][1] = hn::Add(acc[q][1], hn::Mul(qi, k1));
        }
      }
      for (int q = 0; q < kQueries; ++q) {
        hn::Store(acc[q][0], df, partial[j][q]);
        hn::Store(acc[q][1], df, partial[j][q] + L);
      }
    }
    for (int q = 0; q < n_queries; ++q) {
      for (int v = 0; v < 2 * L; v += L) {
        VF p[8];
        for (int j = 0; j < 8; ++j) p[j] = hn::Load(df, partial[j][q] + v);
        hn::StoreU(CombinePartials8(p), df, scores + q * score_stride + u0 + v);
      }
    }
  }
}

// The online softmax of kN queries' keys (query i's window [lo[i], hi[i]], in order), as
// factors, their rows `keys` apart in scores, running_max, rescale and weight: key u rescales
// what came before by rescale[u] and adds its value with weight[u]. A key above the running
// maximum m gets rescale e^(m − s), weight 1 and becomes the maximum; any other gets rescale 1,
// weight e^(s − m). sum[i] gets query i's sum of the weights, accumulated the reference's way.
// The running maximum and the sum are chains of dependent scalar steps, one per key: the kN
// queries' chains are interleaved, so that each step waits for its own query's previous step only
// (their windows differ at the edges only, in the sliding-window layers).
template <int kN>
HWY_NOINLINE void SoftmaxFactors(const float* scores, size_t keys, const int* lo, const int* hi,
                                 float* running_max, float* rescale, float* weight, float* sum) {
  const int u_lo = *std::min_element(lo, lo + kN), u_hi = *std::max_element(hi, hi + kN);
  float max[kN];
  for (int i = 0; i < kN; ++i) max[i] = -INFINITY;
  for (int u = u_lo; u <= u_hi; ++u) {  // the maximum before each key
    for (int i = 0; i < kN; ++i) {
      if (u < lo[i] || u > hi[i]) continue;
      running_max[i * keys + u] = max[i];
      max[i] = std::max(max[i], scores[i * keys + u]);
    }
  }
  const hn::ScalableTag<float> df;
  const int L = static_cast<int>(hn::Lanes(df));
  const auto one = hn::Set(df, 1.0f);
  for (int i = 0; i < kN; ++i) {
    const float* si = scores + i * keys;
    const float* mi = running_max + i * keys;
    float* ri = rescale + i * keys;
    float* wi = weight + i * keys;
    int u = lo[i];
    for (; u + L <= hi[i] + 1; u += L) {
      const auto s = hn::LoadU(df, si + u), m = hn::LoadU(df, mi + u);
      const auto is_max = hn::Gt(s, m);
      const auto e = ExpVec(df, hn::IfThenElse(is_max, hn::Sub(m, s), hn::Sub(s, m)));
      hn::StoreU(hn::IfThenElse(is_max, e, one), df, ri + u);
      hn::StoreU(hn::IfThenElse(is_max, one, e), df, wi + u);
    }
    for (; u <= hi[i]; ++u) {
      const bool is_max = si[u] > mi[u];
      const float e = ExpF32(is_max ? mi[u] - si[u] : si[u] - mi[u]);
      ri[u] = is_max ? e : 1.0f;
      wi[u] = is_max ? 1.0f : e;
    }
  }
  for (int i = 0; i < kN; ++i) sum[i] = 0.0f;
  for (int u = u_lo; u <= u_hi; ++u) {
    for (int i = 0; i < kN; ++i) {
      if (u < lo[i] || u > hi[i]) continue;
      sum[i] = sum[i] * rescale[i * keys + u] + weight[i * keys + u];
    }
  }
}

// The weighted value sums of kQueries queries (windows [lo[i], hi[i]] inside [u_lo, u_hi]) from
// their softmax factors, divided by their weight sums, into `out` (the first `nq` queries are
// real; the others repeat the last one). Accumulators for kValueVectors vectors of every query
// stay in registers while the keys go by, so each value vector is loaded once per block. Keys
// where every query simply adds v·weight take a branch-free loop; the others (`special`, in
// order: a window's edge or a query's new maximum) one that checks each query.
template <bool kF16Sum>
HWY_NOINLINE void AccumulateValues(const float* v16, int head_dim_v, int u_lo, int u_hi,
                                   const int* lo, const int* hi, const float* rescale,
                                   const float* weight, const int* special, int n_special,
                                   size_t keys, const float* sum, int nq, const int* t_of,
                                   const int* h_of, size_t o_stride, float* out) {
  const hn::ScalableTag<float> df;
  using VF = hn::Vec<decltype(df)>;
  const int L = static_cast<int>(hn::Lanes(df));
  auto round = [&](VF x) { return kF16Sum ? RoundToF16(df, x) : x; };
  // Values [c, c + n·L) of every query; n is kValueVectors, then 1 for what remains (head_dim_v
  // need not be a multiple of kValueVectors·L: tiny models have 48).
  auto run = [&]<int n>(int c) {
    VF acc[kQueries][n];
    for (int i = 0; i < kQueries; ++i) {
      for (int kk = 0; kk < n; ++kk) acc[i][kk] = hn::Zero(df);
    }
    // The queries' weight rows in locals (read through the lambda's captures, they were reloaded
    // at every key).
    const float* w_of[kQueries];
    for (int i = 0; i < kQueries; ++i) w_of[i] = weight + i * keys;
    const float* vu = v16 + size_t(u_lo) * head_dim_v + c;
    int u = u_lo;
    for (int e = 0; e <= n_special; ++e) {
      for (const int end = e < n_special ? special[e] : u_hi + 1; u < end; ++u, vu += head_dim_v) {
        VF vv[n];
        for (int kk = 0; kk < n; ++kk) vv[kk] = hn::LoadU(df, vu + kk * L);
        for (int i = 0; i < kQueries; ++i) {
          const VF w = hn::Set(df, w_of[i][u]);
          for (int kk = 0; kk < n; ++kk)
            acc[i][kk] = round(hn::Add(acc[i][kk], hn::Mul(vv[kk], w)));
        }
      }
      if (e == n_special) break;
      VF vv[n];
      for (int kk = 0; kk < n; ++kk) vv[kk] = hn::LoadU(df, vu + kk * L);
      for (int i = 0; i < kQueries; ++i) {
        if (u >= lo[i] && u <= hi[i]) {
          const float r = rescale[i * keys + u];
          if (r != 1.0f) {
            for (int kk = 0; kk < n; ++kk) acc[i][kk] = round(hn::Mul(acc[i][kk], hn::Set(df, r)));
          }
          const VF w = hn::Set(df, w_of[i][u]);
          for (int kk = 0; kk < n; ++kk)
            acc[i][kk] = round(hn::Add(acc[i][kk], hn::Mul(vv[kk], w)));
        }
      }
      ++u;
      vu += head_dim_v;
    }
    // Only constant indices of `acc` (a loop to nq would index it at run time, which keeps the
    // accumulators in memory: clang then stored every one of them at every key).
    for (int i = 0; i < kQueries; ++i) {
      if (i >= nq) break;
      const VF inv = hn::Set(df, sum[i] == 0.0f ? 0.0f : 1.0f / sum[i]);
      float* o = out + size_t(t_of[i]) * o_stride + size_t(h_of[i]) * head_dim_v + c;
      for (int kk = 0; kk < n; ++kk) hn::StoreU(hn::Mul(acc[i][kk], inv), df, o + kk * L);
    }
  };
  int c = 0;
  for (; c + kValueVectors * L <= head_dim_v; c += kValueVectors * L) {
    run.template operator()<kValueVectors>(c);
  }
  for (; c + L <= head_dim_v; c += L) run.template operator()<1>(c);
  // Values past the last whole run, one at a time.
  for (int i = 0; i < nq; ++i) {
    const float inv = sum[i] == 0.0f ? 0.0f : 1.0f / sum[i];
    float* o = out + size_t(t_of[i]) * o_stride + size_t(h_of[i]) * head_dim_v;
    for (int e = c; e < head_dim_v; ++e) {
      float a = 0.0f;
      for (int u = lo[i]; u <= hi[i]; ++u) {
        const float r = rescale[i * keys + u];
        if (r != 1.0f) {
          a = a * r;
          if (kF16Sum) a = F16ToF32(F32ToF16(a));
        }
        a = a + v16[size_t(u) * head_dim_v + e] * weight[i * keys + u];
        if (kF16Sum) a = F16ToF32(F32ToF16(a));
      }
      o[e] = a * inv;
    }
  }
}

// out [T × n_head·head_dim_v] from q [T × n_head·head_dim] (scaled), k [T × n_head_kv·head_dim]
// and v [T × n_head_kv·head_dim_v]; see AttentionReference for the exact semantics.
void Attention(const float* q, const float* k, const float* v, int T, int n_head, int n_head_kv,
               int head_dim, int head_dim_v, int half_window, const AttentionScratch& scratch,
               float* out) {
  const hn::ScalableTag<float> df;
  const int L = static_cast<int>(hn::Lanes(df));
  const int group = n_head / n_head_kv;
  const size_t q_stride = size_t(n_head) * head_dim, o_stride = size_t(n_head) * head_dim_v;
  const bool f16_sum = AttentionAccumulatesInF16(T, head_dim);
  // The key stride of this T: a scratch carved for more tokens is used in part.
  const size_t keys = AttentionKeyStride(T);
  GGUFEMBED_DCHECK(keys <= scratch.keys);
  float* kt = scratch.kt;
  float* v16 = scratch.v16;
  float* scores = scratch.scores;
  float* running_max = scratch.running_max;
  float* rescale = scratch.rescale;
  float* weight = scratch.weight;
  float* q16 = scratch.q16;
  int* special = scratch.special;
  auto window = [&](int t, int* lo, int* hi) {
    *lo = half_window >= 0 ? std::max(0, t - half_window) : 0;
    *hi = half_window >= 0 ? std::min(T - 1, t + half_window) : T - 1;
  };

  for (int g = 0; g < n_head_kv; ++g) {
    std::fill_n(kt, size_t(head_dim) * keys, 0.0f);
    for (int u = 0; u < T; ++u) {
      const float* ku = k + (size_t(u) * n_head_kv + g) * head_dim;
      for (int i = 0; i < head_dim; ++i) kt[size_t(i) * keys + u] = ku[i];
      std::copy_n(v + (size_t(u) * n_head_kv + g) * head_dim_v, head_dim_v,
                  v16 + size_t(u) * head_dim_v);
    }
    RoundRowToF16(kt, size_t(head_dim) * keys);
    RoundRowToF16(v16, size_t(T) * head_dim_v);

    // Queries of this KV head in (token, head) order, kQueries at a time.
    const int n_queries = T * group;
    for (int first = 0; first < n_queries; first += kQueries) {
      const int nq = std::min(kQueries, n_queries - first);
      const float* qp[kQueries];
      int lo[kQueries], hi[kQueries], t_of[kQueries], h_of[kQueries];
      float sum[kQueries];
      for (int i = 0; i < kQueries; ++i) {
        const int index = first + std::min(i, nq - 1);
        t_of[i] = index / group;
        h_of[i] = g * group + index % group;
        qp[i] = q + size_t(t_of[i]) * q_stride + size_t(h_of[i]) * head_dim;
        if (f16_sum) {  // the one-chunk kernel multiplies an f16 copy of Q
          std::copy_n(qp[i], head_dim, q16 + size_t(i) * head_dim);
          RoundRowToF16(q16 + size_t(i) * head_dim, head_dim);
          qp[i] = q16 + size_t(i) * head_dim;
        }
        window(t_of[i], &lo[i], &hi[i]);
      }
      const int u_lo = lo[0], u_hi = hi[nq - 1];  // windows move right with the token
      Scores(qp, kQueries, kt, keys, head_dim, u_lo / L * L, u_hi + 1, scores, keys);
      SoftmaxFactors<kQueries>(scores, keys, lo, hi, running_max, rescale, weight, sum);

      int n_special = 0;
      for (int u = u_lo; u <= u_hi; ++u) {
        bool plain = true;
        for (int i = 0; i < kQueries; ++i) {
          plain = plain && u >= lo[i] && u <= hi[i] && rescale[i * keys + u] == 1.0f;
        }
        if (!plain) special[n_special++] = u;
      }
      (f16_sum ? AccumulateValues<true> : AccumulateValues<false>)(v16, head_dim_v, u_lo, u_hi, lo,
                                                                   hi, rescale, weight, special,
                                                                   n_special, keys, sum, nq, t_of,
                                                                   h_of, o_stride, out);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();
