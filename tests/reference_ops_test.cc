// Each operation of the forward pass against values worked out independently in the test: hand
// examples, and straightforward double-precision formulas.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "embed/head.h"
#include "kernels/activation_quant.h"
#include "kernels/gelu.h"
#include "kernels/numerics.h"
#include "kernels/reference.h"
#include "synth/quantize.h"
#include "util/fp16.h"

namespace ggufembed {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

TEST_CASE("RMS norm", "[ops]") {
  // x = [3, 4]: mean of squares 12.5, 1/sqrt(12.5) = 0.28284271; times w = [1, 2].
  const float x[2] = {3, 4}, w[2] = {1, 2};
  float out[2];
  RmsNormReference(x, w, 2, 0.0f, out);
  CHECK(out[0] == Approx(0.84852814).epsilon(1e-6));
  CHECK(out[1] == Approx(2.26274170).epsilon(1e-6));
  // eps is added to the mean: x = [0, 0, 0, 2], eps = 1 -> 2 / sqrt(1 + 1).
  const float y[4] = {0, 0, 0, 2}, ones[4] = {1, 1, 1, 1};
  float out4[4];
  RmsNormReference(y, ones, 4, 1.0f, out4);
  CHECK(out4[3] == Approx(std::sqrt(2.0)).epsilon(1e-6));
  // In place, against a double-precision formula.
  std::vector<float> v = Random(768, 1, 5.0f), wv = Random(768, 2);
  double ss = 0;
  for (float f : v) ss += double(f) * f;
  const double scale = 1.0 / std::sqrt(ss / 768 + 1e-6);
  std::vector<float> expect(768);
  for (int i = 0; i < 768; ++i) expect[i] = static_cast<float>(v[i] * scale * wv[i]);
  RmsNormReference(v.data(), wv.data(), 768, 1e-6f, v.data());
  for (int i = 0; i < 768; ++i) REQUIRE(v[i] == Approx(expect[i]).epsilon(1e-5).margin(1e-6));
}

TEST_CASE("NEOX RoPE", "[ops]") {
  // n_rot 4, base 10000, position 1: pair (0, 2) turns by 1 rad, pair (1, 3) by 10000^(-1/2).
  float x[4] = {1, 1, 0, 0};
  RopeNeoxReference(x, 4, 1, 10000.0f);
  CHECK(x[0] == Approx(std::cos(1.0)).epsilon(1e-6));
  CHECK(x[2] == Approx(std::sin(1.0)).epsilon(1e-6));
  CHECK(x[1] == Approx(std::cos(0.01)).epsilon(1e-6));
  CHECK(x[3] == Approx(std::sin(0.01)).epsilon(1e-6));
  // Position 0 is the identity.
  std::vector<float> v = Random(256, 3), v0 = v;
  RopeNeoxReference(v.data(), 256, 0, 1e6f);
  CHECK(v == v0);
  // Against the closed form with pow per index, in double, at a far position.
  const int pos = 1777, n_rot = 48;
  const double base = 1e4;
  std::vector<float> a = Random(64, 4), b = a;
  RopeNeoxReference(b.data(), n_rot, pos, static_cast<float>(base));
  for (int i = 0; i < n_rot / 2; ++i) {
    const double theta = pos * std::pow(base, -2.0 * i / n_rot);
    const double x0 = a[i], x1 = a[i + n_rot / 2];
    // f32 angles accumulate ~1e-6 relative error, i.e. up to ~2e-3 rad at position 1777.
    CHECK(b[i] == Approx(x0 * std::cos(theta) - x1 * std::sin(theta)).margin(5e-3));
    CHECK(b[i + n_rot / 2] == Approx(x0 * std::sin(theta) + x1 * std::cos(theta)).margin(5e-3));
  }
  // Dimensions past n_rot are untouched.
  for (int i = n_rot; i < 64; ++i) CHECK(b[i] == a[i]);
}

TEST_CASE("GELU through ggml's f16 table", "[ops]") {
  // f16(gelu(1)) = f16(0.8411919906): steps of 2^-11 in [0.5, 1), 1722.76 steps -> 1723·2^-11.
  CHECK(GeluF16(1.0f) == 0.84130859375f);
  CHECK(GeluF16(-10.0f) == 0.0f);  // exactly 0 at and below -10
  CHECK(GeluF16(10.0f) == 10.0f);  // the identity at and above 10
  CHECK(GeluF16(12.345f) == 12.345f);
  CHECK(GeluF16(0.0f) == 0.0f);
  // Every table entry is an f16 value: the f16 of GeluTanh at an f16 input.
  const float* table = GeluTable();
  for (uint32_t h = 0; h < 65536; h += 7) {
    const float v = table[h];
    REQUIRE((std::isnan(v) || F16ToF32(F32ToF16(v)) == v));
  }
}

TEST_CASE("GELU (tanh approximation)", "[ops]") {
  CHECK(GeluTanh(0.0f) == 0.0f);
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) at ±1 and 3, computed by hand in double.
  CHECK(GeluTanh(1.0f) == Approx(0.8411919906).epsilon(1e-6));
  CHECK(GeluTanh(-1.0f) == Approx(-0.1588080094).epsilon(1e-6));
  CHECK(GeluTanh(3.0f) == Approx(2.99636261).epsilon(1e-6));
  CHECK(GeluTanh(-12.0f) == Approx(0.0).margin(1e-12));
}

