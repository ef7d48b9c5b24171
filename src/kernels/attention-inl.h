// Attention's per-target interface: its scratch, and Attention — declared here and compiled once
// per target in attention.cc. Fused, with an online softmax (no T×T buffer), bit-identical to
// AttentionReference (llama.cpp's flash-attention rounding).

#include <cstddef>
#include <cstdint>

#include "util/arena.h"

#if defined(GGUFEMBED_KERNELS_ATTENTION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_ATTENTION_INL_H_
#undef GGUFEMBED_KERNELS_ATTENTION_INL_H_
#else
#define GGUFEMBED_KERNELS_ATTENTION_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Queries (token, head) processed together, and vectors of each value row accumulated per pass:
// kQueries × kValueVectors accumulators stay in registers (32 vector registers with AVX-512, 16
// otherwise), and each key and value vector loaded serves kQueries queries. AVX2 takes 6 queries
// × 2 vectors: attention on 500 tokens of the 300m model 308–319 → 266–279 ms against 4 × 2. The
// others keep 4: AVX-512 with 6 × 4 went 142 → 228 ms, WebAssembly with 6 × 2 (V8 spills) the
// whole long text 1.97 → 2.45 s; with 5 × 2 it was 1.03–1.04× as fast in Chromium 156 but 0.91×
// in Node 20 and 22 (A/B, 300m, 500 tokens), whose V8 spills there too.
inline constexpr int kQueries = HWY_TARGET == HWY_AVX2 ? 6 : 4;
inline constexpr int kValueVectors = HWY_MAX_BYTES >= 64 ? 4 : 2;

// Keys per row of the transposed key matrix: the tokens, padded so that two vectors of keys
// starting at any multiple of the lanes stay inside.
inline size_t AttentionKeyStride(int n_tokens) {
  const size_t L = hn::Lanes(hn::ScalableTag<float>());
  return (size_t(n_tokens) + 3 * L - 1) / (2 * L) * (2 * L);
}

// The scratch of Attention for one KV head at a time.
struct AttentionScratch {
  size_t keys;         // AttentionKeyStride(T)
  float* kt;           // [head_dim × keys] K as f16, transposed
  float* v16;          // [T × head_dim_v] V as f16
  float* scores;       // [kQueries × keys]
  float* running_max;  // [kQueries × keys]
  float* rescale;      // [kQueries × keys]
  float* weight;       // [kQueries × keys]
  float* q16;          // [kQueries × head_dim] Q as f16
  int* special;        // [keys] keys where some query of a block rescales or is outside its window
};

// Takes Attention's scratch for up to `max_tokens` tokens from `arena` (inside a Carve plan).
inline void CarveAttentionScratch(Arena& arena, int max_tokens, int head_dim, int head_dim_v,
                                  AttentionScratch* s) {
  const size_t keys = AttentionKeyStride(max_tokens);
  s->keys = keys;
  s->kt = arena.Alloc<float>(uint64_t(head_dim) * keys);
  s->v16 = arena.Alloc<float>(uint64_t(max_tokens) * head_dim_v);
  s->scores = arena.Alloc<float>(kQueries * keys);
  s->running_max = arena.Alloc<float>(kQueries * keys);
  s->rescale = arena.Alloc<float>(kQueries * keys);
  s->weight = arena.Alloc<float>(kQueries * keys);
  s->q16 = arena.Alloc<float>(uint64_t(kQueries) * head_dim);
  s->special = arena.Alloc<int>(keys);
}

// out [T × n_head·head_dim_v] from q [T × n_head·head_dim] (scaled), k [T × n_head_kv·head_dim]
// and v [T × n_head_kv·head_dim_v]; see AttentionReference for the exact semantics.
void Attention(const float* q, const float* k, const float* v, int T, int n_head, int n_head_kv,
               int head_dim, int head_dim_v, int half_window, const AttentionScratch& scratch,
               float* out);

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
