// Embedder: tokenize (with the task prompt), run the forward pass, pool, project, normalize.
#include "ggufembed/embedder.h"

#include <algorithm>
#include <mutex>

#include "models/gemma_embedding/forward.h"
#include "gguf/gguf.h"
#include "models/gemma_embedding/weights.h"
#include "embed/head.h"
#include "text/prompts.h"
#include "models/gemma_embedding/reference_forward.h"
#include "kernels/reference.h"
#include "text/tokenizer.h"

namespace ggufembed {

// The memory of one call: kept between calls so that steady use allocates nothing.
struct Embedder::Workspace {
  std::string text;              // prompt + text
  TokenizerScratch tokenizer;
  std::vector<int32_t> tokens;
  ForwardWorkspace forward;
  std::vector<float> pooled;     // [rows × n_embd], then [rows × dim] at the front
};

struct Embedder::Impl {
  Impl(GgufFile f, ModelConfig c, ModelWeights w, Tokenizer t, ModelInfo i)
      : file(std::move(f)),
        config(std::move(c)),
        weights(std::move(w)),
        tokenizer(std::move(t)),
        info(std::move(i)) {}

  GgufFile file;
  ModelConfig config;
  ModelWeights weights;
  Tokenizer tokenizer;
  ModelInfo info;
  // Workspaces not in use: each call takes one (creating it only when none is free), so
  // concurrent calls never share memory and a steady single caller allocates nothing.
  std::mutex workspaces_mutex;
  std::vector<std::unique_ptr<Workspace>> free_workspaces;