TEST_CASE("deterministic exp", "[ops]") {
  CHECK(ExpF32(0.0f) == 1.0f);
  CHECK(ExpF32(-100.0f) == 0.0f);  // below the subnormal range: flushed
  CHECK(std::isinf(ExpF32(100.0f)));
  // Within about one ulp of the double-precision exponential over the softmax range.
  for (float x = -87.0f; x <= 0.0f; x += 0.0137f) {
    const double e = std::exp(double(x));
    REQUIRE(ExpF32(x) == Approx(e).epsilon(3e-7));
  }
  for (float x = 0.0f; x <= 88.0f; x += 0.0911f) {
    REQUIRE(ExpF32(x) == Approx(std::exp(double(x))).epsilon(3e-7));
  }
}

// Attention computed the obvious way in double, with an explicit mask, on inputs rounded the
// way the kernel's storage rounds them (K and V to f16; Q too when `round_q`).
std::vector<double> NaiveAttention(std::vector<float> q, std::vector<float> k, std::vector<float> v,
                                   int T, int H, int Hkv, int dh, int window, bool round_q) {
  auto r16 = [](float x) { return F16ToF32(F32ToF16(x)); };
  for (float& x : k) x = r16(x);
  for (float& x : v) x = r16(x);
  if (round_q)
    for (float& x : q) x = r16(x);
  std::vector<double> out(size_t(T) * H * dh, 0.0);
  for (int h = 0; h < H; ++h) {
    const int g = h * Hkv / H;  // heads are grouped contiguously
    for (int t = 0; t < T; ++t) {
      std::vector<double> s(T);
      double max = -1e300;
      for (int u = 0; u < T; ++u) {
        const bool allowed = window < 0 || std::abs(t - u) <= window;
        s[u] = -1e300;
        if (!allowed) continue;
        double dot = 0;
        for (int i = 0; i < dh; ++i)
          dot += double(q[(t * H + h) * dh + i]) * k[(u * Hkv + g) * dh + i];
        s[u] = dot;
        max = std::max(max, dot);
      }
      double sum = 0;
      for (int u = 0; u < T; ++u) sum += s[u] > -1e299 ? std::exp(s[u] - max) : 0.0;
      for (int u = 0; u < T; ++u) {
        if (s[u] < -1e299) continue;
        const double p = std::exp(s[u] - max) / sum;
        for (int i = 0; i < dh; ++i) out[(t * H + h) * dh + i] += p * v[(u * Hkv + g) * dh + i];
      }
    }
  }
  return out;
}

TEST_CASE("which attention shapes accumulate in f16", "[ops]") {
  CHECK(AttentionAccumulatesInF16(63, 256));
  CHECK(!AttentionAccumulatesInF16(64, 256));
  CHECK(!AttentionAccumulatesInF16(2000, 48));
  CHECK(AttentionAccumulatesInF16(2000, 40));  // not a multiple of 16
}

TEST_CASE("attention with f32 accumulation: GQA grouping and the symmetric window", "[ops]") {
  const int T = 70, H = 4, Hkv = 2, dh = 16;  // 70 rows, head_dim 16: the f32 (tiled) case
  std::vector<float> q = Random(T * H * dh, 5), k = Random(T * Hkv * dh, 6),
                     v = Random(T * Hkv * dh, 7);
  for (int window : {-1, 0, 3, 8, 100}) {
    INFO("half window " << window);
    std::vector<float> out(T * H * dh);
    AttentionReference(q.data(), k.data(), v.data(), T, H, Hkv, dh, dh, window, out.data());
    const std::vector<double> expect = NaiveAttention(q, k, v, T, H, Hkv, dh, window, false);
    for (size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == Approx(expect[i]).margin(2e-5));
  }
  // A window of 0: each query sees only itself, so the output is its own (f16) value vector.
  std::vector<float> out(T * H * dh);
  AttentionReference(q.data(), k.data(), v.data(), T, H, Hkv, dh, dh, 0, out.data());
  CHECK(out[(5 * H + 3) * dh + 2] ==
        F16ToF32(F32ToF16(v[(5 * Hkv + 1) * dh + 2])));  // head 3 reads KV head 1
}

