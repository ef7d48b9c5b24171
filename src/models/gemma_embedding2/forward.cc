// The gemma-embedding2 forward pass on SIMD kernels, layer by layer as llama.cpp's
// src/models/gemma-embedding2.cpp computes it, to the projected per-token embeddings. Compiled
// once per SIMD target; bit-identical to reference_forward.cc on every target.
#include <algorithm>
#include <cmath>

#include "kernels/gelu.h"
#include "models/gemma_embedding2/model.h"
#include "util/check.h"
#include "util/profile.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "models/gemma_embedding2/forward.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "kernels/attention-inl.h"
#include "kernels/matmul-inl.h"
#include "kernels/norm_rope-inl.h"
#include "kernels/vec_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed::gemma_embedding2 {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using namespace ::ggufembed::HWY_NAMESPACE;  // the kernels

// Every buffer of one pass over T tokens, carved from the workspace's arena; attention buffers
// are sized for the widest layer.
struct Buffers {
  float* x;           // [T × n_embd] residual stream
  float* x0;          // [T × n_embd] scaled token embeddings (for the per-layer inputs)
  float* h;           // [T × n_embd] normed sub-block input
  float* o;           // [T × n_embd] sub-block output
  float* q;           // [T × n_head·hd] queries
  float* k;           // [T × n_head_kv·hd] keys
  float* v;           // [T × n_head_kv·hd_v] values
  float* att;         // [T × n_head·hd_v] attention output, heads concatenated
  float* gg;          // [T × n_ff] GELU(gate) · up
  float* up;          // [T × n_ff] up, only when gate and up differ in type
  float* p;           // [T × n_embd_per_layer] this layer's per-layer input
  float* gate;        // [T × n_embd_per_layer] GELU(inp_gate · x) · p
  MatMulInput in;     // a product's prepared input
  MatMulInput in_x0;  // x0 prepared once for every layer's rows of per_layer_model_proj
  MatMulScratch scratch;
  AttentionScratch attention;

  void Carve(Arena& a, const Config& c, const Weights& w, int T) {
    const int d = c.n_embd, ff = c.n_ff, pl = c.n_embd_per_layer;
    const int q_dim = c.max_q_dim(), kv_dim = c.max_kv_dim();
    const int widest = std::max({d, q_dim, ff, pl});
    bool mixed_ffn = false;
    for (const LayerWeights& l : w.layers) mixed_ffn |= l.ffn_gate.type != l.ffn_up.type;
    for (float** b : {&x, &x0, &h, &o}) *b = a.Alloc<float>(size_t(T) * d);
    q = a.Alloc<float>(size_t(T) * q_dim);
    k = a.Alloc<float>(size_t(T) * kv_dim);
    v = a.Alloc<float>(size_t(T) * kv_dim);
    att = a.Alloc<float>(size_t(T) * q_dim);
    gg = a.Alloc<float>(size_t(T) * ff);
    up = mixed_ffn ? a.Alloc<float>(size_t(T) * ff) : nullptr;
    p = a.Alloc<float>(size_t(T) * pl);
    gate = a.Alloc<float>(size_t(T) * pl);
    CarveMatMulInput(a, T, widest, LayoutOf(NativeInt8Kernel()), &in);
    CarveMatMulInput(a, T, d, LayoutOf(NativeInt8Kernel()), &in_x0);
    CarveMatMulScratch(a, widest, &scratch);
    CarveAttentionScratch(a, T, c.max_head_dim(), c.max_head_dim_v(), &attention);
  }
};

// One pass over T tokens: the model, its buffers, and the steps every block uses.
struct Pass {
  const Config& c;
  const Weights& w;
  int T;
  Buffers b;
  OpProfile* profile;

  // Prepares `src` [T × cols] into `in` for products with `weights`.
  void Prepare(const Matrix& weights, const float* src, int cols, MatMulInput& in) {
    ProfileScope s(profile, Op::kMatMul);
    in.n_tokens = T;
    in.cols = cols;
    PrepareMatMulInput(weights.type, src, &in);
  }
  void Prepare(const Matrix& weights, const float* src, int cols) {
    Prepare(weights, src, cols, b.in);
  }
  // dst [T × weights.rows] = the prepared input times weightsᵀ.
  void Product(const Matrix& weights, float* dst, const MatMulInput& in) {
    ProfileScope s(profile, Op::kMatMul);
    MatMul(weights, in, b.scratch, dst, static_cast<size_t>(weights.rows));
  }
  void Product(const Matrix& weights, float* dst) { Product(weights, dst, b.in); }
  // `rows` rows of n values, normed in place or into `out` (`weight` null: no weight).
  void Norm(const float* x, const float* weight, int rows, int n, float* out) {
    ProfileScope s(profile, Op::kNormRope);
    RmsNormRows(x, weight, rows, n, n, c.rms_eps, out);
  }
  // The sub-block output `o` normed with `norm` and added to the residual stream.
  void PostNormResidual(const float* norm) {
    Norm(b.o, norm, T, c.n_embd, b.o);
    ProfileScope s(profile, Op::kNormRope);
    AddInPlace(b.x, b.o, size_t(T) * c.n_embd);
  }
};

