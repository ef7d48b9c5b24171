// The gemma-embedding2 forward pass on SIMD kernels, layer by layer as llama.cpp's
// src/models/gemma-embedding2.cpp computes it, to the projected per-token embeddings. Compiled
// once per SIMD target; bit-identical to reference_forward.cc on every target.
#include <algorithm>
#include <cmath>

#include "kernels/activation_quant.h"
#include "kernels/gelu.h"
#include "models/gemma_embedding2/model.h"
#include "util/error.h"
#include "util/profile.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "models/gemma_embedding2/forward.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "kernels/attention-inl.h"
#include "kernels/matmul-inl.h"
#include "kernels/norm_rope-inl.h"
#include "kernels/vec_math-inl.h"
#include "models/layer_steps-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed::gemma_embedding2 {
namespace HWY_NAMESPACE {
using namespace ::ggufembed::HWY_NAMESPACE;  // the kernels

// One pass over T tokens: the model, the shared layer steps and buffers, and the buffers of its
// attention (sized for the widest layer) and per-layer inputs, carved from the workspace's arena.
struct Pass {
  const Config& c;
  const Weights& w;
  LayerSteps s;
  float* x0 = nullptr;         // [T × n_embd] scaled token embeddings (for the per-layer inputs)
  float* q = nullptr;          // [T × n_head·hd] queries
  float* k = nullptr;          // [T × n_head_kv·hd] keys
  float* v = nullptr;          // [T × n_head_kv·hd_v] values
  float* att = nullptr;        // [T × n_head·hd_v] attention output, heads concatenated
  float* per_layer = nullptr;  // [T × n_embd_per_layer] this layer's per-layer input
  float* gate = nullptr;       // [T × n_embd_per_layer] GELU(inp_gate · x) · per_layer
  MatMulInput in_x0{};         // x0 prepared once for every layer's rows of per_layer_model_proj
  AttentionScratch attention{};

