// Embedder: tokenize (with the task prompt), run the forward pass, pool, project, normalize.
#include "embedder.h"

#include <algorithm>

#include "gguf.h"
#include "model_weights.h"
#include "pooling.h"
#include "prompts.h"
#include "reference_forward.h"
#include "reference_ops.h"
#include "tokenizer.h"

namespace ggufembed {

struct Embedder::Impl {
  GgufFile file;
  ModelConfig config;
  ModelWeights weights;
  Tokenizer tokenizer;
  ModelInfo info;
};

Embedder::Embedder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Embedder::~Embedder() = default;

Result<std::unique_ptr<Embedder>> Embedder::Load(const std::string& path) {
  GGUFEMBED_ASSIGN_OR_RETURN(std::shared_ptr<const FileBytes> bytes, FileBytes::Map(path));
  return Load(std::move(bytes), path);
}

Result<std::unique_ptr<Embedder>> Embedder::Load(std::shared_ptr<const FileBytes> bytes,
                                                 std::string name) {
  GGUFEMBED_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Parse(std::move(bytes), std::move(name)));
  GGUFEMBED_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::FromGguf(file));
  GGUFEMBED_ASSIGN_OR_RETURN(ModelWeights weights, ModelWeights::FromGguf(file, config));
  GGUFEMBED_ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::FromGguf(file));
  ModelInfo info{config.architecture, config.name,    config.output_dim(), config.n_ctx_train,
                 config.n_vocab,      config.pooling, weights.has_dense};
  return std::unique_ptr<Embedder>(new Embedder(std::unique_ptr<Impl>(
      new Impl{std::move(file), std::move(config), std::move(weights), std::move(tokenizer),
               std::move(info)})));
}

const ModelInfo& Embedder::info() const { return impl_->info; }
const std::vector<std::string>& Embedder::warnings() const { return impl_->config.warnings; }

Result<std::vector<int32_t>> Embedder::Tokenize(std::string_view text, bool add_special,
                                                bool parse_special) const {
  return impl_->tokenizer.Encode(text, add_special, parse_special);
}

std::string_view Embedder::TokenPiece(int32_t id) const { return impl_->tokenizer.Piece(id); }

Result<std::vector<Embedding>> Embedder::Embed(const std::vector<std::string>& texts,
                                               const EmbedOptions& options) const {
  const int full_dim = impl_->config.output_dim();
  if (options.dim < 0 || options.dim > full_dim) {
    return Error(StatusCode::kInvalidArgument,
                 "dim %d is outside the model's output size (1 to %d, or 0 for all)",
                 options.dim, full_dim);
  }
  if (!options.prompt.empty() && !options.prompt_text.empty()) {
    return Error(StatusCode::kInvalidArgument, "give a prompt name or a prompt text, not both");
  }
  std::string prefix = options.prompt_text;
  if (!options.prompt.empty()) {
    GGUFEMBED_ASSIGN_OR_RETURN(prefix, PromptPrefix(options.prompt, options.title));
  } else if (!options.title.empty()) {
    return Error(StatusCode::kInvalidArgument, "a title needs the document prompt");
  }
  const Pooling pooling = options.pooling.value_or(impl_->config.pooling);
  const int dim = options.dim > 0 ? options.dim : full_dim;
  std::vector<Embedding> out;
  out.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    Result<Embedding> e = EmbedOne(texts[i], options, prefix, pooling, dim);
    if (!e.ok()) {
      if (texts.size() == 1) return e.status();
      return Status(e.status().code(),
                    StrFormat("text %zu: %s", i, e.status().message().c_str()));
    }
    out.push_back(std::move(e).value());
  }
  return out;
}

Result<Embedding> Embedder::EmbedOne(const std::string& text, const EmbedOptions& options,
                                     const std::string& prefix, Pooling pooling, int dim) const {
  const ModelConfig& c = impl_->config;
  const ModelWeights& w = impl_->weights;
  const Tokenizer& tokenizer = impl_->tokenizer;
  GGUFEMBED_ASSIGN_OR_RETURN(std::vector<int32_t> tokens,
                             tokenizer.Encode(prefix + text, true, options.parse_special));
  Embedding e;
  e.n_input_tokens = static_cast<int>(tokens.size());
  if (e.n_input_tokens > c.n_ctx_train) {
    if (!options.truncate) {
      return Error(StatusCode::kInputTooLong,
                   "the text is %d tokens long, more than the model's context of %d tokens (use "
                   "truncation to embed its beginning)",
                   e.n_input_tokens, c.n_ctx_train);
    }
    // Keep the beginning and end the sequence with EOS again, as a tokenizer that truncates
    // before adding special tokens would.
    const bool eos = tokenizer.add_eos() && tokens.back() == tokenizer.eos_id();
    tokens.resize(static_cast<size_t>(c.n_ctx_train));
    if (eos) tokens.back() = tokenizer.eos_id();
    e.truncated = true;
  }
  const int T = static_cast<int>(tokens.size());
  e.n_tokens = T;
  if (T == 0) {
    return Error(StatusCode::kInvalidArgument,
                 "the text has no tokens (the file adds neither BOS nor EOS)");
  }

  std::vector<float> hidden(size_t(T) * c.n_embd);  // [T × n_embd]
  ReferenceForward(c, w, tokens.data(), T, hidden.data());
  e.rows = PooledRows(pooling, T);
  std::vector<float> pooled(size_t(e.rows) * c.n_embd);  // [rows × n_embd]
  Pool(pooling, hidden.data(), T, c.n_embd, pooled.data());
  if (w.has_dense) {  // sentence-transformers Dense layers: n_embd -> dense_dim -> n_embd
    std::vector<float> wide(size_t(e.rows) * c.dense_dim);  // [rows × dense_dim]
    MatMulReference(w.dense_2, pooled.data(), e.rows, wide.data());
    MatMulReference(w.dense_3, wide.data(), e.rows, pooled.data());
  }
  e.dim = dim;
  e.values.resize(size_t(e.rows) * dim);
  for (int r = 0; r < e.rows; ++r) {
    float* row = &e.values[size_t(r) * dim];
    std::copy_n(&pooled[size_t(r) * c.n_embd], dim, row);  // Matryoshka: the first `dim` values
    if (options.normalize) NormalizeL2(row, dim);
  }
  return e;
}

}  // namespace ggufembed
