// gemma-embedding in plain f32 scalar code, layer by layer, as llama.cpp's
// src/models/gemma-embedding.cpp computes it: the oracle the SIMD forward pass is tested against.
#include <cmath>
#include <vector>

#include "kernels/gelu.h"
#include "kernels/reference.h"
#include "models/gemma_embedding/model.h"
#include "util/check.h"

namespace ggufembed::gemma_embedding {

void ForwardReference(const Config& c, const Weights& w, const int32_t* tokens, int n_tokens,
                      float* hidden) {
  const int T = n_tokens, d = c.n_embd;
  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  const int v_dim = c.n_head_kv * c.head_dim_v, o_dim = c.n_head * c.head_dim_v;
  auto buffer = [](int rows, int cols) { return std::vector<float>(size_t(rows) * cols); };
  std::vector<float> x = buffer(T, d);       // residual stream
  std::vector<float> h = buffer(T, d);       // normed input of a sub-block
  std::vector<float> q = buffer(T, q_dim);   // queries, head-major within a row
  std::vector<float> k = buffer(T, kv_dim);  // keys
  std::vector<float> v = buffer(T, v_dim);   // values
  std::vector<float> a = buffer(T, o_dim);   // attention output, heads concatenated
  std::vector<float> o = buffer(T, d);       // sub-block output
  std::vector<float> g = buffer(T, c.n_ff);  // FFN gate, then GELU(gate) · up
  std::vector<float> u = buffer(T, c.n_ff);  // FFN up

  // Token embeddings, scaled by sqrt(n_embd) (f32, as llama.cpp's ggml_scale).
  const float embd_scale = std::sqrt(static_cast<float>(d));
  for (int t = 0; t < T; ++t) {
    GGUFEMBED_DCHECK_OK(
        DequantizeRow(w.token_embd.type, w.token_embd.Row(tokens[t]), &x[t * d], d));
    for (int i = 0; i < d; ++i) x[t * d + i] *= embd_scale;
  }

  const float q_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  for (int il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[il];
    const float rope_base = c.RopeBase(il);
    const int half_window = c.IsSlidingLayer(il) ? c.n_swa / 2 : -1;

    // Attention: pre-norm, projections, per-head Q/K norms, RoPE, scaled softmax attention.
    for (int t = 0; t < T; ++t) RmsNormReference(&x[t * d], l.attn_norm, d, c.rms_eps, &h[t * d]);
    MatMulReference(l.attn_q, h.data(), T, q.data());
    MatMulReference(l.attn_k, h.data(), T, k.data());
    MatMulReference(l.attn_v, h.data(), T, v.data());
    for (int t = 0; t < T; ++t) {
      for (int hh = 0; hh < c.n_head; ++hh) {
        float* qh = &q[t * q_dim + hh * c.head_dim];
        RmsNormReference(qh, l.attn_q_norm, c.head_dim, c.rms_eps, qh);
        RopeNeoxReference(qh, c.n_rot, t, rope_base);
        for (int i = 0; i < c.head_dim; ++i) qh[i] *= q_scale;
      }
      for (int hh = 0; hh < c.n_head_kv; ++hh) {
        float* kh = &k[t * kv_dim + hh * c.head_dim];
        RmsNormReference(kh, l.attn_k_norm, c.head_dim, c.rms_eps, kh);
        RopeNeoxReference(kh, c.n_rot, t, rope_base);
      }
    }
    AttentionReference(q.data(), k.data(), v.data(), T, c.n_head, c.n_head_kv, c.head_dim,
                       c.head_dim_v, half_window, a.data());
    MatMulReference(l.attn_output, a.data(), T, o.data());
    for (int t = 0; t < T; ++t) {
      RmsNormReference(&o[t * d], l.post_attention_norm, d, c.rms_eps, &o[t * d]);
      for (int i = 0; i < d; ++i) x[t * d + i] += o[t * d + i];
    }

    // Feed-forward: pre-norm, GeGLU (GELU on the gate times up), down, post-norm, residual.
    for (int t = 0; t < T; ++t) RmsNormReference(&x[t * d], l.ffn_norm, d, c.rms_eps, &h[t * d]);
    MatMulReference(l.ffn_gate, h.data(), T, g.data());
    MatMulReference(l.ffn_up, h.data(), T, u.data());
    for (size_t i = 0; i < g.size(); ++i) g[i] = GeluF16(g[i]) * u[i];
    MatMulReference(l.ffn_down, g.data(), T, o.data());
    for (int t = 0; t < T; ++t) {
      RmsNormReference(&o[t * d], l.post_ffw_norm, d, c.rms_eps, &o[t * d]);
      for (int i = 0; i < d; ++i) x[t * d + i] += o[t * d + i];
    }
  }
  for (int t = 0; t < T; ++t)
    RmsNormReference(&x[t * d], w.output_norm, d, c.rms_eps, &hidden[t * d]);
}

}  // namespace ggufembed::gemma_embedding
