// Binds and checks the gemma-embedding tensors named by llama.cpp's converter.
#include "models/gemma_embedding/weights.h"

#include <cinttypes>
#include <set>
#include <string>

namespace ggufembed {
namespace {

std::string ShapeText(const int64_t* ne, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// Looks up tensors by name and records which ones were used.
class Binder {
 public:
  Binder(const GgufFile& file, std::vector<std::unique_ptr<float[]>>* converted)
      : file_(file), converted_(converted) {}

  Result<const GgufTensorInfo*> Find(const std::string& name, std::vector<int64_t> ne) {
    const GgufTensorInfo* t = file_.FindTensor(name);
    if (t == nullptr) {
      return Error(StatusCode::kInvalidFile, "%s: tensor '%s' is missing", file_.name().c_str(),
                   name.c_str());
    }
    bool same = t->n_dims == ne.size();
    for (size_t i = 0; same && i < ne.size(); ++i) same = t->ne[i] == ne[i];
    if (!same) {
      return Error(StatusCode::kInvalidFile, "%s: tensor '%s' has shape %s, expected %s",
                   file_.name().c_str(), name.c_str(),
                   ShapeText(t->ne, static_cast<int>(t->n_dims)).c_str(),
                   ShapeText(ne.data(), static_cast<int>(ne.size())).c_str());
    }
    used_.insert(t->name);
    return t;
  }

  // ne = [cols, rows] as in the file.
  Result<Matrix> BindMatrix(const std::string& name, int64_t cols, int64_t rows) {
    GGUFEMBED_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name, {cols, rows}));
    if (!GetGgmlType(t->type).dequantizable) {
      return Error(StatusCode::kUnsupported,
                   "%s: tensor '%s' has type %s, which is not supported (supported: F32, F16, "
                   "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)",
                   file_.name().c_str(), name.c_str(), GetGgmlType(t->type).name);
    }
    return Matrix{t->name, t->type, t->data, rows, cols, t->row_bytes()};
  }

  Result<const float*> BindNorm(const std::string& name, int64_t n) {
    GGUFEMBED_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name, {n}));
    if (t->type == GgmlType::kF32) return reinterpret_cast<const float*>(t->data);
    if (t->type != GgmlType::kF16 && t->type != GgmlType::kBF16) {
      return Error(StatusCode::kUnsupported,
                   "%s: norm tensor '%s' has type %s (supported: F32, F16, BF16)",
                   file_.name().c_str(), name.c_str(), GetGgmlType(t->type).name);
    }
    converted_->push_back(std::make_unique<float[]>(static_cast<size_t>(n)));
    GGUFEMBED_RETURN_IF_ERROR(DequantizeRow(t->type, t->data, converted_->back().get(), n));
    return converted_->back().get();
  }

  // The first tensor in the file that nothing bound, other than the tied output head.
  Status CheckAllUsed() const {
    for (const GgufTensorInfo& t : file_.tensors()) {
      if (used_.count(t.name) || t.name == "output.weight") continue;
      return Error(StatusCode::kUnsupported,
                   "%s: tensor '%.*s' is not part of a gemma-embedding model; refusing to "
                   "ignore it",
                   file_.name().c_str(), static_cast<int>(t.name.size()), t.name.data());
    }
    return OkStatus();
  }

 private:
  const GgufFile& file_;
  std::vector<std::unique_ptr<float[]>>* converted_;
  std::set<std::string_view> used_;
};

}  // namespace

Result<ModelWeights> ModelWeights::FromGguf(const GgufFile& file, const ModelConfig& c) {
  ModelWeights w;
  w.bytes_ = file.shared_bytes();
  Binder b(file, &w.converted_norms_);
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
  GGUFEMBED_RETURN_IF_ERROR(b.CheckAllUsed());
  return w;
}

}  // namespace ggufembed
