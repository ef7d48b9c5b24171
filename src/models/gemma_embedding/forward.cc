// The gemma-embedding forward pass on SIMD kernels, layer by layer as llama.cpp's
// src/models/gemma-embedding.cpp computes it, to the final-normed hidden states. Compiled once
// per SIMD target (Highway's foreach_target); Model::Forward dispatches to the best one per call.
// Bit-identical to reference_forward.cc on every target.
#include <cmath>

#include "kernels/gelu.h"
#include "models/gemma_embedding/model.h"
#include "util/check.h"
#include "util/profile.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "models/gemma_embedding/forward.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"

#include "kernels/attention-inl.h"
#include "kernels/matmul-inl.h"
#include "kernels/norm_rope-inl.h"
#include "kernels/vec_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed::gemma_embedding {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using namespace ::ggufembed::HWY_NAMESPACE;  // the kernels

// Every buffer of one pass over T tokens, carved from the workspace's arena.
struct Buffers {
  float* x;    // [T × n_embd] residual stream
  float* h;    // [T × n_embd] normed sub-block input
  float* o;    // [T × n_embd] sub-block output
  float* q;    // [T × n_head·head_dim] queries
  float* k;    // [T × n_head_kv·head_dim] keys
  float* v;    // [T × n_head_kv·head_dim_v] values
  float* att;  // [T × n_head·head_dim_v] attention output, heads concatenated
  float* gg;   // [T × n_ff] GELU(gate) · up
  float* up;   // [T × n_ff] up, only when gate and up differ in type (no fused GeGLU)
  MatMulInput in;           // a product's prepared input, tokens padded
  MatMulScratch scratch;    // a product's weight tiles
  AttentionScratch attention;

  void Carve(Arena& a, const Config& c, const Weights& w, int T) {
    const int d = c.n_embd, ff = c.n_ff;
    const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
    const int v_dim = c.n_head_kv * c.head_dim_v, o_dim = c.n_head * c.head_dim_v;
    const int widest = std::max({d, o_dim, ff});  // of any product's input
    bool mixed_ffn = false;
    for (const LayerWeights& l : w.layers) mixed_ffn |= l.ffn_gate.type != l.ffn_up.type;
    x = a.Alloc<float>(size_t(T) * d);
    h = a.Alloc<float>(size_t(T) * d);
    o = a.Alloc<float>(size_t(T) * d);
    q = a.Alloc<float>(size_t(T) * q_dim);
    k = a.Alloc<float>(size_t(T) * kv_dim);
    v = a.Alloc<float>(size_t(T) * v_dim);
    att = a.Alloc<float>(size_t(T) * o_dim);
    gg = a.Alloc<float>(size_t(T) * ff);
    up = mixed_ffn ? a.Alloc<float>(size_t(T) * ff) : nullptr;
    CarveMatMulInput(a, T, widest, LayoutOf(NativeInt8Kernel()), &in);
    CarveMatMulScratch(a, widest, &scratch);
    CarveAttentionScratch(a, T, c.head_dim, c.head_dim_v, &attention);
  }
};

