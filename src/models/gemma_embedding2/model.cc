// gemma-embedding2 through the architecture seam: load (config, then weights), both forward
// passes, and the multiply-add count of one pass. The `output` projection runs per token inside
// the forward pass, as in llama.cpp, so the head pools the projected rows.
#include "models/gemma_embedding2/model.h"

#include <algorithm>
#include <memory>

#include "util/error.h"

namespace ggufembed::gemma_embedding2 {
namespace {

class GemmaEmbedding2 final : public Model {
 public:
  GemmaEmbedding2(ModelHead head, Config config, Weights weights)
      : Model(std::move(head)), config_(std::move(config)), weights_(std::move(weights)) {}

  Status Forward(const PassTokens& tokens, ForwardWorkspace& workspace, float* hidden,
                 OpProfile* profile) const override {
    return gemma_embedding2::Forward(config_, weights_, tokens, workspace, hidden, profile);
  }

  void ForwardReference(const int32_t* tokens, int n_tokens, float* hidden) const override {
    gemma_embedding2::ForwardReference(config_, weights_, tokens, n_tokens, hidden);
  }

  double MultiplyAdds(int T) const override {
    const Config& c = config_;
    const double d = c.n_embd, pl = c.n_embd_per_layer;
    double total = double(T) * c.n_embd_out * d;  // output projection
    for (int il = 0; il < c.n_layer; ++il) {
      const LayerShape& s = c.layers[il];
      const double q = double(c.n_head) * s.head_dim, o = double(c.n_head) * s.head_dim_v;
      const double kv = double(s.n_head_kv) * (s.head_dim + s.head_dim_v);
      // Projections, FFN, and the per-layer input (its rows of the projection, gate, proj).
      total += double(T) * (d * (q + kv) + o * d + 3.0 * d * c.n_ff + 3.0 * d * pl);
      const int half = s.sliding ? c.n_swa / 2 : T;
      for (int t = 0; t < T; ++t) {  // scores and value sums over each query's window
        const int keys = std::min(T - 1, t + half) - std::max(0, t - half) + 1;
        total += double(keys) * c.n_head * (s.head_dim + s.head_dim_v);
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
  // The forward pass ends with the `output` projection: its hidden states are the output width.
  ModelHead head{.architecture = config.architecture,
                 .name = config.name,
                 .n_ctx = config.n_ctx_train,
                 .n_embd = config.n_embd_out,
                 .n_vocab = config.n_vocab,
                 .pooling = config.pooling,
                 .projections = {},
                 .output_dim = config.n_embd_out,
                 .warnings = config.warnings};
  return std::unique_ptr<Model>(
      new GemmaEmbedding2(std::move(head), std::move(config), std::move(weights)));
}

}  // namespace

const Architecture kArchitecture = {"gemma-embedding2", Load};

}  // namespace ggufembed::gemma_embedding2
