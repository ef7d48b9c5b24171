// The matrix products' per-target interface, for the forward passes and the tests: which int8
// kernels a target has, the scratch the products take, and PrepareMatMulInput, MatMul and
// MatMulGeGLU — declared here and compiled once per target in matmul.cc, so that the kernels are
// not compiled again in every file that multiplies. Bit-identical to MatMulReference on every
// target (numerics.h).

#include <cstddef>
#include <cstdint>

#include "gguf/ggml_type.h"
#include "kernels/matmul.h"
#include "kernels/matrix.h"
#include "util/arena.h"

// Per-target include guard.
#if defined(GGUFEMBED_KERNELS_MATMUL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_MATMUL_INL_H_
#undef GGUFEMBED_KERNELS_MATMUL_INL_H_
#else
#define GGUFEMBED_KERNELS_MATMUL_INL_H_
#endif

#include "hwy/highway.h"
#undef GGUFEMBED_X86_INT8
#undef GGUFEMBED_RELAXED_INT8
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#define GGUFEMBED_X86_INT8 1  // the hand-tuned x86 kernels exist for this target (int8_x86-inl.h)
#else
#define GGUFEMBED_X86_INT8 0
#endif
#if HWY_TARGET == HWY_WASM
#define GGUFEMBED_RELAXED_INT8 1  // the relaxed-SIMD kernel exists for this target
#include "kernels/relaxed_dot.h"
#else
#define GGUFEMBED_RELAXED_INT8 0
#endif

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {

// The int8 kernels a target has: kPortable everywhere, the hand-tuned ones on x86, the
// relaxed-SIMD one in WebAssembly (used by the relaxed build, whose module holds the instruction).
// bf16 weights follow it too (bf16_x86-inl.h): kVnni multiplies them with VDPBF16PS where the CPU
// has AVX512-BF16, kAvx2 with weight rows in the lanes for short inputs (rows of a multiple of 16
// values), every other kernel and case with the portable float one.
enum class Int8Kernel { kPortable, kAvx2, kVnni, kRelaxed };

// The fastest int8 kernel on this target.
inline Int8Kernel NativeInt8Kernel() {
#if HWY_TARGET == HWY_AVX3_DL
  return Int8Kernel::kVnni;
#elif GGUFEMBED_X86_INT8
  return Int8Kernel::kAvx2;
#elif GGUFEMBED_RELAXED_INT8
  return RelaxedDotIsInstruction() ? Int8Kernel::kRelaxed : Int8Kernel::kPortable;
#else
  return Int8Kernel::kPortable;
#endif
}

inline Int8Layout LayoutOf(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::kPortable:
      return Int8Layout::kI16Pairs;
    case Int8Kernel::kRelaxed:
      return Int8Layout::kS8QuadGroups;
    default:
      return Int8Layout::kS8Quads;
  }
}

// The layout PrepareMatMulInput gives an input carved for `carved` (its kernel's) for products
// with `type` weights. In the relaxed build Q8_0 weights take the relaxed kernel where the engine
// makes its instruction one VPDPBUSD (RelaxedInt32Dot), at any length (A/B in Chromium 156 on Zen
// 5, 300m Q8_0, against the portable kernel: 1.28× as fast on 4 tokens, 1.24× on 10, 1.26× on 13,
// equal on 29), and the portable kernel elsewhere (Node 22 on the same machine, relaxed forced:
// 0.75× on 13 tokens, 0.69× on 500).
inline Int8Layout InputLayout(Int8Layout carved, GgmlType type) {
  if (carved != Int8Layout::kS8QuadGroups || type != GgmlType::kQ8_0) return carved;
#if GGUFEMBED_RELAXED_INT8
  const bool relaxed_q8_0 = RelaxedInt32Dot();
#else
  const bool relaxed_q8_0 = true;  // no target but WebAssembly carves for the relaxed kernel
#endif
  return relaxed_q8_0 ? carved : Int8Layout::kI16Pairs;
}

// The kernel that runs `kernel`'s products on an input prepared in `layout`.
inline Int8Kernel KernelForLayout(Int8Kernel kernel, Int8Layout layout) {
  return kernel == Int8Kernel::kRelaxed && layout == Int8Layout::kI16Pairs ? Int8Kernel::kPortable
                                                                           : kernel;
}

// Rows of y finished together: a tile's results are [row][token], and scattering them straight
// into y touches one line per token that the next tile of rows touches again only after every
// token — which thrashes the caches when y's rows are a power of two apart (512-wide models ran
// at half speed). A group's results are staged token-major instead and copied into y as whole
// cache lines per token.
inline constexpr int kGroupRows = 16;
static_assert(kGroupRows % kTileRows == 0, "a group is whole tiles");

// The scratch of MatMul and MatMulGeGLU: two prepared weight tiles (gate and up), their results,
// and the staged results of a group of rows.
struct MatMulScratch {
  uint8_t* tile[2];  // MatMulTileBytes each
  float* out[2];     // kTileOutputFloats each
  float* stage;      // [padded tokens][kGroupRows]
};

// Takes MatMul's scratch for up to `max_tokens` tokens of up to `max_cols` values from `arena`
// (inside a Carve plan).
void CarveMatMulScratch(Arena& arena, int max_tokens, int max_cols, MatMulScratch* s);

// Prepares x [n_tokens × cols] for products with weights of `weight_type`: quantized (int8 blocks
// and K-quants, in the layout chosen here from `carved_layout` and the type) or rounded and
// transposed (float weights). `in` has its buffers, n_tokens, cols and carved_layout set
// (CarveMatMulInput).
void PrepareMatMulInput(GgmlType weight_type, const float* x, MatMulInput* in);

// y[t·ldy + n] = W·x[t] for every row n of `w` and token t of `in`, with the fastest kernel of
// this target (or `kernel`).
void MatMul(const Matrix& w, const MatMulInput& in, const MatMulScratch& s, float* y, size_t ldy,
            Int8Kernel kernel = NativeInt8Kernel());

// g[t·ldg + n] = GeluF16(gate_n·x[t]) · (up_n·x[t]): GeGLU in the epilogue of the gate and up
// products (same types, so one prepared input serves both).
void MatMulGeGLU(const Matrix& gate, const Matrix& up, const MatMulInput& in,
                 const MatMulScratch& s, float* g, size_t ldg,
                 Int8Kernel kernel = NativeInt8Kernel());

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
