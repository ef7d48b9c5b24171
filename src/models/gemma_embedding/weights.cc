// Binds and checks the gemma-embedding tensors named by llama.cpp's converter.
#include "models/gemma_embedding/weights.h"

#include <string>

#include "models/tensor_binder.h"
#include "util/error.h"

namespace ggufembed::gemma_embedding {

Result<Weights> Weights::FromGguf(const GgufFile& file, const Config& c) {
  Weights w;
  w.bytes_ = file.shared_bytes();
  TensorBinder b(file, &w.kept_);
  const int64_t d = c.n_embd, q = int64_t{c.n_head} * c.head_dim;
  const int64_t k = int64_t{c.n_head_kv} * c.head_dim, v = int64_t{c.n_head_kv} * c.head_dim_v;
  const int64_t o = int64_t{c.n_head} * c.head_dim_v;
  GGUFEMBED_ASSIGN_OR_RETURN(w.token_embd, b.BindMatrix("token_embd.weight", d, c.n_vocab));
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) {
    LayerWeights& l = w.layers[static_cast<size_t>(il)];
    const std::string p = "blk." + std::to_string(il) + ".";
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_norm, b.BindNorm(p + "attn_norm.weight", d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_q, b.BindMatrix(p + "attn_q.weight", d, q));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_k, b.BindMatrix(p + "attn_k.weight", d, k));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_v, b.BindMatrix(p + "attn_v.weight", d, v));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_q_norm, b.BindNorm(p + "attn_q_norm.weight", c.head_dim));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_k_norm, b.BindNorm(p + "attn_k_norm.weight", c.head_dim));
    GGUFEMBED_ASSIGN_OR_RETURN(l.attn_output, b.BindMatrix(p + "attn_output.weight", o, d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.post_attention_norm,
                               b.BindNorm(p + "post_attention_norm.weight", d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.ffn_norm, b.BindNorm(p + "ffn_norm.weight", d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.ffn_gate, b.BindMatrix(p + "ffn_gate.weight", d, c.n_ff));
    GGUFEMBED_ASSIGN_OR_RETURN(l.ffn_up, b.BindMatrix(p + "ffn_up.weight", d, c.n_ff));
    GGUFEMBED_ASSIGN_OR_RETURN(l.ffn_down, b.BindMatrix(p + "ffn_down.weight", c.n_ff, d));
    GGUFEMBED_ASSIGN_OR_RETURN(l.post_ffw_norm, b.BindNorm(p + "post_ffw_norm.weight", d));
  }
  GGUFEMBED_ASSIGN_OR_RETURN(w.output_norm, b.BindNorm("output_norm.weight", d));
  if (c.dense_dim > 0) {
    w.has_dense = true;
    GGUFEMBED_ASSIGN_OR_RETURN(w.dense_2, b.BindMatrix("dense_2.weight", d, c.dense_dim));
    GGUFEMBED_ASSIGN_OR_RETURN(w.dense_3, b.BindMatrix("dense_3.weight", c.dense_dim, d));
  }
  // The converter may write the tied output head (token_embd) for the LM; embeddings never use it.
  GGUFEMBED_RETURN_IF_ERROR(b.CheckAllUsed(c.architecture, {"output.weight"}));
  return w;
}

}  // namespace ggufembed::gemma_embedding
