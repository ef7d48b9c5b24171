// WebAssembly's relaxed-SIMD int8 dot products (i32x4.relaxed_dot_i8x16_i7x16_add_s and
// i16x8.relaxed_dot_i8x16_i7x16_s) for a compiler that lacks them: plain functions that the
// relaxed build swaps for the instructions after linking (wasm/relaxed_simd.mjs), and the check of
// which ones a module holds.
#ifndef GGUFEMBED_KERNELS_RELAXED_DOT_H_
#define GGUFEMBED_KERNELS_RELAXED_DOT_H_

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

// c + the sums of 4 products a[4i + k]·b[4i + k] per int32 lane i, `a` signed and `b` 7-bit
// ([0, 127], where the instruction's result is fully defined). Debian's emscripten 3.1.6 (clang
// 14) has no intrinsic for the instruction, so kernels call this function and the relaxed build
// replaces every call with the instruction. As plain code it masks b to 7 bits — outside [0, 127]
// it differs from the instruction on purpose, so that RelaxedDotIsInstruction() can tell them
// apart. It is exported (by name, for the replacement) and alone in its file (no caller can see
// its body and fold it away). `const` (no memory read or written, like the instruction) lets the
// kernels keep their pointers and sums in locals across the calls.
extern "C" __attribute__((const)) v128_t ggufembed_relaxed_dot_i8x16_i7x16_add(v128_t a, v128_t b,
                                                                               v128_t c);

// The 8 int16 lanes a[2i]·b[2i] + a[2i+1]·b[2i+1], `a` signed and `b` 7-bit: at most 2·128·127
// in magnitude, so no engine saturates and the result is fully defined. One multiply per 16
// products on x86 (VPMADDUBSW) where the instruction above takes two without AVX-VNNI; kernels
// add its lanes in int16 only as far as they fit. The same stand-in rules (and 7-bit mask).
extern "C" __attribute__((const)) v128_t ggufembed_relaxed_dot_i8x16_i7x16(v128_t a, v128_t b);

namespace ggufembed {

// Whether this module's stand-ins are the instructions (the relaxed build) or the plain functions
// (the SIMD128 build): a dot product with b = 0x80, which the plain functions mask to 0 and the
// instructions take as 128 or -128 — both stand-ins, which wasm/relaxed_simd.mjs replaces
// together. Computed once.
bool RelaxedDotIsInstruction();

// Whether the kernels built on i32x4.relaxed_dot_i8x16_i7x16_add_s run: Q8_0's relaxed kernel
// (else Q8_0 stays on the portable kernel) and the int32 forms of the 4- to 6-bit types' (else
// their int16 forms); the same bits either way. Both gain only where the engine runs the
// instruction as one multiply (x86 with AVX-VNNI): elsewhere Q8_0's lost to the portable kernel
// (Chromium without AVX-VNNI, 0.92 on 500 tokens; Node 22, 0.69–0.75), while the int16
// form (i16x8.relaxed_dot_i8x16_i7x16_s) gains on every engine. Default true; the JavaScript
// package sets it once, from timing the instruction (with Q8_0's XOR step) against
// i32x4.dot_i16x8_s at load (js/src/wasm_features.js) — one timing for both kinds of kernel.
bool RelaxedInt32Dot();

}  // namespace ggufembed

// Sets RelaxedInt32Dot, and reports whether the kernels it names run in this module (it holds the
// instruction and RelaxedInt32Dot): exported by name for the JavaScript package, which sets it
// before any product.
extern "C" void ggufembed_set_relaxed_int32_dot(int on);
extern "C" int ggufembed_relaxed_int32_dot();

#endif  // __wasm_simd128__
#endif  // GGUFEMBED_KERNELS_RELAXED_DOT_H_
