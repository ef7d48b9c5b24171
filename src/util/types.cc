// The functions of the public value types (ggufembed/types.h).
#include "ggufembed/types.h"

#include "util/error.h"

namespace ggufembed {

const char* PoolingName(Pooling pooling) {
  switch (pooling) {
    case Pooling::kNone:
      return "none";
    case Pooling::kMean:
      return "mean";
    case Pooling::kCls:
      return "cls";
    case Pooling::kLast:
      return "last";
  }
  return "none";
}

Result<Pooling> ParsePooling(std::string_view name) {
  for (Pooling p : {Pooling::kNone, Pooling::kMean, Pooling::kCls, Pooling::kLast}) {
    if (name == PoolingName(p)) return p;
  }
  return Error(StatusCode::kInvalidArgument, "pooling '%.*s' is not one of mean, cls, last, none",
               static_cast<int>(name.size()), name.data());
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kMatMul:
      return "matmul";
    case Op::kAttention:
      return "attention";
    case Op::kNormRope:
      return "norms+rope";
    case Op::kGeGLU:
      return "geglu";
    case Op::kPoolDense:
      return "pooling+dense";
    case Op::kOther:
      return "other";
    case Op::kCount:
      break;
  }
  return "?";
}

}  // namespace ggufembed