  std::unique_ptr<Workspace> AcquireWorkspace() {
    std::lock_guard<std::mutex> lock(workspaces_mutex);
    if (free_workspaces.empty()) {
      free_workspaces.reserve(free_workspaces.capacity() + 1);  // room to give it back
      return std::make_unique<Workspace>();
    }
    std::unique_ptr<Workspace> ws = std::move(free_workspaces.back());
    free_workspaces.pop_back();
    return ws;
  }
  void ReleaseWorkspace(std::unique_ptr<Workspace> ws) {
    std::lock_guard<std::mutex> lock(workspaces_mutex);
    free_workspaces.push_back(std::move(ws));
  }
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
  return std::unique_ptr<Embedder>(new Embedder(
      std::make_unique<Impl>(std::move(file), std::move(config), std::move(weights),
                             std::move(tokenizer), std::move(info))));
}

const ModelInfo& Embedder::info() const { return impl_->info; }
const ModelConfig& Embedder::config() const { return impl_->config; }
uint64_t Embedder::file_size() const { return impl_->file.shared_bytes()->size(); }
const std::vector<std::string>& Embedder::warnings() const { return impl_->config.warnings; }

Result<std::vector<int32_t>> Embedder::Tokenize(std::string_view text, bool add_special,
                                                bool parse_special) const {
  return impl_->tokenizer.Encode(text, add_special, parse_special);
}

std::string_view Embedder::TokenPiece(int32_t id) const { return impl_->tokenizer.Piece(id); }

Status Embedder::CheckOptions(const EmbedOptions& options) const {
  const int full_dim = impl_->config.output_dim();
  if (options.dim < 0 || options.dim > full_dim) {
    return Error(StatusCode::kInvalidArgument,
                 "dim %d is outside the model's output size (1 to %d, or 0 for all)",
                 options.dim, full_dim);
  }
  if (!options.prompt.empty() && !options.prompt_text.empty()) {
    return Error(StatusCode::kInvalidArgument, "give a prompt name or a prompt text, not both");
  }
  if (options.prompt.empty() && !options.title.empty()) {
    return Error(StatusCode::kInvalidArgument, "a title needs the document prompt");
  }
  return OkStatus();
}

Result<std::vector<Embedding>> Embedder::Embed(const std::vector<std::string>& texts,
                                               const EmbedOptions& options) const {
  GGUFEMBED_RETURN_IF_ERROR(CheckOptions(options));
  if (!options.prompt.empty()) {  // an unknown prompt fails before any work
    GGUFEMBED_RETURN_IF_ERROR(PromptPrefix(options.prompt, options.title).status());
  }
  std::unique_ptr<Workspace> ws = impl_->AcquireWorkspace();
  std::vector<Embedding> out;
  out.reserve(texts.size());
  Status status;
  for (size_t i = 0; i < texts.size() && status.ok(); ++i) {
    Embedding e;
    status = Run(texts[i], options, *ws, &e, nullptr);
    if (!status.ok()) {
      if (texts.size() > 1) {
        status = Status(status.code(), StrFormat("text %zu: %s", i, status.message().c_str()));
      }
      break;
    }
    e.values.assign(ws->pooled.begin(), ws->pooled.begin() + size_t(e.rows) * e.dim);
    out.push_back(std::move(e));
  }
  impl_->ReleaseWorkspace(std::move(ws));
  GGUFEMBED_RETURN_IF_ERROR(status);
  return out;
}

Status Embedder::EmbedInto(std::string_view text, const EmbedOptions& options, float* out,
                           size_t capacity, EmbeddingInfo* info, OpProfile* profile) const {
  GGUFEMBED_RETURN_IF_ERROR(CheckOptions(options));
  std::unique_ptr<Workspace> ws = impl_->AcquireWorkspace();
  EmbeddingInfo result;
  Status status = Run(text, options, *ws, &result, profile);
  const size_t n = size_t(result.rows) * result.dim;
  if (status.ok() && n > capacity) {
    status = Error(StatusCode::kInvalidArgument,
                   "the output has room for %zu floats, but the embedding has %d × %d = %zu",
                   capacity, result.rows, result.dim, n);
  }
  if (status.ok()) {
    std::copy_n(ws->pooled.data(), n, out);
    *info = result;
  }
  impl_->ReleaseWorkspace(std::move(ws));
  return status;
}

Status Embedder::Run(std::string_view text, const EmbedOptions& options, Workspace& ws,
                     EmbeddingInfo* e, OpProfile* profile) const {
  const ModelConfig& c = impl_->config;
  const ModelWeights& w = impl_->weights;
  const Tokenizer& tokenizer = impl_->tokenizer;
  ws.text.clear();
  if (!options.prompt.empty()) {
    GGUFEMBED_RETURN_IF_ERROR(AppendPromptPrefix(options.prompt, options.title, &ws.text));
  } else {
    ws.text.append(options.prompt_text);
  }
  ws.text.append(text);
  std::vector<int32_t>& tokens = ws.tokens;
  GGUFEMBED_RETURN_IF_ERROR(
      tokenizer.EncodeInto(ws.text, true, options.parse_special, ws.tokenizer, &tokens));
  e->n_input_tokens = static_cast<int>(tokens.size());
  if (e->n_input_tokens > c.n_ctx_train) {
    if (!options.truncate) {
      return Error(StatusCode::kInputTooLong,
                   "the text is %d tokens long, more than the model's context of %d tokens (use "
                   "truncation to embed its beginning)",
                   e->n_input_tokens, c.n_ctx_train);
    }
    // Keep the beginning and end the sequence with EOS again, as a tokenizer that truncates
    // before adding special tokens would.
    const bool eos = tokenizer.add_eos() && tokens.back() == tokenizer.eos_id();
    tokens.resize(static_cast<size_t>(c.n_ctx_train));
    if (eos) tokens.back() = tokenizer.eos_id();
    e->truncated = true;
  }
  const int T = static_cast<int>(tokens.size());
  e->n_tokens = T;
  if (T == 0) {
    return Error(StatusCode::kInvalidArgument,
                 "the text has no tokens (the file adds neither BOS nor EOS)");
  }

  const Pooling pooling = options.pooling.value_or(c.pooling);
  const int dim = options.dim > 0 ? options.dim : c.output_dim();
  e->rows = PooledRows(pooling, T);
  e->dim = dim;
  std::vector<float>& pooled = ws.pooled;  // [rows × n_embd]
  if (pooled.size() < size_t(e->rows) * c.n_embd) pooled.resize(size_t(e->rows) * c.n_embd);
  if (options.reference) {
    std::vector<float> hidden(size_t(T) * c.n_embd);  // [T × n_embd]
    ReferenceForward(c, w, tokens.data(), T, hidden.data());
    Pool(pooling, hidden.data(), T, c.n_embd, pooled.data());
    if (w.has_dense) {  // sentence-transformers Dense layers: n_embd -> dense_dim -> n_embd
      std::vector<float> wide(size_t(e->rows) * c.dense_dim);  // [rows × dense_dim]
      MatMulReference(w.dense_2, pooled.data(), e->rows, wide.data());
      MatMulReference(w.dense_3, wide.data(), e->rows, pooled.data());
    }
  } else {
    GGUFEMBED_RETURN_IF_ERROR(
        ForwardPooled(c, w, tokens.data(), T, pooling, ws.forward, pooled.data(), profile));
  }
  // Matryoshka: the first `dim` values of each row, moved to the front ([rows × dim]).
  for (int r = 0; r < e->rows; ++r) {
    float* row = &pooled[size_t(r) * dim];
    std::copy_n(&pooled[size_t(r) * c.n_embd], dim, row);  // dim <= n_embd: never overtakes
    if (options.normalize) NormalizeL2(row, dim);
  }
  return OkStatus();
}

}  // namespace ggufembed