  void Carve(Arena& a) {
    const int T = s.T, d = c.n_embd, pl = c.n_embd_per_layer;
    const int q_dim = c.max_q_dim(), kv_dim = c.max_kv_dim();
    s.Carve(a, c.n_ff, std::max({d, q_dim, c.n_ff, pl}), MixedFfn(w.layers));
    x0 = a.Alloc<float>(uint64_t(T) * d);
    q = a.Alloc<float>(uint64_t(T) * q_dim);
    k = a.Alloc<float>(uint64_t(T) * kv_dim);
    v = a.Alloc<float>(uint64_t(T) * kv_dim);
    att = a.Alloc<float>(uint64_t(T) * q_dim);
    per_layer = a.Alloc<float>(uint64_t(T) * pl);
    gate = a.Alloc<float>(uint64_t(T) * pl);
    CarveMatMulInput(a, T, d, LayoutOf(NativeInt8Kernel()), &in_x0);
    CarveAttentionScratch(a, T, c.max_head_dim(), c.max_head_dim_v(), &attention);
  }
};

// Attention: pre-norm, projections, Q/K norms with weights, V norm without, RoPE, softmax
// attention with scale 1 over the layer's window, output projection, post-norm, residual.
void AttentionBlock(Pass& p, const LayerWeights& l, const LayerShape& shape,
                    const RopeTables::Table& rope) {
  const Config& c = p.c;
  LayerSteps& s = p.s;
  const int T = s.T;
  s.Norm(s.x, l.attn_norm, T, c.n_embd, s.h);
  s.ProjectQkv(l.attn_q, l.attn_k, l.attn_v, p.q, p.k, p.v);
  s.Norm(p.q, l.attn_q_norm, T * c.n_head, shape.head_dim, p.q);
  s.Norm(p.k, l.attn_k_norm, T * shape.n_head_kv, shape.head_dim, p.k);
  s.Norm(p.v, nullptr, T * shape.n_head_kv, shape.head_dim_v, p.v);
  s.Rope(p.q, c.n_head, shape.head_dim, shape.n_rot, rope);
  s.Rope(p.k, shape.n_head_kv, shape.head_dim, shape.n_rot, rope);
  s.Attend(p.q, p.k, p.v, c.n_head, shape.n_head_kv, shape.head_dim, shape.head_dim_v,
           shape.sliding ? c.n_swa / 2 : -1, p.attention, p.att);
  s.Prepare(l.attn_output, p.att, c.n_head * shape.head_dim_v);
  s.Product(l.attn_output, s.o);
  s.PostNormResidual(l.post_attention_norm);
}

// Per-layer input: P_il from the layer's rows of per_layer_model_proj, then GELU(inp_gate · x)
// times P_il, projected back to n_embd, post-normed and added; then the stream times the layer's
// scale.
void PerLayerBlock(Pass& p, const LayerWeights& l, int il) {
  const Config& c = p.c;
  LayerSteps& s = p.s;
  const int T = s.T, pl = c.n_embd_per_layer;
  s.Product(p.w.PerLayerProj(il, pl), p.per_layer, p.in_x0);
  {
    ProfileScope scope(s.profile, Op::kNormRope);
    ScaleInPlace(p.per_layer, 1.0f / std::sqrt(static_cast<float>(c.n_embd)), size_t(T) * pl);
  }
  s.Norm(p.per_layer, p.w.per_layer_proj_norm, T, pl, p.per_layer);
  s.Prepare(l.inp_gate, s.x, c.n_embd);
  s.Product(l.inp_gate, p.gate);
  {
    ProfileScope scope(s.profile, Op::kGeGLU);
    GeGluInPlace(p.gate, p.per_layer, size_t(T) * pl, GeluTable());
  }
  s.Prepare(l.proj, p.gate, pl);
  s.Product(l.proj, s.o);
  s.PostNormResidual(l.post_norm);
  ProfileScope scope(s.profile, Op::kNormRope);
  ScaleInPlace(s.x, l.output_scale, size_t(T) * c.n_embd);
}

Status ForwardImpl(const Config& c, const Weights& w, const PassTokens& tokens,
                   ForwardWorkspace& ws, float* hidden, OpProfile* profile) {
  const int T = tokens.n_tokens;
  Pass p{c, w, LayerSteps{tokens, T, c.n_embd, c.rms_eps, profile}};
  GGUFEMBED_RETURN_IF_ERROR(ws.arena.Carve([&](Arena& a) { p.Carve(a); }));
  LayerSteps& s = p.s;
  const int d = c.n_embd;
  GGUFEMBED_RETURN_IF_ERROR(s.EmbedTokens(w.token_embd, "token_embd.weight"));
  {
    ProfileScope scope(profile, Op::kOther);
    std::copy_n(s.x, size_t(T) * d, p.x0);  // the scaled embeddings feed the per-layer inputs
  }
  s.Prepare(w.per_layer_model_proj, p.x0, d, p.in_x0);
  for (int il = 0; il < c.n_layer; ++il) {
    const LayerShape& shape = c.layers[il];
    const LayerWeights& l = w.layers[il];
    RopeTables::Table rope;
    {
      ProfileScope scope(profile, Op::kOther);
      rope = ws.rope.Get(shape.rope_base, shape.n_rot, T);
    }
    AttentionBlock(p, l, shape, rope);
    GGUFEMBED_RETURN_IF_ERROR(s.CheckFinite(il, "attention"));
    s.FeedForward(l.ffn_norm, l.ffn_gate, l.ffn_up, l.ffn_down, l.post_ffw_norm);
    GGUFEMBED_RETURN_IF_ERROR(s.CheckFinite(il, "feed-forward"));
    PerLayerBlock(p, l, il);
    GGUFEMBED_RETURN_IF_ERROR(s.CheckFinite(il, "per-layer input"));
  }
  s.Norm(s.x, w.output_norm, T, d, s.h);
  s.Prepare(w.output, s.h, d);
  s.Product(w.output, hidden);  // [T × n_embd_out]
  return s.CheckOutput(hidden, c.n_embd_out, "output.weight",
                       "a weight of it is NaN or infinite, or the activations overflowed (this "
                       "model's can in F16 files: try the BF16 or Q8_0 file)");
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed::gemma_embedding2
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufembed::gemma_embedding2 {

HWY_EXPORT(ForwardImpl);

Status Forward(const Config& config, const Weights& weights, const PassTokens& tokens,
               ForwardWorkspace& workspace, float* hidden, OpProfile* profile) {
  return HWY_DYNAMIC_DISPATCH(ForwardImpl)(config, weights, tokens, workspace, hidden, profile);
}

}  // namespace ggufembed::gemma_embedding2
#endif  // HWY_ONCE
