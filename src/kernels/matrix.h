// Matrix: a non-owning view of one weight matrix in a GGUF file, the only form in which kernels
// see weights.
#ifndef GGUFEMBED_KERNELS_MATRIX_H_
#define GGUFEMBED_KERNELS_MATRIX_H_

#include <atomic>
#include <cstdint>
#include <string_view>

#include "gguf/ggml_type.h"

namespace ggufembed {

// What is known of a bf16 matrix's values: whether all are Bf16Tame (numerics.h, order 2b), which
// the fast kernels need.
enum class Bf16Range : uint8_t { kUnknown, kTame, kWild };

// A weight matrix of `rows` output features by `cols` input features, stored as ggml does: row r
// is `cols` contiguous values (GGUF ne = [cols, rows]), quantized along the row.
struct Matrix {
  std::string_view name;
  GgmlType type;
  const uint8_t* data;
  int64_t rows, cols;
  uint64_t row_bytes;
  // bf16: where products keep what they found of the values (the model owns it), so that only
  // the first one checks them; null: every product checks. A view of some rows must not share
  // the whole matrix's (its first product would answer for rows it never read).
  std::atomic<Bf16Range>* bf16_range = nullptr;

  const uint8_t* Row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_bytes; }
};

}  // namespace ggufembed

#endif  // GGUFEMBED_KERNELS_MATRIX_H_
