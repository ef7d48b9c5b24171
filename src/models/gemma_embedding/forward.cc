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
  float* x;               // [T × n_embd] residual stream
  float* h;               // [T × n_embd] normed sub-block input
  float* o;               // [T × n_embd] sub-block output
  float* q;               // [T × n_head·head_dim] queries
  float* k;               // [T × n_head_kv·head_dim] keys
  float* v;               // [T × n_head_kv·head_dim_v] values
  float* att;             // [T × n_head·head_dim_v] attention output, heads concatenated
  float* gg;              // [T × n_ff] GELU(gate) · up
  float* up;              // [T × n_ff] up, only when gate and up differ in type (no fused GeGLU)
  MatMulInput in;         // a product's prepared input, tokens padded
  MatMulScratch scratch;  // a product's weight tiles
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

// One pass over T tokens: the model, its buffers, and the steps every block uses.
struct Pass {
  const Config& c;
  const Weights& w;
  int T;
  Buffers b;
  OpProfile* profile;

  // Prepares `src` [T × cols] for products with `weights` (quantized or rounded as ggml does).
  void Prepare(const Matrix& weights, const float* src, int cols) {
    ProfileScope p(profile, Op::kMatMul);
    b.in.n_tokens = T;
    b.in.cols = cols;
    PrepareMatMulInput(weights.type, src, &b.in);
  }
  // dst [T × weights.rows] = the prepared input times weightsᵀ.
  void Product(const Matrix& weights, float* dst) {
    ProfileScope p(profile, Op::kMatMul);
    MatMul(weights, b.in, b.scratch, dst, static_cast<size_t>(weights.rows));
  }
  // x [T × n_embd] normed into h.
  void Norm(const float* x, const float* weight, float* h) {
    ProfileScope p(profile, Op::kNormRope);
    RmsNormRows(x, weight, T, c.n_embd, c.n_embd, c.rms_eps, h);
  }
  // The sub-block output `o` normed with `norm` and added to the residual stream.
  void PostNormResidual(const float* norm) {
    ProfileScope p(profile, Op::kNormRope);
    RmsNormRows(b.o, norm, T, c.n_embd, c.n_embd, c.rms_eps, b.o);
    AddInPlace(b.x, b.o, size_t(T) * c.n_embd);
  }
};

// Attention: pre-norm, projections, per-head Q/K norms, RoPE, scaled softmax attention over the
// layer's window, output projection, post-norm, residual.
void AttentionBlock(Pass& p, const LayerWeights& l, const RopeTables::Table& rope,
                    int half_window) {
  const Config& c = p.c;
  Buffers& b = p.b;
  const int T = p.T;
  p.Norm(b.x, l.attn_norm, b.h);
  p.Prepare(l.attn_q, b.h, c.n_embd);
  p.Product(l.attn_q, b.q);
  if (l.attn_k.type != l.attn_q.type) p.Prepare(l.attn_k, b.h, c.n_embd);
  p.Product(l.attn_k, b.k);
  if (l.attn_v.type != l.attn_k.type) p.Prepare(l.attn_v, b.h, c.n_embd);
  p.Product(l.attn_v, b.v);
  {
    ProfileScope scope(p.profile, Op::kNormRope);
    RmsNormRows(b.q, l.attn_q_norm, T * c.n_head, c.head_dim, c.head_dim, c.rms_eps, b.q);
    RmsNormRows(b.k, l.attn_k_norm, T * c.n_head_kv, c.head_dim, c.head_dim, c.rms_eps, b.k);
    RopeRows(b.q, T, c.n_head, c.head_dim, c.n_rot, rope.cos, rope.sin);
    RopeRows(b.k, T, c.n_head_kv, c.head_dim, c.n_rot, rope.cos, rope.sin);
    const float q_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    ScaleInPlace(b.q, q_scale, size_t(T) * c.n_head * c.head_dim);
  }
  {
    ProfileScope scope(p.profile, Op::kAttention);
    Attention(b.q, b.k, b.v, T, c.n_head, c.n_head_kv, c.head_dim, c.head_dim_v, half_window,
              b.attention, b.att);
  }
  p.Prepare(l.attn_output, b.att, c.n_head * c.head_dim_v);
  p.Product(l.attn_output, b.o);
  p.PostNormResidual(l.post_attention_norm);
}

// Feed-forward: pre-norm, GeGLU (GELU on the gate times up), down, post-norm, residual.
void FeedForwardBlock(Pass& p, const LayerWeights& l) {
  const int ff = p.c.n_ff;
  Buffers& b = p.b;
  p.Norm(b.x, l.ffn_norm, b.h);
  p.Prepare(l.ffn_gate, b.h, p.c.n_embd);
  if (l.ffn_up.type != l.ffn_gate.type) {  // no shared input: two plain products
    p.Product(l.ffn_gate, b.gg);
    p.Prepare(l.ffn_up, b.h, p.c.n_embd);
    p.Product(l.ffn_up, b.up);
    ProfileScope scope(p.profile, Op::kGeGLU);
    for (size_t i = 0; i < size_t(p.T) * ff; ++i) b.gg[i] = GeluF16(b.gg[i]) * b.up[i];
  } else {
    ProfileScope scope(p.profile, Op::kGeGLU);
    MatMulGeGLU(l.ffn_gate, l.ffn_up, b.in, b.scratch, b.gg, static_cast<size_t>(ff));
  }
  p.Prepare(l.ffn_down, b.gg, ff);
  p.Product(l.ffn_down, b.o);
  p.PostNormResidual(l.post_ffw_norm);
}

Status ForwardImpl(const Config& c, const Weights& w, const int32_t* tokens, int T,
                   ForwardWorkspace& ws, float* hidden, OpProfile* profile) {
  Pass p{c, w, T, {}, profile};
  GGUFEMBED_RETURN_IF_ERROR(ws.arena.Carve([&](Arena& a) { p.b.Carve(a, c, w, T); }));
  const int d = c.n_embd;
  RopeTables::Table rope[2];  // [global, sliding]
  {
    ProfileScope scope(profile, Op::kOther);
    rope[0] = ws.rope.Get(c.rope_base, c.n_rot, T);
    rope[1] = ws.rope.Get(c.rope_base_swa, c.n_rot, T);
    // Token embeddings, scaled by sqrt(n_embd).
    for (int t = 0; t < T; ++t) {
      GGUFEMBED_DCHECK_OK(  // the type was checked at load
          DequantizeRow(w.token_embd.type, w.token_embd.Row(tokens[t]), p.b.x + size_t(t) * d, d));
    }
    ScaleInPlace(p.b.x, std::sqrt(static_cast<float>(d)), size_t(T) * d);
  }
  for (int il = 0; il < c.n_layer; ++il) {
    const bool sliding = c.IsSlidingLayer(il);
    AttentionBlock(p, w.layers[il], rope[sliding ? 1 : 0], sliding ? c.n_swa / 2 : -1);
    FeedForwardBlock(p, w.layers[il]);
  }
  ProfileScope scope(profile, Op::kPoolDense);
  RmsNormRows(p.b.x, w.output_norm, T, d, d, c.rms_eps, hidden);
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
