// Embedder: the public C++ API — load a gemma-embedding GGUF, turn texts into vectors.
#ifndef GGUFEMBED_SRC_EMBEDDER_H_
#define GGUFEMBED_SRC_EMBEDDER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/file_bytes.h"
#include "models/gemma_embedding/config.h"
#include "util/profile.h"
#include "ggufembed/status.h"

namespace ggufembed {

struct EmbedOptions {
  // A task prompt prepended as plain text (see PromptNames()), or empty for the raw text.
  std::string prompt;
  // The title for the "document" prompt ("none" when empty).
  std::string title;
  // Any other prefix, instead of a named prompt.
  std::string prompt_text;
  // Matryoshka size: keep the first `dim` components (then renormalize); 0 keeps all.
  int dim = 0;
  // L2-normalize the result (after truncation to `dim`).
  bool normalize = true;
  // Cut inputs longer than the context instead of failing; the result says so.
  bool truncate = false;
  // Text that spells a special token, like "<eos>", becomes that token (as in llama-embedding,
  // llama-server and Hugging Face tokenizers). False treats it as plain text.
  bool parse_special = true;
  // Overrides the file's pooling type.
  std::optional<Pooling> pooling;
  // Runs the plain scalar reference instead of the SIMD forward pass (the same bits, many times
  // slower): for checking results.
  bool reference = false;
};

// What an embedding is, apart from its values.
struct EmbeddingInfo {
  int rows = 0;            // 1, or the number of tokens when pooling is none
  int dim = 0;
  int n_tokens = 0;        // tokens embedded, BOS/EOS and prompt included
  int n_input_tokens = 0;  // tokens before truncation
  bool truncated = false;
};

struct Embedding : EmbeddingInfo {
  std::vector<float> values;  // rows × dim, row-major
};

struct ModelInfo {
  std::string architecture;
  std::string name;
  int dim;             // full output width
  int context_length;  // longest input, in tokens
  int n_vocab;
  Pooling pooling;     // the file's pooling type
  bool has_dense;      // dense_2/dense_3 present: sentence-transformers output
};

class Embedder {
 public:
  // Loads a model from a file (memory-mapped natively; weights are views into the mapping).
  static Result<std::unique_ptr<Embedder>> Load(const std::string& path);
  // Loads a model from bytes in memory (the WebAssembly path); `name` is used in messages.
  static Result<std::unique_ptr<Embedder>> Load(std::shared_ptr<const FileBytes> bytes,
                                                std::string name);
  ~Embedder();

  // Embeds each text on its own (results never depend on the other texts). Fails on the first
  // text that cannot be embedded, naming its index; a bad option fails before any work.
  Result<std::vector<Embedding>> Embed(const std::vector<std::string>& texts,
                                       const EmbedOptions& options) const;

  // Embeds one text into `out`, which has room for `capacity` floats (rows × dim are written;
  // pooling none needs a row per token), and describes the result in `info`. Once this embedder
  // has embedded a text at least as long, the call allocates no memory. With `profile`, the time
  // of each forward-pass operation is added to it. Safe to call from several threads at once.
  Status EmbedInto(std::string_view text, const EmbedOptions& options, float* out,
                   size_t capacity, EmbeddingInfo* info, OpProfile* profile = nullptr) const;

  // Token ids of `text` (`add_special`: BOS/EOS per the file's flags; `parse_special`: see
  // EmbedOptions).
  Result<std::vector<int32_t>> Tokenize(std::string_view text, bool add_special,
                                        bool parse_special) const;
  // The text of token `id` (it must be valid).
  std::string_view TokenPiece(int32_t id) const;

  const ModelInfo& info() const;
  // The hyperparameters the forward pass runs with.
  const ModelConfig& config() const;
  // Bytes of the model file.
  uint64_t file_size() const;
  // Things worth telling the user once, e.g. a file without its dense projections.
  const std::vector<std::string>& warnings() const;

 private:
  struct Impl;
  explicit Embedder(std::unique_ptr<Impl> impl);
  struct Workspace;
  Status CheckOptions(const EmbedOptions& options) const;
  Status Run(std::string_view text, const EmbedOptions& options, Workspace& ws,
             EmbeddingInfo* info, OpProfile* profile) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_SRC_EMBEDDER_H_
