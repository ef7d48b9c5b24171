// SIMD versions of the deterministic scalar math (numerics.h, fp16.h, kernels/reference.cc): the
// same IEEE operations in the same order, lane by lane, so results are identical on every target.

// Per-target include guard (Highway's pattern for -inl.h files shared by several targets).
#if defined(GGUFEMBED_KERNELS_VEC_MATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_KERNELS_VEC_MATH_INL_H_
#undef GGUFEMBED_KERNELS_VEC_MATH_INL_H_
#else
#define GGUFEMBED_KERNELS_VEC_MATH_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/gelu.h"
#include "kernels/numerics.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ExpF32 on each lane (see numerics.h for the algorithm and constants).
template <class DF, class VF = hn::Vec<DF>>
HWY_INLINE VF ExpVec(DF df, VF x) {
  const hn::RebindToSigned<DF> di;
  const VF n = hn::Round(hn::Mul(x, hn::Set(df, kExpLog2e)));  // ties to even, like nearbyint
  VF r = hn::Sub(x, hn::Mul(n, hn::Set(df, kExpLn2Hi)));
  r = hn::Sub(r, hn::Mul(n, hn::Set(df, kExpLn2Lo)));
  VF p = hn::Set(df, kExpP0);
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP1));
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP2));
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP3));
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP4));
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP5));
  p = hn::Add(hn::Mul(p, hn::Mul(r, r)), r);
  p = hn::Add(p, hn::Set(df, 1.0f));
  // 2^n through the exponent bits; out-of-range lanes are replaced below.
  const auto ni = hn::ConvertTo(di, hn::Min(hn::Max(n, hn::Set(df, -126.0f)), hn::Set(df, 127.0f)));
  const VF scale = hn::BitCast(df, hn::ShiftLeft<23>(hn::Add(ni, hn::Set(di, 127))));
  VF result = hn::Mul(p, scale);
  result = hn::IfThenZeroElse(hn::Lt(x, hn::Set(df, kExpMin)), result);
  return hn::IfThenElse(hn::Gt(x, hn::Set(df, kExpMax)), hn::Set(df, HUGE_VALF), result);
}

// The f16 bits of each lane (round to nearest even, F32ToF16's float trick), in u32 lanes.
template <class DF, class VF = hn::Vec<DF>>
HWY_INLINE hn::Vec<hn::RebindToUnsigned<DF>> F32ToF16Bits(DF df, VF f) {
  const hn::RebindToUnsigned<DF> du;
  using VU = hn::Vec<decltype(du)>;
  VF base = hn::Mul(hn::Mul(hn::Abs(f), hn::Set(df, 0x1.0p+112f)), hn::Set(df, 0x1.0p-110f));
  const VU w = hn::BitCast(du, f);
  const VU shl1_w = hn::Add(w, w);
  const VU sign = hn::And(w, hn::Set(du, 0x80000000u));
  const VU bias = hn::Max(hn::And(shl1_w, hn::Set(du, 0xFF000000u)), hn::Set(du, 0x71000000u));
  base = hn::Add(hn::BitCast(df, hn::Add(hn::ShiftRight<1>(bias), hn::Set(du, 0x07800000u))), base);
  const VU bits = hn::BitCast(du, base);
  const VU exp_bits = hn::And(hn::ShiftRight<13>(bits), hn::Set(du, 0x00007C00u));
  const VU mantissa_bits = hn::And(bits, hn::Set(du, 0x00000FFFu));
  const VU nonsign = hn::Add(exp_bits, mantissa_bits);
  const VU is_nan = hn::VecFromMask(du, hn::Gt(shl1_w, hn::Set(du, 0xFF000000u)));
  return hn::Or(hn::ShiftRight<16>(sign), hn::IfVecThenElse(is_nan, hn::Set(du, 0x7E00u), nonsign));
}

// f16 bits (in u32 lanes) -> f32, F16ToF32's exact method.
template <class DF>
HWY_INLINE hn::Vec<DF> F16BitsToF32(DF df, hn::Vec<hn::RebindToUnsigned<DF>> h) {
  const hn::RebindToUnsigned<DF> du;
  using VU = hn::Vec<decltype(du)>;
  const VU w = hn::ShiftLeft<16>(h);
  const VU sign = hn::And(w, hn::Set(du, 0x80000000u));
  const VU two_w = hn::Add(w, w);
  const auto normalized =
      hn::Mul(hn::BitCast(df, hn::Add(hn::ShiftRight<4>(two_w), hn::Set(du, 0xE0u << 23))),
              hn::Set(df, 0x1.0p-112f));
  const auto denormalized =
      hn::Sub(hn::BitCast(df, hn::Or(hn::ShiftRight<17>(two_w), hn::Set(du, 126u << 23))),
              hn::Set(df, 0.5f));
  const auto is_denormal = hn::VecFromMask(du, hn::Lt(two_w, hn::Set(du, 1u << 27)));
  const VU magnitude =
      hn::IfVecThenElse(is_denormal, hn::BitCast(du, denormalized), hn::BitCast(du, normalized));
  return hn::BitCast(df, hn::Or(sign, magnitude));
}

