// Which relaxed-SIMD kernels run in this WebAssembly module (relaxed_dot.h): the probe that tells
// the instructions from their stand-ins, and the int32 switch the JavaScript package sets. Apart
// from the stand-ins' file, where a caller could see their plain bodies and fold the probe to a
// constant.
#include "kernels/relaxed_dot.h"

#if defined(__wasm_simd128__)
#include <atomic>

namespace ggufembed {

bool RelaxedDotIsInstruction() {
  static const bool instruction = [] {
    const v128_t one = wasm_i8x16_splat(1), b = wasm_i8x16_splat(static_cast<int8_t>(0x80));
    const v128_t sum = ggufembed_relaxed_dot_i8x16_i7x16_add(one, b, wasm_i32x4_splat(0));
    const v128_t pairs = ggufembed_relaxed_dot_i8x16_i7x16(one, b);
    // ±512 and ±256 from the instructions, 0 plain.
    return wasm_i32x4_extract_lane(sum, 0) != 0 && wasm_i16x8_extract_lane(pairs, 0) != 0;
  }();
  return instruction;
}

namespace {
std::atomic<bool> relaxed_int32_dot{true};
}  // namespace

bool RelaxedInt32Dot() { return relaxed_int32_dot.load(std::memory_order_relaxed); }

}  // namespace ggufembed

extern "C" void ggufembed_set_relaxed_int32_dot(int on) {
  ggufembed::relaxed_int32_dot.store(on != 0, std::memory_order_relaxed);
}

extern "C" int ggufembed_relaxed_int32_dot() {
  return ggufembed::RelaxedDotIsInstruction() && ggufembed::RelaxedInt32Dot();
}
#endif  // __wasm_simd128__