TEST_CASE("attention with f16 accumulation for short inputs", "[ops]") {
  const int T = 23, H = 4, Hkv = 2, dh = 16;
  std::vector<float> q = Random(T * H * dh, 5), k = Random(T * Hkv * dh, 6),
                     v = Random(T * Hkv * dh, 7);
  for (int window : {-1, 3}) {
    std::vector<float> out(T * H * dh);
    AttentionReference(q.data(), k.data(), v.data(), T, H, Hkv, dh, dh, window, out.data());
    const std::vector<double> expect = NaiveAttention(q, k, v, T, H, Hkv, dh, window, true);
    // The running sum is rounded to f16 (11 bits) after each of up to 23 keys.
    for (size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == Approx(expect[i]).margin(1e-2));
  }
  // One token: the output is its value rounded to f16, not the f32 value.
  const float q1[16] = {}, k1[16] = {};
  float v1[16], o1[16];
  for (int i = 0; i < 16; ++i) v1[i] = 1.0f + std::ldexp(1.0f, -13) * (i + 1);  // below f16's step
  AttentionReference(q1, k1, v1, 1, 1, 1, 16, 16, -1, o1);
  for (int i = 0; i < 16; ++i) CHECK(o1[i] == F16ToF32(F32ToF16(v1[i])));
  CHECK(o1[0] == 1.0f);
}

// numerics.h, order 2b, on values worked by hand: pairs 0 and 8 share partial 0. Pair 0 leaves
// it at 1 (odd value 1·1 first, then 0). Pair 8's odd product 2^-24 + 2^-31 is more than half an
// ulp of 1, so 1 + 2^-23; then its even product 2^-24 is exactly half an ulp: a tie, rounded to
// the even 1 + 2^-22. Even values first would give round(1 + 2^-24) = 1, then 1 + 2^-23.
TEST_CASE("bf16 dot products by pairs, odd value first", "[ops]") {
  std::vector<float> w(18, 1.0f), x(18, 0.0f);
  x[1] = 1.0f;
  x[16] = std::ldexp(1.0f, -24);
  x[17] = std::ldexp(1.0f + std::ldexp(1.0f, -7), -24);  // a bf16 value: 8 significant bits
  CHECK(DotBf16Pairs(w.data(), x.data(), 1, 18) == 1.0f + std::ldexp(1.0f, -22));
  // The stride walks a transposed layout; an odd length ends on an even value alone.
  std::vector<float> xt(3 * 19, 0.0f);
  for (int i = 0; i < 18; ++i) xt[3 * i] = x[i];
  xt[3 * 18] = std::ldexp(1.0f, -23);  // pair 9 (partial 1): alone, added to the tree exactly
  w.push_back(1.0f);
  CHECK(DotBf16Pairs(w.data(), xt.data(), 3, 19) ==
        1.0f + std::ldexp(1.0f, -22) + std::ldexp(1.0f, -23));
  // Tame: zero, and magnitudes in [2^-51, 2^50).
  CHECK(Bf16Tame(0x0000));
  CHECK(Bf16Tame(0x8000));  // -0
  CHECK(Bf16Tame(F32ToBf16(std::ldexp(1.0f, -51))));
  CHECK_FALSE(Bf16Tame(F32ToBf16(std::ldexp(1.5f, -52))));
  CHECK(Bf16Tame(F32ToBf16(-std::ldexp(1.99f, 49))));
  CHECK_FALSE(Bf16Tame(F32ToBf16(std::ldexp(1.0f, 50))));
  CHECK_FALSE(Bf16Tame(0x0001));  // subnormal
  CHECK_FALSE(Bf16Tame(0x7F80));  // infinity
  CHECK_FALSE(Bf16Tame(0x7FC0));  // NaN
}

