// gemma-embedding2 in plain f32 scalar code, layer by layer as llama.cpp's
// src/models/gemma-embedding2.cpp computes it: the oracle the SIMD forward pass is tested
// against.
#include <cmath>
#include <vector>

#include "kernels/gelu.h"
#include "kernels/reference.h"
#include "models/gemma_embedding2/model.h"
#include "util/check.h"

namespace ggufembed::gemma_embedding2 {
namespace {

using Buffer = std::vector<float>;

// The layer's per-layer input P_il [T × n_pl]: its rows of per_layer_model_proj times the scaled
// token embeddings, times 1/sqrt(n_embd), RMS-normed with the shared weight.
void PerLayerInput(const Config& c, const Weights& w, int il, const Buffer& x0, int T, Buffer& p) {
  const int pl = c.n_embd_per_layer;
  MatMulReference(w.PerLayerProj(il, pl), x0.data(), T, p.data());
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.n_embd));
  for (float& v : p) v *= scale;
  for (int t = 0; t < T; ++t) {
    RmsNormReference(&p[size_t(t) * pl], w.per_layer_proj_norm, pl, c.rms_eps, &p[size_t(t) * pl]);
  }
}

// Attention of layer il: pre-norm, projections, Q/K norms with weights, V norm without, RoPE,
// softmax attention (scale 1) over the layer's window, output projection; into `o`.
void AttentionBlock(const Config& c, const LayerWeights& l, const LayerShape& shape,
                    const Buffer& x, int T, Buffer& h, Buffer& o) {
  const int d = c.n_embd, hd = shape.head_dim, hdv = shape.head_dim_v;
  const int q_dim = c.n_head * hd, k_dim = shape.n_head_kv * hd, v_dim = shape.n_head_kv * hdv;
  Buffer q(size_t(T) * q_dim), k(size_t(T) * k_dim), v(size_t(T) * v_dim);
  Buffer a(size_t(T) * c.n_head * hdv);
  for (int t = 0; t < T; ++t) RmsNormReference(&x[t * d], l.attn_norm, d, c.rms_eps, &h[t * d]);
  MatMulReference(l.attn_q, h.data(), T, q.data());
  MatMulReference(l.attn_k, h.data(), T, k.data());
  MatMulReference(l.attn_v, h.data(), T, v.data());
  for (int t = 0; t < T; ++t) {
    for (int hh = 0; hh < c.n_head; ++hh) {
      float* qh = &q[size_t(t) * q_dim + hh * hd];
      RmsNormReference(qh, l.attn_q_norm, hd, c.rms_eps, qh);
      RopeNeoxReference(qh, shape.n_rot, t, shape.rope_base);
    }
    for (int hh = 0; hh < shape.n_head_kv; ++hh) {
      float* kh = &k[size_t(t) * k_dim + hh * hd];
      RmsNormReference(kh, l.attn_k_norm, hd, c.rms_eps, kh);
      RopeNeoxReference(kh, shape.n_rot, t, shape.rope_base);
      float* vh = &v[size_t(t) * v_dim + hh * hdv];
      RmsNormReference(vh, nullptr, hdv, c.rms_eps, vh);
    }
  }
  AttentionReference(q.data(), k.data(), v.data(), T, c.n_head, shape.n_head_kv, hd, hdv,
                     shape.sliding ? c.n_swa / 2 : -1, a.data());
  MatMulReference(l.attn_output, a.data(), T, o.data());
}

// x += RMSNorm(o) with `norm`, row by row.
void PostNormResidual(const Config& c, const float* norm, int T, Buffer& o, Buffer& x) {
  const int d = c.n_embd;
  for (int t = 0; t < T; ++t) {
    RmsNormReference(&o[t * d], norm, d, c.rms_eps, &o[t * d]);
    for (int i = 0; i < d; ++i) x[t * d + i] = o[t * d + i] + x[t * d + i];
  }
}

}  // namespace

void ForwardReference(const Config& c, const Weights& w, const int32_t* tokens, int T,
                      float* hidden) {
  const int d = c.n_embd, pl = c.n_embd_per_layer;
  Buffer x(size_t(T) * d), x0(size_t(T) * d), h(size_t(T) * d), o(size_t(T) * d);
  Buffer g(size_t(T) * c.n_ff), u(size_t(T) * c.n_ff), p(size_t(T) * pl), gate(size_t(T) * pl);

  // Token embeddings scaled by sqrt(n_embd) (f32, as ggml_scale); x0 feeds the per-layer inputs.
  const float embd_scale = std::sqrt(static_cast<float>(d));
  for (int t = 0; t < T; ++t) {
    GGUFEMBED_DCHECK_OK(
        DequantizeRow(w.token_embd.type, w.token_embd.Row(tokens[t]), &x[t * d], d));
    for (int i = 0; i < d; ++i) x[t * d + i] *= embd_scale;
  }
  x0 = x;

  for (int il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[il];
    AttentionBlock(c, l, c.layers[il], x, T, h, o);
    PostNormResidual(c, l.post_attention_norm, T, o, x);

    // Feed-forward: pre-norm, GeGLU (GELU on the gate times up), down, post-norm, residual.
    for (int t = 0; t < T; ++t) RmsNormReference(&x[t * d], l.ffn_norm, d, c.rms_eps, &h[t * d]);
    MatMulReference(l.ffn_gate, h.data(), T, g.data());
    MatMulReference(l.ffn_up, h.data(), T, u.data());
    for (size_t i = 0; i < g.size(); ++i) g[i] = GeluF16(g[i]) * u[i];
    MatMulReference(l.ffn_down, g.data(), T, o.data());
    PostNormResidual(c, l.post_ffw_norm, T, o, x);

    // Per-layer input: GELU(inp_gate · x) times P_il, projected back, post-normed, added; then
    // the whole stream times the layer's scale.
    PerLayerInput(c, w, il, x0, T, p);
    MatMulReference(l.inp_gate, x.data(), T, gate.data());
    for (size_t i = 0; i < gate.size(); ++i) gate[i] = GeluF16(gate[i]) * p[i];
    MatMulReference(l.proj, gate.data(), T, o.data());
    PostNormResidual(c, l.post_norm, T, o, x);
    for (float& v : x) v *= l.output_scale;
  }
  for (int t = 0; t < T; ++t) RmsNormReference(&x[t * d], w.output_norm, d, c.rms_eps, &h[t * d]);
  MatMulReference(w.output, h.data(), T, hidden);  // [T × n_embd_out]
}

}  // namespace ggufembed::gemma_embedding2
