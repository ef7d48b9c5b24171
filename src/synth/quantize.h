// Row quantizers from f32 to every weight type the engine reads, bit-identical to ggml's reference
// quantizers (the ones llama-quantize runs when it has no importance matrix).
#ifndef GGUFEMBED_SYNTH_QUANTIZE_H_
#define GGUFEMBED_SYNTH_QUANTIZE_H_

#include <cstdint>

#include "gguf/ggml_type.h"
#include "ggufembed/status.h"

namespace ggufembed {

// True for the types QuantizeRow writes: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K,
// Q5_K and Q6_K.
bool CanQuantize(GgmlType type);

// Writes `n` floats of `x` as `type` into `out` (RowBytes(type, n) bytes), byte for byte what
// ggml's `ggml_quantize_chunk` writes without an importance matrix: `quantize_row_<type>_ref`
// for the quantized types (ggml-quants.c), `ggml_fp32_to_fp16_row` (round to nearest even) for
// F16, `ggml_fp32_to_bf16_row_ref` for BF16, a copy for F32. The inputs are assumed finite (as
// llama-quantize's are; ggml's results for NaN and infinity are not specified here). Returns
// kUnsupported for other types and kInvalidArgument when `n` is not a whole number of blocks;
// both name the type.
Status QuantizeRow(GgmlType type, const float* x, int64_t n, uint8_t* out);

}  // namespace ggufembed

#endif  // GGUFEMBED_SYNTH_QUANTIZE_H_
