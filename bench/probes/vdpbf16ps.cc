// Probe: whether this CPU's AVX512-BF16 VDPBF16PS equals, in every lane,
//   acc = ftz(fma(a[2i+1], b[2i+1], daz(acc)));  acc = ftz(fma(a[2i], b[2i], acc))
// with denormal inputs read as zero (Intel's pseudocode) — the arithmetic a BF16 reference would
// have to state for the instruction to give its bits. Random bf16 pairs with extreme exponents
// and accumulators near cancellation; also counts the lanes other models would get right.
//   g++ -O1 -std=c++17 bench/probes/vdpbf16ps.cc -o /tmp/vdpbf16ps && /tmp/vdpbf16ps
// Exits 0 when the model above matches every lane, 1 when not, 2 without AVX512-BF16.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>

namespace {

float Bf16(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// Denormals to zero of the same sign (DAZ on inputs, FTZ on results).
float Flush(float x) { return std::fabs(x) < 1.17549435e-38f ? std::copysign(0.0f, x) : x; }
uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

__attribute__((target("avx512bf16,avx512f"))) void Dp(const uint16_t* a, const uint16_t* b,
                                                      float* acc) {
  const __m512bh x = (__m512bh)_mm512_loadu_si512(a), y = (__m512bh)_mm512_loadu_si512(b);
  _mm512_storeu_ps(acc, _mm512_dpbf16_ps(_mm512_loadu_ps(acc), x, y));
}

}  // namespace

int main() {
  if (!__builtin_cpu_supports("avx512bf16")) {
    std::printf("this CPU has no AVX512-BF16\n");
    return 2;
  }
  std::mt19937 rng(7);
  auto exponent = [&] { return rng() % 3 == 0 ? int(rng() % 256) : 110 + int(rng() % 30); };
  long lanes = 0, odd_even = 0, even_odd = 0, one_rounding = 0;
  for (int call = 0; call < 2000000; ++call) {
    uint16_t a[32], b[32];
    float acc[16], got[16];
    for (int i = 0; i < 32; ++i) {
      a[i] = uint16_t((rng() & 0x8000) | (exponent() << 7) | (rng() & 0x7f));
      b[i] = uint16_t((rng() & 0x8000) | (exponent() << 7) | (rng() & 0x7f));
    }
    for (int i = 0; i < 16; ++i) {  // a quarter of the lanes start near −(the even product)
      const float p = Bf16(a[2 * i]) * Bf16(b[2 * i]);
      acc[i] = rng() % 4 == 0 ? -p * (1 + (int(rng() % 5) - 2) * 1e-7f) : Bf16(uint16_t(rng()));
      if (std::isnan(acc[i])) acc[i] = 1.0f;
    }
    std::memcpy(got, acc, sizeof acc);
    Dp(a, b, got);
    for (int i = 0; i < 16; ++i) {
      if (std::isnan(got[i])) continue;
      const float a0 = Flush(Bf16(a[2 * i])), a1 = Flush(Bf16(a[2 * i + 1]));
      const float b0 = Flush(Bf16(b[2 * i])), b1 = Flush(Bf16(b[2 * i + 1]));
      const float c = Flush(acc[i]);
      const float oe = Flush(std::fma(a0, b0, Flush(std::fma(a1, b1, c))));
      const float eo = Flush(std::fma(a1, b1, Flush(std::fma(a0, b0, c))));
      const float one = Flush(float(double(a0) * b0 + double(a1) * b1 + double(c)));
      ++lanes;
      odd_even += Bits(oe) == Bits(got[i]);
      even_odd += Bits(eo) == Bits(got[i]);
      one_rounding += Bits(one) == Bits(got[i]);
    }
  }
  std::printf("%ld lanes: odd pair first %ld, even first %ld, one rounding of the sum %ld\n", lanes,
              odd_even, even_odd, one_rounding);
  return odd_even == lanes ? 0 : 1;
}
