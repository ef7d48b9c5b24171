// MatMulRows: a whole matrix product behind one dynamic dispatch, for code that is not compiled
// per SIMD target (the output head's projections). Compiled once per target.
#include "kernels/matmul.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/matmul.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "kernels/matmul-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {

Status MatMulRowsImpl(const Matrix& w, const float* x, int n_tokens, float* y, Arena& arena) {
  const int cols = static_cast<int>(w.cols);
  MatMulInput in;
  MatMulScratch scratch;
  GGUFEMBED_RETURN_IF_ERROR(arena.Carve([&](Arena& a) {
    CarveMatMulInput(a, n_tokens, cols, LayoutOf(NativeInt8Kernel()), &in);
    CarveMatMulScratch(a, n_tokens, cols, &scratch);
  }));
  in.n_tokens = n_tokens;
  in.cols = cols;
  PrepareMatMulInput(w.type, x, &in);
  MatMul(w, in, scratch, y, static_cast<size_t>(w.rows));
  return OkStatus();
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufembed {

HWY_EXPORT(MatMulRowsImpl);

Status MatMulRows(const Matrix& w, const float* x, int n_tokens, float* y, Arena& arena) {
  return HWY_DYNAMIC_DISPATCH(MatMulRowsImpl)(w, x, n_tokens, y, arena);
}

}  // namespace ggufembed
#endif  // HWY_ONCE
