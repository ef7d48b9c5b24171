// The gemma-embedding forward pass on SIMD kernels, layer by layer as llama.cpp's
// src/models/gemma-embedding.cpp computes it, to the final-normed hidden states. Compiled once
// per SIMD target (Highway's foreach_target); Model::Forward dispatches to the best one per call.
// Bit-identical to reference_forward.cc on every target.
#include <algorithm>
#include <cmath>

#include "kernels/activation_quant.h"
#include "models/gemma_embedding/model.h"
#include "util/error.h"
#include "util/profile.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "models/gemma_embedding/forward.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "kernels/attention-inl.h"
#include "kernels/matmul-inl.h"
#include "kernels/norm_rope-inl.h"
#include "kernels/vec_math-inl.h"
#include "models/layer_steps-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed::gemma_embedding {
namespace HWY_NAMESPACE {
using namespace ::ggufembed::HWY_NAMESPACE;  // the kernels

// One pass over T tokens: the model, the shared layer steps and buffers, and attention's own,
// every buffer carved from the workspace's arena.
struct Pass {
  const Config& c;
  const Weights& w;
  LayerSteps s;
  float* q = nullptr;    // [T × n_head·head_dim] queries
  float* k = nullptr;    // [T × n_head_kv·head_dim] keys
  float* v = nullptr;    // [T × n_head_kv·head_dim_v] values
  float* att = nullptr;  // [T × n_head·head_dim_v] attention output, heads concatenated
  AttentionScratch attention{};

  void Carve(Arena& a) {
    const int T = s.T, q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
    const int v_dim = c.n_head_kv * c.head_dim_v, o_dim = c.n_head * c.head_dim_v;
    s.Carve(a, c.n_ff, std::max({c.n_embd, o_dim, c.n_ff}), MixedFfn(w.layers));
    q = a.Alloc<float>(uint64_t(T) * q_dim);
    k = a.Alloc<float>(uint64_t(T) * kv_dim);
    v = a.Alloc<float>(uint64_t(T) * v_dim);
    att = a.Alloc<float>(uint64_t(T) * o_dim);
    CarveAttentionScratch(a, T, c.head_dim, c.head_dim_v, &attention);
  }
};

// Attention: pre-norm, projections, per-head Q/K norms, RoPE, scaled softmax attention over the
// layer's window, output projection, post-norm, residual.
void AttentionBlock(Pass& p, const LayerWeights& l, const RopeTables::Table& rope,
                    int half_window) {
  const Config& c = p.c;
  LayerSteps& s = p.s;
  const int T = s.T;
  s.Norm(s.x, l.attn_norm, T, c.n_embd, s.h);
  s.ProjectQkv(l.attn_q, l.attn_k, l.attn_v, p.q, p.k, p.v);
  s.Norm(p.q, l.attn_q_norm, T * c.n_head, c.head_dim, p.q);
  s.Norm(p.k, l.attn_k_norm, T * c.n_head_kv, c.head_dim, p.k);
  s.Rope(p.q, c.n_head, c.head_dim, c.n_rot, rope);
  s.Rope(p.k, c.n_head_kv, c.head_dim, c.n_rot, rope);
  {
    ProfileScope scope(s.profile, Op::kNormRope);
    const float q_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    ScaleInPlace(p.q, q_scale, size_t(T) * c.n_head * c.head_dim);
  }
  s.Attend(p.q, p.k, p.v, c.n_head, c.n_head_kv, c.head_dim, c.head_dim_v, half_window, p.attention,
           p.att);
  s.Prepare(l.attn_output, p.att, c.n_head * c.head_dim_v);
  s.Product(l.attn_output, s.o);
  s.PostNormResidual(l.post_attention_norm);
}

Status ForwardImpl(const Config& c, const Weights& w, const PassTokens& tokens,
                   ForwardWorkspace& ws, float* hidden, OpProfile* profile) {
  const int T = tokens.n_tokens;
  Pass p{c, w, LayerSteps{tokens, T, c.n_embd, c.rms_eps, profile}};
  GGUFEMBED_RETURN_IF_ERROR(ws.arena.Carve([&](Arena& a) { p.Carve(a); }));
  LayerSteps& s = p.s;
  const int d = c.n_embd;
  GGUFEMBED_RETURN_IF_ERROR(s.EmbedTokens(w.token_embd, "token_embd.weight"));
  for (int il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[il];
    RopeTables::Table rope;
    {
      ProfileScope scope(profile, Op::kOther);
      rope = ws.rope.Get(c.RopeBase(il), c.n_rot, T);
    }
    AttentionBlock(p, l, rope, c.IsSlidingLayer(il) ? c.n_swa / 2 : -1);
    GGUFEMBED_RETURN_IF_ERROR(s.CheckFinite(il, "attention"));
    s.FeedForward(l.ffn_norm, l.ffn_gate, l.ffn_up, l.ffn_down, l.post_ffw_norm);
    GGUFEMBED_RETURN_IF_ERROR(s.CheckFinite(il, "feed-forward"));
  }
  s.Norm(s.x, w.output_norm, T, d, hidden);  // [T × n_embd]
  return OkStatus();
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed::gemma_embedding
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufembed::gemma_embedding {

HWY_EXPORT(ForwardImpl);

Status Forward(const Config& config, const Weights& weights, const PassTokens& tokens,
               ForwardWorkspace& workspace, float* hidden, OpProfile* profile) {
  return HWY_DYNAMIC_DISPATCH(ForwardImpl)(config, weights, tokens, workspace, hidden, profile);
}

}  // namespace ggufembed::gemma_embedding
#endif  // HWY_ONCE
