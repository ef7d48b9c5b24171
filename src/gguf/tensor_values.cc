// A scan of every tensor's values for NaN and infinity.
#include "gguf/tensor_values.h"

#include <cinttypes>
#include <cmath>
#include <vector>

#include "gguf/ggml_type.h"
#include "util/error.h"

namespace ggufembed {

Status CheckTensorValues(const GgufFile& file) {
  std::vector<float> row;
  for (const GgufTensorInfo& t : file.tensors()) {
    if (!GetGgmlType(t.type).dequantizable) continue;
    const int64_t cols = t.ne[0];
    row.resize(static_cast<size_t>(cols));
    for (int64_t r = 0; r < t.n_rows(); ++r) {
      GGUFEMBED_RETURN_IF_ERROR(
          DequantizeRow(t.type, t.data + r * t.row_bytes(), row.data(), cols));
      for (int64_t c = 0; c < cols; ++c) {
        if (!std::isfinite(row[c])) {
          return Error(StatusCode::kNotFinite,
                       "%s: tensor %s holds a value that is not finite (%g at row %" PRId64
                       ", column %" PRId64 "): the model file is broken",
                       file.name().c_str(), Quote(t.name).c_str(), row[c], r, c);
        }
      }
    }
  }
  return OkStatus();
}

}  // namespace ggufembed