// Each lane rounded to the nearest f16 value (as f32): F16ToF32(F32ToF16(f))'s bits in 13
// operations, where the trip through the f16 bits took about 30. c = 2^(e + 13), e the exponent
// of |f| clamped to f16's [-14, 15], puts the f16 ulp at |f|'s exponent (2^(e − 10); 2^-24 below
// 2^-14) at the last bit of the f32 sum |f| + c, which stays in c's binade: the addition rounds to
// nearest even on the f16 grid and the subtraction of c is exact (Sterbenz). Beyond 65504 is
// infinity; NaN becomes the quiet NaN of its sign, as F32ToF16 makes it.
template <class DF, class VF = hn::Vec<DF>>
HWY_INLINE VF RoundToF16(DF df, VF f) {
  const hn::RebindToUnsigned<DF> du;
  using VU = hn::Vec<decltype(du)>;
  const VU w = hn::BitCast(du, f);
  const VU exponent =
      hn::Min(hn::Max(hn::And(w, hn::Set(du, 0x7F800000u)), hn::Set(du, 113u << 23)),
              hn::Set(du, 142u << 23));
  const VF c = hn::BitCast(df, hn::Add(exponent, hn::Set(du, 13u << 23)));
  VF r = hn::Sub(hn::Add(hn::Abs(f), c), c);
  r = hn::IfThenElse(hn::Gt(r, hn::Set(df, 65504.0f)), hn::Set(df, HUGE_VALF), r);
  r = hn::IfThenElse(hn::IsNaN(f), hn::BitCast(df, hn::Set(du, 0x7FC00000u)), r);
  return hn::BitCast(df, hn::Or(hn::And(w, hn::Set(du, 0x80000000u)), hn::BitCast(du, r)));
}

// GeluF16 on each lane: 0 at or below −10, x at or above 10, else the table entry of x's f16 bits.
template <class DF, class VF = hn::Vec<DF>>
HWY_INLINE VF GeluF16Vec(DF df, VF x, const float* HWY_RESTRICT table) {
  const hn::RebindToSigned<DF> di;
  const VF looked_up = hn::GatherIndex(df, table, hn::BitCast(di, F32ToF16Bits(df, x)));
  const VF result = hn::IfThenElse(hn::Ge(x, hn::Set(df, 10.0f)), x, looked_up);
  return hn::IfThenZeroElse(hn::Le(x, hn::Set(df, -10.0f)), result);
}

// AllFinite (numerics.h) in vectors: x − x is 0 for finite x and NaN for NaN and ±inf, so a sum
// of the differences stays 0 only if every value is finite.
HWY_INLINE bool AllFiniteVec(const float* HWY_RESTRICT x, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  auto diff = hn::Zero(df);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto v = hn::LoadU(df, x + i);
    diff = hn::Add(diff, hn::Sub(v, v));
  }
  return hn::AllTrue(df, hn::Eq(diff, hn::Zero(df))) && AllFinite(x + i, int64_t(n - i));
}

// CombinePartials8 (numerics.h) lane by lane, for Highway vectors or raw x86 ones (whose + is
// the compiler's): eight vectors of partial sums in order 2's tree.
template <class V>
HWY_INLINE V CombinePartials8(const V (&p)[8]) {
  return ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
}

// GeGLU in place: gate[i] = GeluF16(gate[i]) · up[i] (ggml_gelu on the CPU, then a product) over
// n values; `table` is GeluTable(), which the product kernels' epilogues, calling this on every
// run of results, fetch once. Vectors of at most 8 lanes: those runs can be 8 long.
HWY_INLINE void GeGluInPlace(float* HWY_RESTRICT gate, const float* HWY_RESTRICT up, size_t n,
                             const float* HWY_RESTRICT table) {
  const hn::CappedTag<float, 8> df;
  const size_t lanes = hn::Lanes(df);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(hn::Mul(GeluF16Vec(df, hn::LoadU(df, gate + i), table), hn::LoadU(df, up + i)), df,
               gate + i);
  }
  for (; i < n; ++i) gate[i] = GeluF16(gate[i]) * up[i];
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
