// TensorBinder: finds a model's tensors in a GGUF file by name, checks their shapes and types
// (errors name the tensor, its shape and the expected one), and refuses files with tensors the
// model does not use (ignoring, say, a bias would silently give wrong vectors).
#ifndef GGUFEMBED_MODELS_TENSOR_BINDER_H_
#define GGUFEMBED_MODELS_TENSOR_BINDER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "kernels/matrix.h"

namespace ggufembed {

class TensorBinder {
 public:
  // What the model keeps of its binding: F16/BF16 norms converted to f32, and the Bf16Range
  // of each bf16 matrix.
  struct Kept {
    std::vector<std::unique_ptr<float[]>> norms;
    std::vector<std::unique_ptr<std::atomic<Bf16Range>>> bf16_ranges;
  };

  TensorBinder(const GgufFile& file, Kept* kept) : file_(file), kept_(kept) {}

  // The tensor `name` with shape `ne` (GGUF order: ne[0] is the row length), marked as used.
  Result<const GgufTensorInfo*> Find(const std::string& name, std::vector<int64_t> ne);

  // A weight matrix of `rows` × `cols` (ne = [cols, rows]) of a dequantizable type.
  Result<Matrix> BindMatrix(const std::string& name, int64_t cols, int64_t rows);

  // A vector of `n` floats (F32 in place; F16/BF16 converted once).
  Result<const float*> BindNorm(const std::string& name, int64_t n);

  // kUnsupported naming the first tensor nothing bound, other than those in `ignored` (such as
  // a tied output head that an embedding model does not use).
  Status CheckAllUsed(std::string_view architecture,
                      const std::vector<std::string_view>& ignored) const;

 private:
  const GgufFile& file_;
  Kept* kept_;
  std::set<std::string_view> used_;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_MODELS_TENSOR_BINDER_H_
