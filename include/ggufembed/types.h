// Value types of the public API that the engine's layers share: pooling and the per-operation
// time profile.
#ifndef GGUFEMBED_TYPES_H_
#define GGUFEMBED_TYPES_H_

#include <string_view>

#include "ggufembed/status.h"

namespace ggufembed {

// How the per-token hidden states become a vector: llama.cpp's `pooling_type` values (RANK, a
// reranker head, is not supported).
enum class Pooling : int { kNone = 0, kMean = 1, kCls = 2, kLast = 3 };

// "none", "mean", "cls", "last".
const char* PoolingName(Pooling pooling);
// Parses a pooling name; kInvalidArgument names the accepted values.
Result<Pooling> ParsePooling(std::string_view name);

// Kinds of work in a forward pass, for OpProfile.
enum class Op : int { kMatMul, kAttention, kNormRope, kGeGLU, kPoolDense, kOther, kCount };
inline constexpr int kOpCount = static_cast<int>(Op::kCount);

// "matmul", "attention", "norms+rope", "geglu", "pooling+dense", "other".
const char* OpName(Op op);

// Seconds spent per kind of operation, summed over the calls that were given this profile.
struct OpProfile {
  double seconds[kOpCount] = {};
};

}  // namespace ggufembed

#endif  // GGUFEMBED_TYPES_H_
