// Binds and checks the gemma-embedding2 tensors named by llama.cpp's converter.
#include "models/gemma_embedding2/weights.h"

#include <string>

#include "models/tensor_binder.h"
#include "util/error.h"

namespace ggufembed::gemma_embedding2 {

Matrix Weights::PerLayerProj(int il, int n_embd_per_layer) const {
  Matrix m = per_layer_model_proj;
  m.data = m.Row(int64_t{il} * n_embd_per_layer);
  m.rows = n_embd_per_layer;
  m.bf16_range = nullptr;  // the whole matrix's: a slice's products check their own rows
  return m;
}

Result<Weights> Weights::FromGguf(const GgufFile& file, const Config& c) {
  Weights w;
  w.bytes_ = file.shared_bytes();
  TensorBinder b(file, &w.kept_);
  const int64_t d = c.n_embd, pl = c.n_embd_per_layer;
  GGUFEMBED_ASSIGN_OR_RETURN(w.token_embd, b.BindMatrix("token_embd.weight", d, c.n_vocab));
  GGUFEMBED_ASSIGN_OR_RETURN(w.per_layer_model_proj,
                             b.BindMatrix("per_layer_model_proj.weight", d, pl * c.n_layer));
  GGUFEMBED_ASSIGN_OR_RETURN(w.per_layer_proj_norm, b.BindNorm("per_layer_proj_norm.weight", pl));
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) {
    const LayerShape& s = c.layers[il];
    const int64_t q = int64_t{c.n_head} * s.head_dim, o = int64_t{c.n_head} * s.head_dim_v;
    const int64_t k = int64_t{s.n_head_kv} * s.head_dim, v = int64_t{s.n_head_kv} * s.head_dim_v;
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string p = "blk." + std::to_string(il) + ".";
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_norm, b.BindNorm(p + "attn_norm.weight", d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_q, b.BindMatrix(p + "attn_q.weight", d, q));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_k, b.BindMatrix(p + "attn_k.weight", d, k));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_v, b.BindMatrix(p + "attn_v.weight", d, v));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_q_norm, b.BindNorm(p + "attn_q_norm.weight", s.head_dim));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_k_norm, b.BindNorm(p + "attn_k_norm.weight", s.head_dim));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_output, b.BindMatrix(p + "attn_output.weight", o, d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.post_attention_norm,
                               b.BindNorm(p + "post_attention_norm.weight", d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.ffn_norm, b.BindNorm(p + "ffn_norm.weight", d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.ffn_gate, b.BindMatrix(p + "ffn_gate.weight", d, c.n_ff));
    GGUFEMBED_ASSIGN_OR_RETURN(l.ffn_up, b.BindMatrix(p + "ffn_up.weight", d, c.n_ff));
    GGUFEMBED_ASSIGN_OR_RETURN(l.ffn_down, b.BindMatrix(p + "ffn_down.weight", c.n_ff, d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.post_ffw_norm, b.BindNorm(p + "post_ffw_norm.weight", d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.inp_gate, b.BindMatrix(p + "inp_gate.weight", d, pl));
    GGUFEMBED_ASSIGN_OR_RETURN(l.proj, b.BindMatrix(p + "proj.weight", pl, d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.post_norm, b.BindNorm(p + "post_norm.weight", d));
    GGUFEMBED_ASSIGN_OR_RETURN(const float* scale, b.BindNorm(p + "layer_output_scale.weight", 1));
    l.output_scale = *scale;
  }
  GGUFEMBED_ASSIGN_OR_RETURN(w.output_norm, b.BindNorm("output_norm.weight", d));
  GGUFEMBED_ASSIGN_OR_RETURN(w.output, b.BindMatrix("output.weight", d, c.n_embd_out));
  GGUFEMBED_RETURN_IF_ERROR(b.CheckAllUsed(c.architecture, {}));
  return w;
}

}  // namespace ggufembed::gemma_embedding2
