// Embedder: the public C++ API — load an embedding GGUF, turn texts into vectors.
#ifndef GGUFEMBED_EMBEDDER_H_
#define GGUFEMBED_EMBEDDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ggufembed/simd.h"
#include "ggufembed/status.h"
#include "ggufembed/types.h"

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

// How a batch of texts is run (Embedder::EmbedBatch).
struct BatchOptions {
  // Forward passes run at once, each on its own thread with its own workspace (one inference
  // never uses more than one thread); 0: as many as the cores this process may use.
  int threads = 0;
  // Texts of fewer tokens share forward passes of up to this many tokens, packed back to back;
  // each attends only to itself, so its vector is the bits it gets alone. Longer texts run
  // alone; 0 runs every text alone.
  int pack_tokens = 256;
  // If set, called on the calling thread with how many texts are finished in input order (their
  // results given out) after each forward pass it runs, when that number grew (a pass of another
  // thread counts at its next call), and with every text at the end. An exception it throws
  // stops the calls and reaches the caller once the batch's threads have stopped.
  std::function<void(size_t done)> on_progress = nullptr;
};

// One text of a batch and the options it is embedded with.
struct BatchText {
  std::string_view text;
  const EmbedOptions* options;
};

// What an embedding is, apart from its values.
struct EmbeddingInfo {
  int rows = 0;  // 1, or the number of tokens when pooling is none
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
  Pooling pooling;  // the file's pooling type
  bool has_dense;   // projections after pooling (dense_2/dense_3): sentence-transformers output
};

namespace internal {
struct EmbedderAccess;  // the engine's own ways to build an Embedder (e.g. from adopted bytes)
}  // namespace internal

class Embedder {
 public:
  // Loads a model from a file (memory-mapped natively; weights are views into the mapping).
  static Result<std::unique_ptr<Embedder>> Load(const std::string& path);
  // Loads a model from `size` bytes at `data`, which are not copied: they must stay valid and
  // unchanged while the embedder lives. `name` is how messages refer to the model.
  static Result<std::unique_ptr<Embedder>> LoadFromMemory(const void* data, size_t size,
                                                          std::string name);
  ~Embedder();

  // Checks options against this model (dimension, prompt name, prompt and title together)
  // without embedding anything.
  Status CheckOptions(const EmbedOptions& options) const;

  // Embeds each text on this thread, short ones packed into shared passes (a vector never
  // depends on the other texts). Fails on the first text that cannot be embedded, naming its
  // index when there are several ("text 3: ..."); a bad option fails before any work.
  Result<std::vector<Embedding>> Embed(const std::vector<std::string>& texts,
                                       const EmbedOptions& options) const;
  // The same with `batch.threads` passes at once and its packing budget (the same vectors).
  Result<std::vector<Embedding>> Embed(const std::vector<std::string>& texts,
                                       const EmbedOptions& options,
                                       const BatchOptions& batch) const;

  // Embeds `texts` (borrowed for the call) on up to `batch.threads` threads, packing short texts
  // into shared passes, and calls on_result(i, status, embedding) once per text, in input order,
  // as soon as text i and all before it are done: the calls never overlap, and come from this or
  // a worker thread (so on_result must not throw). A text that cannot be embedded (bad options,
  // invalid UTF-8, too long without truncation, a non-finite vector) gets its error and the others
  // go on; `embedding` is then empty (out of memory in a text's work is that text's error).
  // Fails only on bad batch options (before any work) or with kOutOfMemory when the batch's own
  // bookkeeping cannot get memory (the texts before may have had their call).
  Status EmbedBatch(std::span<const BatchText> texts, const BatchOptions& batch,
                    const std::function<void(size_t index, const Status& status,
                                             const Embedding& embedding)>& on_result) const;

  // Embeds one text into `out`, which has room for `capacity` floats (rows × dim are written;
  // pooling none needs a row per token), and describes the result in `info` (if not null). Once
  // this embedder has embedded a text at least as long, the call allocates no memory. With
  // `profile`, the time of each forward-pass operation is added to it. Safe to call from several
  // threads at once.
  Status EmbedInto(std::string_view text, const EmbedOptions& options, float* out, size_t capacity,
                   EmbeddingInfo* info, OpProfile* profile = nullptr) const;

  // Token ids of `text` (`add_special`: BOS/EOS per the file's flags; `parse_special`: see
  // EmbedOptions).
  Result<std::vector<int32_t>> Tokenize(std::string_view text, bool add_special,
                                        bool parse_special) const;
  // The text of token `id`; empty for an id outside [0, vocabulary size).
  std::string_view TokenPiece(int32_t id) const;

  const ModelInfo& info() const;
  // Multiply-adds of one forward pass over `n_tokens` tokens, output head included (for GMAC/s).
  double MultiplyAdds(int n_tokens, Pooling pooling) const;
  // Bytes of the model file.
  uint64_t file_size() const;
  // Bytes of the largest per-call workspace (forward-pass arena, RoPE tables, token, hidden and
  // head buffers) held between calls: each thread of a batch holds one, which grows with the
  // longest pass it has run (at most the context length) and is kept for the next call. Beside the
  // weights, which every thread shares.
  size_t workspace_bytes() const;
  // Things worth telling the user once, e.g. a file without its dense projections.
  const std::vector<std::string>& warnings() const;

 private:
  friend struct internal::EmbedderAccess;
  struct Impl;  // the model, its tokenizer and workspaces, and how a call runs (embedder.cc)
  explicit Embedder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The cores this process may run on (its CPU affinity); 1 in WebAssembly without threads.
int AvailableCores();

}  // namespace ggufembed

#endif  // GGUFEMBED_EMBEDDER_H_
