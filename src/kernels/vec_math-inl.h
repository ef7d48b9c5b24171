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

// The tag whose vectors hold (at most) 8 f32 lanes: the 8 partial sums of every dot product.
using D8 = hn::CappedTag<float, 8>;

// Partial sums of a dot product as 8 lanes (element i into lane i mod 8), for any vector width:
// 8 lanes are one vector of D8 on 256-bit targets, two on 128-bit ones, eight on scalar ones.
struct Lanes8 {
  static constexpr size_t kVecs = 8 / hn::MaxLanes(D8());
  hn::Vec<D8> v[kVecs];
};

HWY_INLINE Lanes8 ZeroLanes8() {
  Lanes8 l;
  for (size_t i = 0; i < Lanes8::kVecs; ++i) l.v[i] = hn::Zero(D8());
  return l;
}

// lanes += a[0..8) * b[0..8), multiply then add (no FMA), like the reference's Dot.
HWY_INLINE void MulAddLanes8(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, Lanes8& l) {
  const D8 d;
  const size_t n = hn::Lanes(d);
  for (size_t i = 0; i < Lanes8::kVecs; ++i) {
    l.v[i] = hn::Add(l.v[i], hn::Mul(hn::LoadU(d, a + i * n), hn::LoadU(d, b + i * n)));
  }
}

// GeluF16 over n values in place (ggml_gelu on the CPU).
HWY_INLINE void GeluInPlace(float* HWY_RESTRICT x, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  const float* table = GeluTable();
  size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(GeluF16Vec(df, hn::LoadU(df, x + i), table), df, x + i);
  for (; i < n; ++i) x[i] = GeluF16(x[i]);
}

// The reference's reduction of the 8 partial sums (numerics.h, order 2).
HWY_INLINE float ReduceLanes8(const Lanes8& l) {
  HWY_ALIGN float lanes[8];
  const D8 d;
  for (size_t i = 0; i < Lanes8::kVecs; ++i) hn::Store(l.v[i], d, lanes + i * hn::Lanes(d));
  return ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) +
         ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
}

// The reference's Dot: sum of a[i]·b[i] for i < n in 8 interleaved partial sums.
HWY_INLINE float Dot8(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, size_t n) {
  Lanes8 l = ZeroLanes8();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) MulAddLanes8(a + i, b + i, l);
  float tail[8] = {};
  if (i < n) {  // the last partial group goes into lanes 0..n-i-1
    HWY_ALIGN float lanes[8];
    const D8 d;
    for (size_t k = 0; k < Lanes8::kVecs; ++k) hn::Store(l.v[k], d, lanes + k * hn::Lanes(d));
    for (size_t j = 0; i < n; ++i, ++j) lanes[j] = lanes[j] + a[i] * b[i];
    for (size_t k = 0; k < 8; ++k) tail[k] = lanes[k];
    return ((tail[0] + tail[4]) + (tail[2] + tail[6])) +
           ((tail[1] + tail[5]) + (tail[3] + tail[7]));
  }
  return ReduceLanes8(l);
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
