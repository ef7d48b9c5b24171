// gemma-embedding through the architecture seam: load (config, then weights), both forward
// passes, and the multiply-add count of one pass.
#include "models/gemma_embedding/model.h"

#include <algorithm>
#include <memory>

#include "util/error.h"

namespace ggufembed::gemma_embedding {
namespace {

class GemmaEmbedding final : public Model {
 public:
  GemmaEmbedding(ModelHead head, Config config, Weights weights)
      : Model(std::move(head)), config_(std::move(config)), weights_(std::move(weights)) {}

  Status Forward(const PassTokens& tokens, ForwardWorkspace& workspace, float* hidden,
                 OpProfile* profile) const override {
    return gemma_embedding::Forward(config_, weights_, tokens, workspace, hidden, profile);
  }

  void ForwardReference(const int32_t* tokens, int n_tokens, float* hidden) const override {
    gemma_embedding::ForwardReference(config_, weights_, tokens, n_tokens, hidden);
  }

  double MultiplyAdds(int T) const override {
    const Config& c = config_;
    const double q_dim = double(c.n_head) * c.head_dim, kv_dim = double(c.n_head_kv) * c.head_dim;
    const double v_dim = double(c.n_head_kv) * c.head_dim_v;
    const double o_dim = double(c.n_head) * c.head_dim_v;
    const double per_token =
        c.n_embd * (q_dim + kv_dim + v_dim) + o_dim * c.n_embd + 3.0 * c.n_embd * c.n_ff;
    double total = 0;
    for (int il = 0; il < c.n_layer; ++il) {
      total += per_token * T;
      const int half = c.IsSlidingLayer(il) ? c.n_swa / 2 : T;
      for (int t = 0; t < T; ++t) {  // scores and value sums over each query's window
        const int keys = std::min(T - 1, t + half) - std::max(0, t - half) + 1;
        total += double(keys) * c.n_head * (c.head_dim + c.head_dim_v);
      }
    }
    return total;
  }

 private:
  Config config_;
  Weights weights_;
};

Result<std::unique_ptr<Model>> Load(const GgufFile& file) {
  GGUFEMBED_ASSIGN_OR_RETURN(Config config, Config::FromGguf(file));
  GGUFEMBED_ASSIGN_OR_RETURN(Weights weights, Weights::FromGguf(file, config));
  // dense_3, when present, maps back to n_embd: the output is as wide as the hidden states.
  ModelHead head{.architecture = config.architecture,
                 .name = config.name,
                 .n_ctx = config.n_ctx_train,
                 .n_embd = config.n_embd,
                 .n_vocab = config.n_vocab,
                 .pooling = config.pooling,
                 .projections = {},
                 .output_dim = config.n_embd,
                 .warnings = config.warnings};
  if (weights.has_dense) head.projections = {weights.dense_2, weights.dense_3};
  return std::unique_ptr<Model>(
      new GemmaEmbedding(std::move(head), std::move(config), std::move(weights)));
}

}  // namespace

const Architecture kArchitecture = {"gemma-embedding", Load};

}  // namespace ggufembed::gemma_embedding
