// The architecture seam: what the engine needs of a network (its head, a forward pass on the
// SIMD target and on the scalar reference), and the registry that maps `general.architecture`
// to the code that loads it. Adding an architecture is adding a folder under models/ and one line
// in registry.cc (see docs/architecture.md).
#ifndef GGUFEMBED_MODELS_MODEL_H_
#define GGUFEMBED_MODELS_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "ggufembed/types.h"
#include "kernels/matrix.h"
#include "kernels/rope_tables.h"
#include "util/arena.h"

namespace ggufembed {

// What the output head does with a model's hidden states, and what a user is told about it.
struct ModelHead {
  std::string architecture;  // general.architecture
  std::string name;          // general.name, if any
  int n_ctx;                 // the longest input, in tokens
  int n_embd;                // width of the hidden states the forward pass writes
  int n_vocab;
  Pooling pooling;  // the file's pooling type
  // Applied in order to each pooled row (sentence-transformers Dense layers without bias or
  // activation: dense_2, dense_3); their shapes chain from n_embd to output_dim.
  std::vector<Matrix> projections;
  int output_dim;                     // the width of the final vector
  std::vector<std::string> warnings;  // suspicious but loadable settings, said once at load
};

// The tokens of one forward pass: one text, or several packed back to back. Text i is the next
// lengths[i] tokens, at positions 0..lengths[i]-1, and attends only to itself, so its hidden
// states are the bits it gets in a pass of its own: every other step works row by row (the
// activations are quantized per token), and attention and RoPE run text by text.
struct PassTokens {
  const int32_t* ids;
  std::span<const int> lengths;  // each at least 1
  int n_tokens;                  // their sum

  // Calls fn(first, length) for each text, in order.
  template <class Fn>
  void ForEachText(Fn&& fn) const {
    int first = 0;
    for (const int length : lengths) {
      fn(first, length);
      first += length;
    }
  }
};

// The memory one forward pass at a time works in, kept between calls: after a pass of some
// length, passes up to that length allocate nothing.
struct ForwardWorkspace {
  Arena arena;
  RopeTables rope;

  size_t bytes() const { return arena.capacity() + rope.bytes(); }
};

// A loaded network: weights are views into the mapped file, which it keeps alive.
class Model {
 public:
  virtual ~Model() = default;

  const ModelHead& head() const { return head_; }

  // Runs the network on the valid token ids of `tokens` (texts of 1..n_ctx tokens) and writes
  // the final hidden states, [n_tokens × n_embd], to `hidden`, on the SIMD target chosen for
  // this call. With `profile`, the time of each operation is added to it.
  virtual Status Forward(const PassTokens& tokens, ForwardWorkspace& workspace, float* hidden,
                         OpProfile* profile) const = 0;

  // The same for one text of `n_tokens` on the plain scalar reference: the oracle Forward is
  // tested against, bit for bit. Allocates on every call.
  virtual void ForwardReference(const int32_t* tokens, int n_tokens, float* hidden) const = 0;

  // Multiply-adds of Forward over `n_tokens` tokens (matrix products and attention), for GMAC/s.
  virtual double MultiplyAdds(int n_tokens) const = 0;

 protected:
  explicit Model(ModelHead head) : head_(std::move(head)) {}

 private:
  ModelHead head_;
};

// An architecture: the `general.architecture` it reads and how it loads a checked model (every
// hyperparameter and tensor it needs, errors naming the key or tensor; tensors it does not use
// are errors too).
struct Architecture {
  std::string_view name;
  Result<std::unique_ptr<Model>> (*load)(const GgufFile& file);
};

// The architecture named `name`, or nullptr.
const Architecture* FindArchitecture(std::string_view name);

// "gemma-embedding, ..." for messages.
std::string ArchitectureNames();

// Adds an architecture to the registry at run time (tests, programs that extend the engine); the
// built-in ones are listed in registry.cc. The name must outlive the process's use of it
// (a literal). kInvalidArgument if the name is taken.
Status RegisterArchitecture(const Architecture& architecture);

// Reads `general.architecture` and loads the model with its architecture (kUnsupported names
// the supported ones).
Result<std::unique_ptr<Model>> LoadModel(const GgufFile& file);

}  // namespace ggufembed

#endif  // GGUFEMBED_MODELS_MODEL_H_