Status ForwardImpl(const Config& c, const Weights& w, const int32_t* tokens, int T,
                   ForwardWorkspace& ws, float* hidden, OpProfile* profile) {
  const int d = c.n_embd, ff = c.n_ff;
  const int q_dim = c.n_head * c.head_dim, o_dim = c.n_head * c.head_dim_v;
  Buffers b;
  GGUFEMBED_RETURN_IF_ERROR(ws.arena.Carve([&](Arena& a) { b.Carve(a, c, w, T); }));
  MatMulInput& in = b.in;
  float *x = b.x, *h = b.h, *o = b.o, *q = b.q, *k = b.k, *v = b.v, *att = b.att, *gg = b.gg;

  // Prepares `src` [n × cols] for products with `weights` (quantized or rounded as ggml does).
  auto prepare = [&](const Matrix& weights, const float* src, int n, int cols) {
    ProfileScope p(profile, Op::kMatMul);
    in.n_tokens = n;
    in.cols = cols;
    PrepareMatMulInput(weights.type, src, &in);
  };
  // dst [T × weights.rows] = the prepared input times weightsᵀ.
  auto matmul = [&](const Matrix& weights, float* dst) {
    ProfileScope p(profile, Op::kMatMul);
    MatMul(weights, in, b.scratch, dst, static_cast<size_t>(weights.rows));
  };
  // The sub-block output `o` normed with `norm` and added to the residual stream.
  auto post_norm_residual = [&](const float* norm) {
    ProfileScope p(profile, Op::kNormRope);
    RmsNormRows(o, norm, T, d, d, c.rms_eps, o);
    AddInPlace(x, o, size_t(T) * d);
  };

  RopeTables::Table rope[2];  // [global, sliding]
  {
    ProfileScope p(profile, Op::kOther);
    rope[0] = ws.rope.Get(c.rope_base, c.n_rot, T);
    rope[1] = ws.rope.Get(c.rope_base_swa, c.n_rot, T);
    // Token embeddings, scaled by sqrt(n_embd).
    for (int t = 0; t < T; ++t) {
      GGUFEMBED_DCHECK_OK(  // the type was checked at load
          DequantizeRow(w.token_embd.type, w.token_embd.Row(tokens[t]), x + size_t(t) * d, d));
    }
    ScaleInPlace(x, std::sqrt(static_cast<float>(d)), size_t(T) * d);
  }
  const float q_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  for (int il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[il];
    const RopeTables::Table& r = rope[c.IsSlidingLayer(il) ? 1 : 0];
    const int half_window = c.IsSlidingLayer(il) ? c.n_swa / 2 : -1;

    // Attention: pre-norm, projections, per-head Q/K norms, RoPE, scaled softmax attention.
    {
      ProfileScope p(profile, Op::kNormRope);
      RmsNormRows(x, l.attn_norm, T, d, d, c.rms_eps, h);
    }
    prepare(l.attn_q, h, T, d);
    matmul(l.attn_q, q);
    if (l.attn_k.type != l.attn_q.type) prepare(l.attn_k, h, T, d);
    matmul(l.attn_k, k);
    if (l.attn_v.type != l.attn_k.type) prepare(l.attn_v, h, T, d);
    matmul(l.attn_v, v);
    {
      ProfileScope p(profile, Op::kNormRope);
      RmsNormRows(q, l.attn_q_norm, T * c.n_head, c.head_dim, c.head_dim, c.rms_eps, q);
      RmsNormRows(k, l.attn_k_norm, T * c.n_head_kv, c.head_dim, c.head_dim, c.rms_eps, k);
      RopeRows(q, T, c.n_head, c.head_dim, c.n_rot, r.cos, r.sin);
      RopeRows(k, T, c.n_head_kv, c.head_dim, c.n_rot, r.cos, r.sin);
      ScaleInPlace(q, q_scale, size_t(T) * q_dim);
    }
    {
      ProfileScope p(profile, Op::kAttention);
      Attention(q, k, v, T, c.n_head, c.n_head_kv, c.head_dim, c.head_dim_v, half_window,
                b.attention, att);
    }
    prepare(l.attn_output, att, T, o_dim);
    matmul(l.attn_output, o);
    post_norm_residual(l.post_attention_norm);

    // Feed-forward: pre-norm, GeGLU (GELU on the gate times up), down, post-norm, residual.
    {
      ProfileScope p(profile, Op::kNormRope);
      RmsNormRows(x, l.ffn_norm, T, d, d, c.rms_eps, h);
    }
    prepare(l.ffn_gate, h, T, d);
    if (l.ffn_up.type != l.ffn_gate.type) {  // no shared input: two plain products
      matmul(l.ffn_gate, gg);
      prepare(l.ffn_up, h, T, d);
      matmul(l.ffn_up, b.up);
      ProfileScope p(profile, Op::kGeGLU);
      for (size_t i = 0; i < size_t(T) * ff; ++i) gg[i] = GeluF16(gg[i]) * b.up[i];
    } else {
      ProfileScope p(profile, Op::kGeGLU);
      MatMulGeGLU(l.ffn_gate, l.ffn_up, in, b.scratch, gg, static_cast<size_t>(ff));
    }
    prepare(l.ffn_down, gg, T, ff);
    matmul(l.ffn_down, o);
    post_norm_residual(l.post_ffw_norm);
  }

  ProfileScope p(profile, Op::kPoolDense);
  RmsNormRows(x, w.output_norm, T, d, d, c.rms_eps, hidden);
  return OkStatus();
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed::gemma_embedding
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufembed::gemma_embedding {

HWY_EXPORT(ForwardImpl);

Status Forward(const Config& config, const Weights& weights, const int32_t* tokens, int n_tokens,
               ForwardWorkspace& workspace, float* hidden, OpProfile* profile) {
  return HWY_DYNAMIC_DISPATCH(ForwardImpl)(config, weights, tokens, n_tokens, workspace, hidden,
                                           profile);
}

}  // namespace ggufembed::gemma_embedding
#endif  // HWY_ONCE
