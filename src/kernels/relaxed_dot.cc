// The stand-ins for i32x4.relaxed_dot_i8x16_i7x16_add_s and i16x8.relaxed_dot_i8x16_i7x16_s
// (relaxed_dot.h), alone in their file.
#include "kernels/relaxed_dot.h"

#include <cstdint>
#include <cstring>

// noinline and a loop: neither clang nor wasm-opt may inline it, so every use stays a call that
// wasm/relaxed_simd.mjs can find and replace.
extern "C" __attribute__((noinline, used)) v128_t ggufembed_relaxed_dot_i8x16_i7x16_add(v128_t a,
                                                                                        v128_t b,
                                                                                        v128_t c) {
  int8_t as[16];
  uint8_t bs[16];
  int32_t sums[4];
  std::memcpy(as, &a, 16);
  std::memcpy(bs, &b, 16);
  std::memcpy(sums, &c, 16);
  for (int i = 0; i < 16; ++i) sums[i / 4] += int32_t{as[i]} * (bs[i] & 0x7F);
  v128_t out;
  std::memcpy(&out, sums, 16);
  return out;
}

extern "C" __attribute__((noinline, used)) v128_t ggufembed_relaxed_dot_i8x16_i7x16(v128_t a,
                                                                                    v128_t b) {
  int8_t as[16];
  uint8_t bs[16];
  int16_t sums[8];
  std::memcpy(as, &a, 16);
  std::memcpy(bs, &b, 16);
  for (int i = 0; i < 8; ++i) {
    sums[i] = static_cast<int16_t>(int32_t{as[2 * i]} * (bs[2 * i] & 0x7F) +
                                   int32_t{as[2 * i + 1]} * (bs[2 * i + 1] & 0x7F));
  }
  v128_t out;
  std::memcpy(&out, sums, 16);
  return out;
}
