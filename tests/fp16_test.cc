// f16/bf16 conversions: hand-picked values, exhaustive round trips, and (natively on x86) the
// hardware F16C conversion as an independent oracle for rounding.
#include "util/fp16.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#if defined(__x86_64__) && !defined(__EMSCRIPTEN__)
#include <cpuid.h>
#include <immintrin.h>
#define GGUFEMBED_HAVE_F16C_ORACLE 1
__attribute__((target("f16c"))) static uint16_t HardwareF32ToF16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
#endif

namespace ggufembed {
namespace {

TEST_CASE("f16 known values", "[fp16]") {
  CHECK(F16ToF32(0x3C00) == 1.0f);
  CHECK(F16ToF32(0xC000) == -2.0f);
  CHECK(F16ToF32(0x7BFF) == 65504.0f);
  CHECK(F16ToF32(0x0400) == std::ldexp(1.0f, -14));     // smallest normal
  CHECK(F16ToF32(0x03FF) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(std::isinf(F16ToF32(0xFC00)));
  CHECK(std::isnan(F16ToF32(0x7E00)));
  CHECK(F32ToF16(1.0f) == 0x3C00);
  CHECK(F32ToF16(-0.0f) == 0x8000);
  CHECK(F32ToF16(65504.0f) == 0x7BFF);
  CHECK(F32ToF16(65520.0f) == 0x7C00);  // halfway to the next binade rounds to inf
  CHECK(F32ToF16(65519.0f) == 0x7BFF);
  CHECK(F32ToF16(1e-8f) == 0x0000);  // below half the smallest subnormal
  CHECK(F32ToF16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(F32ToF16(std::ldexp(1.0f, -25)) == 0x0000);  // a tie rounds to even (0)
  CHECK(F32ToF16(std::ldexp(3.0f, -25)) == 0x0002);  // 1.5 ulp: tie to even (2)
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to the even mantissa (1.0).
  CHECK(F32ToF16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);
  CHECK(F32ToF16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
  CHECK((F32ToF16(NAN) & 0x7C00) == 0x7C00);
  CHECK((F32ToF16(NAN) & 0x03FF) != 0);
}

TEST_CASE("every f16 survives f16 -> f32 -> f16", "[fp16]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = F16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      CHECK(std::isnan(F16ToF32(F32ToF16(f))));
    } else {
      REQUIRE(F32ToF16(f) == h);
    }
  }
}

#ifdef GGUFEMBED_HAVE_F16C_ORACLE
TEST_CASE("f32 -> f16 matches the F16C instruction", "[fp16]") {
  // CPUID rather than __builtin_cpu_supports("f16c"), which clang 14 does not know.
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || (c & bit_F16C) == 0) {
    FAIL("this x86 CPU has no F16C; the oracle cannot run");
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 2000000; ++i) {
    const uint32_t bits = rng();
    const float f = FloatFromBits(bits);
    if (std::isnan(f)) continue;
    REQUIRE(F32ToF16(f) == HardwareF32ToF16(f));
  }
  // Every f32 near the f16 range boundaries and subnormals, densely.
  for (uint32_t bits = 0x33000000; bits < 0x38900000; bits += 97) {
    REQUIRE(F32ToF16(FloatFromBits(bits)) == HardwareF32ToF16(FloatFromBits(bits)));
  }
  for (uint32_t bits = 0x477F0000; bits < 0x47800100; ++bits) {
    REQUIRE(F32ToF16(FloatFromBits(bits)) == HardwareF32ToF16(FloatFromBits(bits)));
  }
}
#endif

TEST_CASE("bf16 conversions", "[fp16]") {
  CHECK(Bf16ToF32(0x3F80) == 1.0f);
  CHECK(F32ToBf16(1.0f) == 0x3F80);
  CHECK(F32ToBf16(3.140625f) == 0x4049);
  // 1 + 2^-8 is halfway between bf16 1.0 and 1 + 2^-7: to even (1.0); 1 + 3·2^-8 goes up.
  CHECK(F32ToBf16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);
  CHECK(F32ToBf16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3F82);
  CHECK(std::isnan(Bf16ToF32(F32ToBf16(NAN))));
}

}  // namespace
}  // namespace ggufembed