// Attention: pre-norm, projections, Q/K norms with weights, V norm without, RoPE, softmax
// attention with scale 1 over the layer's window, output projection, post-norm, residual.
void AttentionBlock(Pass& p, const LayerWeights& l, const LayerShape& s,
                    const RopeTables::Table& rope) {
  const Config& c = p.c;
  Buffers& b = p.b;
  const int T = p.T;
  p.Norm(b.x, l.attn_norm, T, c.n_embd, b.h);
  p.Prepare(l.attn_q, b.h, c.n_embd);
  p.Product(l.attn_q, b.q);
  if (l.attn_k.type != l.attn_q.type) p.Prepare(l.attn_k, b.h, c.n_embd);
  p.Product(l.attn_k, b.k);
  if (l.attn_v.type != l.attn_k.type) p.Prepare(l.attn_v, b.h, c.n_embd);
  p.Product(l.attn_v, b.v);
  p.Norm(b.q, l.attn_q_norm, T * c.n_head, s.head_dim, b.q);
  p.Norm(b.k, l.attn_k_norm, T * s.n_head_kv, s.head_dim, b.k);
  p.Norm(b.v, nullptr, T * s.n_head_kv, s.head_dim_v, b.v);
  {
    ProfileScope scope(p.profile, Op::kNormRope);
    RopeRows(b.q, T, c.n_head, s.head_dim, s.n_rot, rope.cos, rope.sin);
    RopeRows(b.k, T, s.n_head_kv, s.head_dim, s.n_rot, rope.cos, rope.sin);
  }
  {
    ProfileScope scope(p.profile, Op::kAttention);
    Attention(b.q, b.k, b.v, T, c.n_head, s.n_head_kv, s.head_dim, s.head_dim_v,
              s.sliding ? c.n_swa / 2 : -1, b.attention, b.att);
  }
  p.Prepare(l.attn_output, b.att, c.n_head * s.head_dim_v);
  p.Product(l.attn_output, b.o);
  p.PostNormResidual(l.post_attention_norm);
}

// Feed-forward: pre-norm, GeGLU, down, post-norm, residual.
void FeedForwardBlock(Pass& p, const LayerWeights& l) {
  const int ff = p.c.n_ff;
  Buffers& b = p.b;
  p.Norm(b.x, l.ffn_norm, p.T, p.c.n_embd, b.h);
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

// Per-layer input: P_il from the layer's rows of per_layer_model_proj, then GELU(inp_gate · x)
// times P_il, projected back to n_embd, post-normed and added; then the stream times the layer's
// scale.
void PerLayerBlock(Pass& p, const LayerWeights& l, int il) {
  const Config& c = p.c;
  Buffers& b = p.b;
  const int T = p.T, pl = c.n_embd_per_layer;
  p.Product(p.w.PerLayerProj(il, pl), b.p, b.in_x0);
  {
    ProfileScope scope(p.profile, Op::kNormRope);
    ScaleInPlace(b.p, 1.0f / std::sqrt(static_cast<float>(c.n_embd)), size_t(T) * pl);
  }
  p.Norm(b.p, p.w.per_layer_proj_norm, T, pl, b.p);
  p.Prepare(l.inp_gate, b.x, c.n_embd);
  p.Product(l.inp_gate, b.gate);
  {
    ProfileScope scope(p.profile, Op::kGeGLU);
    GeluInPlace(b.gate, size_t(T) * pl);
    MulInPlace(b.gate, b.p, size_t(T) * pl);
  }
  p.Prepare(l.proj, b.gate, pl);
  p.Product(l.proj, b.o);
  p.PostNormResidual(l.post_norm);
  ProfileScope scope(p.profile, Op::kNormRope);
  ScaleInPlace(b.x, l.output_scale, size_t(T) * c.n_embd);
}

Status ForwardImpl(const Config& c, const Weights& w, const int32_t* tokens, int T,
                   ForwardWorkspace& ws, float* hidden, OpProfile* profile) {
  Pass p{c, w, T, {}, profile};
  GGUFEMBED_RETURN_IF_ERROR(ws.arena.Carve([&](Arena& a) { p.b.Carve(a, c, w, T); }));
  const int d = c.n_embd;
  {
    ProfileScope scope(profile, Op::kOther);
    // Token embeddings, scaled by sqrt(n_embd); a copy feeds the per-layer inputs.
    for (int t = 0; t < T; ++t) {
      GGUFEMBED_DCHECK_OK(  // the type was checked at load
          DequantizeRow(w.token_embd.type, w.token_embd.Row(tokens[t]), p.b.x + size_t(t) * d, d));
    }
    ScaleInPlace(p.b.x, std::sqrt(static_cast<float>(d)), size_t(T) * d);
    std::copy_n(p.b.x, size_t(T) * d, p.b.x0);
  }
  p.Prepare(w.per_layer_model_proj, p.b.x0, d, p.b.in_x0);
  for (int il = 0; il < c.n_layer; ++il) {
    const LayerShape& s = c.layers[il];
    RopeTables::Table rope;
    {
      ProfileScope scope(profile, Op::kOther);
      rope = ws.rope.Get(s.rope_base, s.n_rot, T);
    }
    AttentionBlock(p, w.layers[il], s, rope);
    FeedForwardBlock(p, w.layers[il]);
    PerLayerBlock(p, w.layers[il], il);
  }
  p.Norm(p.b.x, w.output_norm, T, d, p.b.h);
  p.Prepare(w.output, p.b.h, d);
  p.Product(w.output, hidden);  // [T × n_embd_out]
  return OkStatus();
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed::gemma_embedding2
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufembed::gemma_embedding2 {

HWY_EXPORT(ForwardImpl);

Status Forward(const Config& config, const Weights& weights, const int32_t* tokens, int n_tokens,
               ForwardWorkspace& workspace, float* hidden, OpProfile* profile) {
  return HWY_DYNAMIC_DISPATCH(ForwardImpl)(config, weights, tokens, n_tokens, workspace, hidden,
                                           profile);
}

}  // namespace ggufembed::gemma_embedding2
#endif  // HWY_ONCE
