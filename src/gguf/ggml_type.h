// The ggml tensor type table (ids, block sizes, byte sizes) and scalar row dequantization to f32.
#ifndef GGUFEMBED_SRC_GGML_TYPE_H_
#define GGUFEMBED_SRC_GGML_TYPE_H_

#include <cstdint>

#include "ggufembed/status.h"

namespace ggufembed {

// ggml type ids as stored in GGUF tensor infos (ggml/include/ggml.h). Ids 4, 5, 31-33 and 36-38
// were removed from ggml and are rejected like unknown ids.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
  kQ2_0 = 42,
};

struct GgmlTypeInfo {
  const char* name;     // "Q8_0", as ggml and gguf-dump print it
  uint32_t block_size;  // elements per block
  uint32_t type_size;   // bytes per block
  bool dequantizable;   // DequantizeRow supports it
};

// The table entry for a type id, or nullptr if `id` is not a (current) ggml type.
const GgmlTypeInfo* FindGgmlType(uint32_t id);

// The entry for a known type.
const GgmlTypeInfo& GetGgmlType(GgmlType type);

// "Q8_0" for a known id, "unknown" otherwise.
const char* GgmlTypeName(uint32_t id);

// Bytes taken by `n` elements of `type`; `n` must be a multiple of the block size.
inline uint64_t RowBytes(GgmlType type, uint64_t n) {
  const GgmlTypeInfo& info = GetGgmlType(type);
  return n / info.block_size * info.type_size;
}

// Dequantizes `n` elements (a multiple of the block size) of `type` at `src` into `dst` with
// ggml's reference formulas (ggml-quants.c `dequantize_row_*`), bit for bit. Returns kUnsupported
// for types without a dequantizer and kInvalidArgument when `n` is not a whole number of blocks.
Status DequantizeRow(GgmlType type, const uint8_t* src, float* dst, int64_t n);

// Quantizes `n` floats (a multiple of 32) to Q8_0 blocks exactly like ggml's
// `quantize_row_q8_0_ref` and the Python converter: d = max|x|/127 stored as f16, q = round(x/d)
// with halves away from zero.
void QuantizeRowQ8_0Ref(const float* x, uint8_t* dst, int64_t n);

}  // namespace ggufembed

#endif  // GGUFEMBED_SRC_GGML_TYPE_H_
