// Matrix: a non-owning view of one weight matrix in a GGUF file, the only form in which kernels
// see weights.
#ifndef GGUFEMBED_KERNELS_MATRIX_H_
#define GGUFEMBED_KERNELS_MATRIX_H_

#include <cstdint>
#include <string_view>

#include "gguf/ggml_type.h"

namespace ggufembed {

// A weight matrix of `rows` output features by `cols` input features, stored as ggml does: row r
// is `cols` contiguous values (GGUF ne = [cols, rows]), quantized along the row.
struct Matrix {
  std::string_view name;
  GgmlType type;
  const uint8_t* data;
  int64_t rows, cols;
  uint64_t row_bytes;

  const uint8_t* Row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_bytes; }
};

}  // namespace ggufembed

#endif  // GGUFEMBED_KERNELS_MATRIX_H_
