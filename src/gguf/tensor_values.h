// A scan of every tensor's values for NaN and infinity (`--check-tensors`, as llama.cpp's): a
// broken or hostile file named by tensor, row and column before any text is embedded.
#ifndef GGUFEMBED_GGUF_TENSOR_VALUES_H_
#define GGUFEMBED_GGUF_TENSOR_VALUES_H_

#include "gguf/gguf.h"
#include "ggufembed/status.h"

namespace ggufembed {

// kNotFinite naming the first tensor (in file order), row and column whose dequantized value is
// NaN or infinite; OK when there is none. Tensors of types the engine cannot dequantize are
// skipped (a model load refuses them anyway). Reads every byte of the data section.
Status CheckTensorValues(const GgufFile& file);

}  // namespace ggufembed

#endif  // GGUFEMBED_GGUF_TENSOR_VALUES_H_