TEST_CASE("activation rounding before a dot product", "[ops]") {
  // Every type the engine reads, as ggml-cpu's type traits give its vec_dot_type (the reference
  // products' tests round through ActivationType, so they cannot see a wrong entry here).
  CHECK(ActivationType(GgmlType::kQ8_0) == GgmlType::kQ8_0);
  CHECK(ActivationType(GgmlType::kQ4_0) == GgmlType::kQ8_0);
  CHECK(ActivationType(GgmlType::kQ5_0) == GgmlType::kQ8_0);
  CHECK(ActivationType(GgmlType::kQ4_1) == GgmlType::kQ8_1);
  CHECK(ActivationType(GgmlType::kQ5_1) == GgmlType::kQ8_1);
  CHECK(ActivationType(GgmlType::kQ4_K) == GgmlType::kQ8_K);
  CHECK(ActivationType(GgmlType::kQ5_K) == GgmlType::kQ8_K);
  CHECK(ActivationType(GgmlType::kQ6_K) == GgmlType::kQ8_K);
  CHECK(ActivationType(GgmlType::kF16) == GgmlType::kF16);
  CHECK(ActivationType(GgmlType::kBF16) == GgmlType::kBF16);
  CHECK(ActivationType(GgmlType::kF32) == GgmlType::kF32);
  // Q8_0 at run time: id = 127/amax, ties to even. amax = 127 -> scale 1: 0.5 -> 0, 1.5 -> 2,
  // -2.5 -> -2 (the converter's reference quantizer would give 1, 2, -3).
  float x[32] = {127.0f, 0.5f, 1.5f, -2.5f, 3.49f};
  BlockQ8_0 b;
  QuantizeActivationsQ8_0(x, &b, 32);
  CHECK(b.d == 0x3C00);
  CHECK(b.qs[0] == 127);
  CHECK(b.qs[1] == 0);
  CHECK(b.qs[2] == 2);
  CHECK(b.qs[3] == -2);
  CHECK(b.qs[4] == 3);
  RoundThroughActivationType(GgmlType::kQ8_0, x, 32);
  CHECK(x[2] == 2.0f);
  // F16 rounding: 1 + 2^-12 is below half an f16 ulp at 1 and rounds to 1.
  float h[1] = {1.0f + std::ldexp(1.0f, -12)};
  RoundThroughActivationType(GgmlType::kF16, h, 1);
  CHECK(h[0] == 1.0f);
  // Q8_K: the largest magnitude (-4) maps to -127 with d = 1/(-127/-4) = 4/127... sign kept.
  std::vector<float> k(256, 0.0f);
  k[0] = -4.0f;
  k[1] = 1.0f;
  RoundThroughActivationType(GgmlType::kQ8_K, k.data(), 256);
  CHECK(k[0] == Approx(-4.0f).epsilon(1e-6));
  CHECK(k[1] == Approx(32 * 4.0 / 127).epsilon(1e-6));  // round(127/4) = 32 steps
}

// Builds a Q8_0 matrix [rows × cols] from floats with the converter's quantizer.
struct OwnedMatrix {
  std::vector<uint8_t> bytes;
  Matrix m;
};
OwnedMatrix MakeMatrix(GgmlType type, const std::vector<float>& w, int rows, int cols) {
  OwnedMatrix o;
  const uint64_t row_bytes = RowBytes(type, cols);
  o.bytes.resize(row_bytes * rows);
  for (int r = 0; r < rows; ++r) {
    REQUIRE(QuantizeRow(type, &w[size_t(r) * cols], cols, &o.bytes[r * row_bytes]).ok());
  }
  o.m = Matrix{"w", type, o.bytes.data(), rows, cols, row_bytes};
  return o;
}

TEST_CASE("matrix product with ggml's activation rounding", "[ops]") {
  const int rows = 7, cols = 96, T = 5;
  const std::vector<float> w = Random(rows * cols, 8, 0.1f), x = Random(T * cols, 9);
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kF16, GgmlType::kF32}) {
    INFO(GetGgmlType(type).name);
    OwnedMatrix m = MakeMatrix(type, w, rows, cols);
    std::vector<float> y(T * rows);
    MatMulReference(m.m, x.data(), T, y.data());
    // Independently: dequantize each weight, round each activation through its type by hand
    // (Q8_0: blocks of 32, scale max|x|/127 as f16, round(x·127/max) to even), dot in double.
    for (int t = 0; t < T; ++t) {
      std::vector<double> xt(cols);
      for (int b = 0; b < cols / 32; ++b) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[t * cols + b * 32 + j]));
        for (int j = 0; j < 32; ++j) {
          const float xv = x[t * cols + b * 32 + j];
          if (type == GgmlType::kQ8_0) {
            xt[b * 32 + j] =
                std::nearbyint(xv * (127.0f / amax)) * F16ToF32(F32ToF16(amax / 127.0f));
          } else if (type == GgmlType::kF16) {
            xt[b * 32 + j] = F16ToF32(F32ToF16(xv));
          } else {
            xt[b * 32 + j] = xv;
          }
        }
      }
      for (int r = 0; r < rows; ++r) {
        std::vector<float> wr(cols);
        REQUIRE(DequantizeRow(type, m.m.Row(r), wr.data(), cols).ok());
        double dot = 0;
        for (int c = 0; c < cols; ++c) dot += wr[c] * xt[c];
        REQUIRE(y[t * rows + r] == Approx(dot).epsilon(1e-5).margin(1e-5));
      }
    }
  }
}

