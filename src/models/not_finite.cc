// The errors of a forward pass that meets a NaN or an infinity.
#include "models/not_finite.h"

#include <cmath>
#include <cstddef>

#include "util/error.h"

namespace ggufembed {
namespace {

// The index of the first non-finite value of x[0, n) (n if none).
size_t FirstNotFinite(const float* x, size_t n) {
  size_t i = 0;
  while (i < n && std::isfinite(x[i])) ++i;
  return i;
}

}  // namespace

Status NotFiniteActivations(const float* x, int rows, int cols, int layer, const char* block) {
  const size_t i = FirstNotFinite(x, size_t(rows) * cols);
  return Error(StatusCode::kNotFinite,
               "the model computed a value that is not finite (%g at token %zu, column %zu) in "
               "layer %d's %s block: a weight of that layer is NaN or infinite, or the "
               "activations overflowed",
               x[i], i / cols, i % cols, layer, block);
}

Status NotFiniteOutput(const float* y, int rows, int cols, const char* tensor, const char* why) {
  const size_t i = FirstNotFinite(y, size_t(rows) * cols);
  return Error(StatusCode::kNotFinite,
               "the model computed a value that is not finite (%g at token %zu, column %zu) in "
               "its output projection %s: %s",
               y[i], i / cols, i % cols, tensor, why);
}

Status NotFiniteEmbedding(const float* x, int rows, int cols, const int32_t* ids,
                          const char* tensor) {
  const size_t i = FirstNotFinite(x, size_t(rows) * cols);
  return Error(StatusCode::kNotFinite,
               "%s row %d (the embedding of token %zu) holds a value that is not finite (%g at "
               "column %zu): the model file is broken",
               tensor, ids[i / cols], i / cols, x[i], i % cols);
}

}  // namespace ggufembed