// Random bytes are valid blocks for every quantized type once the f16 scales are sane: set each
// block's d (and m / dmin) to a small value, then compare with a double-precision dot product of
// the dequantized weights and the activations rounded the way ggml rounds them for that type.
TEST_CASE("matrix product for every supported weight type", "[ops]") {
  const int rows = 5, T = 3;
  std::mt19937 rng(11);
  for (GgmlType type :
       {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0,
        GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kBF16}) {
    const GgmlTypeInfo& info = GetGgmlType(type);
    INFO(info.name);
    const int cols = 512;
    const uint64_t row_bytes = RowBytes(type, cols);
    std::vector<uint8_t> bytes(row_bytes * rows);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    const uint16_t small = F32ToF16(0.01f), tiny = F32ToF16(0.001f);
    for (uint64_t off = 0; off < bytes.size(); off += info.type_size) {
      uint8_t* blk = &bytes[off];
      switch (type) {
        case GgmlType::kQ6_K:
          std::memcpy(blk + 208, &small, 2);
          break;  // d at the end
        case GgmlType::kBF16: {
          const uint16_t v = F32ToBf16(std::ldexp(float(int(rng() % 200) - 100), -7));
          std::memcpy(blk, &v, 2);
          break;
        }
        default:
          std::memcpy(blk, &small, 2);  // d first
          if (type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1 || type == GgmlType::kQ4_K ||
              type == GgmlType::kQ5_K) {
            std::memcpy(blk + 2, &tiny, 2);  // m or dmin
          }
      }
    }
    const Matrix m{"w", type, bytes.data(), rows, cols, row_bytes};
    const std::vector<float> x = Random(T * cols, 12);
    std::vector<float> y(T * rows);
    MatMulReference(m, x.data(), T, y.data());
    for (int t = 0; t < T; ++t) {
      std::vector<float> xt(x.begin() + t * cols, x.begin() + (t + 1) * cols);
      RoundThroughActivationType(ActivationType(type), xt.data(), cols);
      for (int r = 0; r < rows; ++r) {
        std::vector<float> wr(cols);
        REQUIRE(DequantizeRow(type, m.Row(r), wr.data(), cols).ok());
        double dot = 0, mag = 0;
        for (int c = 0; c < cols; ++c) {
          dot += double(wr[c]) * xt[c];
          mag += std::fabs(double(wr[c]) * xt[c]);
        }
        // f32 sums of up to 512 terms: allow a few ulps of the sum of magnitudes.
        REQUIRE(y[t * rows + r] == Approx(dot).margin(1e-6 * mag + 1e-6));
      }
    }
  }
}

TEST_CASE("pooling and L2 normalization", "[ops]") {
  // Three tokens of two values.
  const float h[6] = {1, 2, 3, 4, 8, 0};
  float out[6];
  Pool(Pooling::kMean, h, 3, 2, out);
  CHECK(out[0] == Approx(4.0f));
  CHECK(out[1] == Approx(2.0f));
  Pool(Pooling::kCls, h, 3, 2, out);
  CHECK((out[0] == 1 && out[1] == 2));
  Pool(Pooling::kLast, h, 3, 2, out);
  CHECK((out[0] == 8 && out[1] == 0));
  Pool(Pooling::kNone, h, 3, 2, out);
  CHECK(std::equal(out, out + 6, h));
  CHECK(PooledRows(Pooling::kNone, 3) == 3);
  CHECK(PooledRows(Pooling::kMean, 3) == 1);
  float v[2] = {3, 4};
  NormalizeL2(v, 2);
  CHECK(v[0] == Approx(0.6f));
  CHECK(v[1] == Approx(0.8f));
  float z[3] = {0, 0, 0};
  NormalizeL2(z, 3);
  CHECK((z[0] == 0 && z[1] == 0 && z[2] == 0));
}

}  // namespace
}  // namespace ggufembed
