// Every SIMD kernel against the scalar reference (kernels/reference.h, numerics.h), on every target
// compiled into this build that this CPU runs (Highway's per-target test pattern), and each
// hand-tuned x86 int8 kernel beside the portable one. The kernels promise the reference's bits,
// so the comparisons are exact. Sizes are chosen not to be multiples of the vector widths, and
// inputs are misaligned on purpose.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/activation_quant.h"
#include "kernels/gelu.h"
#include "kernels/matmul.h"
#include "kernels/numerics.h"
#include "kernels/reference.h"
#include "kernels/relaxed_dot.h"
#include "util/fp16.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels_test.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "kernels/attention-inl.h"
#include "kernels/bf16_x86-inl.h"
#include "kernels/matmul-inl.h"
#include "kernels/matmul_input-inl.h"
#include "kernels/norm_rope-inl.h"
#include "kernels/vec_math-inl.h"

#ifndef GGUFEMBED_TESTS_KERNELS_TEST_HELPERS_
#define GGUFEMBED_TESTS_KERNELS_TEST_HELPERS_
namespace ggufembed::kernels_test {

inline std::vector<float> Random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline uint32_t Bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

// Same bits (NaNs of any payload count as equal).
inline bool SameBits(float a, float b) {
  return Bits(a) == Bits(b) || (std::isnan(a) && std::isnan(b));
}

// Index of the first element whose bits differ, or -1.
inline long FirstDifference(const float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!SameBits(a[i], b[i])) return static_cast<long>(i);
  }
  return -1;
}

// Weight rows of `type` with random contents and sane scales (as in reference_ops_test), each
// block's its own (a kernel that took one row's scale for another's would show), placed `offset`
// bytes into their buffer so that rows are misaligned. Q8_0 values include -128 unless
// `minus128` is false (then -127 stands in: kernels with a separate path for -128 need both).
struct RandomMatrix {
  std::vector<uint8_t> bytes;
  Matrix m;
  RandomMatrix(GgmlType type, int rows, int cols, uint32_t seed, size_t offset,
               bool minus128 = true) {
    std::mt19937 rng(seed);
    const GgmlTypeInfo& info = GetGgmlType(type);
    const uint64_t row_bytes = RowBytes(type, cols);
    bytes.resize(offset + row_bytes * rows);
    uint8_t* data = bytes.data() + offset;
    for (uint64_t i = 0; i < row_bytes * rows; ++i) data[i] = static_cast<uint8_t>(rng());
    // Scales of 0.005–0.0125 and minimums of 0.001–0.0025, by block.
    const auto scale = [&](float unit) { return F32ToF16(unit * float(4 + rng() % 7) / 4.0f); };
    if (type == GgmlType::kF32) {
      for (int i = 0; i < rows * cols; ++i) {
        const float v = std::ldexp(float(int(rng() % 2000) - 1000), -9);
        std::memcpy(data + 4 * i, &v, 4);
      }
    } else if (type == GgmlType::kF16 || type == GgmlType::kBF16) {
      for (int i = 0; i < rows * cols; ++i) {
        const float v = std::ldexp(float(int(rng() % 200) - 100), -7);
        const uint16_t h = type == GgmlType::kF16 ? F32ToF16(v) : F32ToBf16(v);
        std::memcpy(data + 2 * i, &h, 2);
      }
    } else {
      for (uint64_t off = 0; off < row_bytes * rows; off += info.type_size) {
        uint8_t* blk = data + off;
        const uint16_t d = scale(0.005f), m = scale(0.001f);
        if (type == GgmlType::kQ6_K) {
          std::memcpy(blk + 208, &d, 2);  // d at the end
          continue;
        }
        std::memcpy(blk, &d, 2);  // d first
        if (type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1 || type == GgmlType::kQ4_K ||
            type == GgmlType::kQ5_K) {
          std::memcpy(blk + 2, &m, 2);  // m or dmin
        }
      }
      if (type == GgmlType::kQ8_0) {
        // ggml never writes -128, but a file may: put some in to check the kernels handle it.
        for (uint64_t off = 0; off < row_bytes * rows; off += 34 * 7)
          data[off + 2 + off % 32] = 0x80;
        if (!minus128) {
          for (uint64_t i = 0; i < row_bytes * rows; ++i) {
            if (i % 34 >= 2 && data[i] == 0x80) data[i] = 0x81;
          }
        }
      }
    }
    m = Matrix{"w", type, data, rows, cols, row_bytes};
  }
};

// One attention shape.
struct AttentionShape {
  int T, n_head, n_head_kv, head_dim, head_dim_v, half_window;
};

}  // namespace ggufembed::kernels_test
#endif  // GGUFEMBED_TESTS_KERNELS_TEST_HELPERS_

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace kt = kernels_test;

// Values that exercise every branch of the scalar functions: edges, subnormals, infinities.
std::vector<float> SpecialValues() {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          1.0f,
                          -1.0f,
                          0.5f,
                          88.0f,
                          88.5f,
                          -87.0f,
                          -87.5f,
                          -100.0f,
                          1e-30f,
                          -1e-30f,
                          65504.0f,
                          65520.0f,
                          70000.0f,
                          6e-8f,
                          3e-8f,
                          2.9e-8f,
                          1e-5f,
                          9.999f,
                          10.0f,
                          -10.0f,
                          -9.99f,
                          10.01f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()};
  for (float x : kt::Random(3000, 1, 20.0f)) v.push_back(x);
  for (float x : kt::Random(1000, 2, 1e-4f)) v.push_back(x);
  while (v.size() % 64) v.push_back(0.25f);
  return v;
}

void TestElementwise() {
  const hn::ScalableTag<float> df;
  const size_t L = hn::Lanes(df);
  const std::vector<float> x = SpecialValues();
  const float* table = GeluTable();
  std::vector<float> got(L);
  for (size_t i = 0; i + L <= x.size(); i += L) {
    const auto v = hn::LoadU(df, x.data() + i);
    hn::StoreU(ExpVec(df, v), df, got.data());
    for (size_t l = 0; l < L; ++l) {
      INFO("exp(" << x[i + l] << ")");
      if (std::isnan(x[i + l])) {  // NaN in, NaN out (its payload is unspecified)
        REQUIRE(std::isnan(got[l]));
        REQUIRE(std::isnan(ExpF32(x[i + l])));
        continue;
      }
      REQUIRE(kt::SameBits(got[l], ExpF32(x[i + l])));
    }
    hn::StoreU(RoundToF16(df, v), df, got.data());
    for (size_t l = 0; l < L; ++l) {
      INFO("round to f16 (" << x[i + l] << ")");
      REQUIRE(kt::SameBits(got[l], F16ToF32(F32ToF16(x[i + l]))));
    }
    hn::StoreU(GeluF16Vec(df, v, table), df, got.data());
    for (size_t l = 0; l < L; ++l) {
      INFO("gelu(" << x[i + l] << ")");
      REQUIRE(kt::SameBits(got[l], GeluF16(x[i + l])));
    }
  }
  // GeGluInPlace over every length to 20, so its vectors and its scalar tail both run, from
  // every 7th offset of the special values (the up operand the values shifted by 5).
  for (size_t n = 0; n <= 20; ++n) {
    for (size_t off = 0; off + n + 5 <= x.size(); off += 7) {
      std::vector<float> gate(x.begin() + off, x.begin() + off + n);
      const std::vector<float> up(x.begin() + off + 5, x.begin() + off + 5 + n);
      GeGluInPlace(gate.data(), up.data(), n, table);
      for (size_t i = 0; i < n; ++i) {
        const float want = GeluF16(x[off + i]) * up[i];
        INFO("geglu n " << n << " offset " << off << " value " << i << ": " << x[off + i]);
        if (std::isnan(want)) {
          REQUIRE(std::isnan(gate[i]));
        } else {
          REQUIRE(kt::SameBits(gate[i], want));
        }
      }
    }
  }
}

// F16BitsToF32 converts every half as F16ToF32 does, and RoundToF16 rounds as
// F16ToF32(F32ToF16(x)) does at every place the rounding can go wrong: each finite half, its f32
// neighbours, the midpoint to the next half (a tie: to even) and the midpoint's neighbours, of
// both signs, from the subnormal halves through 65504 and the overflow to infinity at 65520; f32
// subnormals; and NaN, which becomes the quiet NaN of its sign.
void TestF16Conversions() {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const size_t L = hn::Lanes(df);
  std::vector<uint32_t> halves(65536);
  for (uint32_t h = 0; h < 65536; ++h) halves[h] = h;
  std::vector<float> widened(65536);
  for (size_t i = 0; i < halves.size(); i += L) {
    hn::StoreU(F16BitsToF32(df, hn::LoadU(du, halves.data() + i)), df, widened.data() + i);
  }
  for (uint32_t h = 0; h < 65536; ++h) {
    INFO("half " << std::hex << h);
    REQUIRE(kt::SameBits(widened[h], F16ToF32(static_cast<uint16_t>(h))));
  }
  std::vector<float> x;
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float v = F16ToF32(static_cast<uint16_t>(h));
    const float next = h + 1 < 0x7C00 ? F16ToF32(static_cast<uint16_t>(h + 1)) : 65536.0f;
    const float mid = v + (next - v) / 2;  // exact: halves have 11 significant bits
    for (float y : {v, std::nextafter(v, 0.0f), std::nextafter(v, 1e9f), mid,
                    std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)}) {
      x.push_back(y);
      x.push_back(-y);
    }
  }
  for (float y :
       {std::numeric_limits<float>::denorm_min(), 1e-40f, 1e-20f, 65519.99f, 65520.0f, 1e5f, 3e38f,
        std::numeric_limits<float>::max(), std::numeric_limits<float>::infinity()}) {
    x.push_back(y);
    x.push_back(-y);
  }
  const size_t finite = x.size();
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  x.push_back(-std::numeric_limits<float>::quiet_NaN());
  x.push_back(std::numeric_limits<float>::signaling_NaN());
  while (x.size() % L) x.push_back(1.0f);
  std::vector<float> got(x.size());
  for (size_t i = 0; i < x.size(); i += L) {
    hn::StoreU(RoundToF16(df, hn::LoadU(df, x.data() + i)), df, got.data() + i);
  }
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("round to f16 (" << x[i] << ", bits " << std::hex << kt::Bits(x[i]) << ")");
    if (i >= finite && std::isnan(x[i])) {
      REQUIRE(kt::Bits(got[i]) == ((kt::Bits(x[i]) & 0x80000000u) | 0x7FC00000u));
    } else {
      REQUIRE(kt::Bits(got[i]) == kt::Bits(F16ToF32(F32ToF16(x[i]))));
    }
  }
}

// AllFiniteVec equals AllFinite with one NaN or infinity at every position of short and long
// arrays (the vector part and the tail), and on finite extremes.
void TestAllFinite() {
  for (size_t n : {size_t{1}, size_t{7}, size_t{33}, size_t{100}}) {
    std::vector<float> x = kt::Random(n, 5, 1e30f);
    x[0] = std::numeric_limits<float>::max();
    x[n - 1] = -std::numeric_limits<float>::denorm_min();
    REQUIRE(AllFiniteVec(x.data(), n));
    REQUIRE(AllFinite(x.data(), int64_t(n)));
    for (float bad :
         {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
          -std::numeric_limits<float>::infinity()}) {
      for (size_t i = 0; i < n; ++i) {
        std::vector<float> y = x;
        y[i] = bad;
        INFO(n << " values, " << bad << " at " << i);
        REQUIRE_FALSE(AllFiniteVec(y.data(), n));
        REQUIRE_FALSE(AllFinite(y.data(), int64_t(n)));
      }
    }
  }
}

void TestRmsNormRope() {
  for (int n : {20, 64, 256, 259}) {
    const int rows = 11;
    const std::vector<float> x = kt::Random(size_t(rows) * n + 1, 5, 3.0f);
    const std::vector<float> w = kt::Random(n, 6);
    std::vector<float> got(size_t(rows) * n + 1), want(got.size());
    RmsNormRows(x.data() + 1, w.data(), rows, n, n, 1e-6f, got.data() + 1);
    for (int r = 0; r < rows; ++r) {
      RmsNormReference(x.data() + 1 + size_t(r) * n, w.data(), n, 1e-6f,
                       want.data() + 1 + size_t(r) * n);
    }
    INFO("RMS norm, n " << n);
    REQUIRE(kt::FirstDifference(got.data(), want.data(), got.size()) == -1);
  }
  for (int head_dim : {20, 32, 256}) {
    const int T = 9, heads = 3, n_rot = head_dim, half = n_rot / 2;
    std::vector<float> x = kt::Random(size_t(T) * heads * head_dim + 1, 7, 2.0f), want = x;
    std::vector<float> cos_table(size_t(T) * half), sin_table(size_t(T) * half);
    for (int t = 0; t < T; ++t)
      RopeCosSin(10000.0f, n_rot, t, &cos_table[t * half], &sin_table[t * half]);
    RopeRows(x.data() + 1, T, heads, head_dim, n_rot, cos_table.data(), sin_table.data());
    for (int t = 0; t < T; ++t) {
      for (int h = 0; h < heads; ++h) {
        RopeNeoxReference(want.data() + 1 + (size_t(t) * heads + h) * head_dim, n_rot, t, 10000.0f);
      }
    }
    INFO("RoPE, head_dim " << head_dim);
    REQUIRE(kt::FirstDifference(x.data(), want.data(), x.size()) == -1);
  }
}

// The int8 kernels this target has: the portable one and the hand-tuned one, if any. In
// WebAssembly the relaxed-SIMD kernel runs in both builds: on the instruction in the relaxed one
// (tests/wasm/relaxed.test.mjs runs this suite so), on its plain stand-in in the SIMD128 one.
std::vector<Int8Kernel> Int8Kernels() {
  std::vector<Int8Kernel> kernels = {Int8Kernel::kPortable};
  if (NativeInt8Kernel() != Int8Kernel::kPortable) kernels.push_back(NativeInt8Kernel());
#if GGUFEMBED_RELAXED_INT8
  if (NativeInt8Kernel() != Int8Kernel::kRelaxed) kernels.push_back(Int8Kernel::kRelaxed);
#endif
  return kernels;
}

// Runs body(on) with the relaxed build's int32 dot product kernels (Q8_0's, the 4- to 6-bit
// types' int32 form) switched off and on (RelaxedInt32Dot) in WebAssembly, where the package may
// switch them off at load, else once as it is (on); leaves them on, also when a REQUIRE fails
// inside.
template <class Body>
void ForEachRelaxedInt32Dot(const Body& body) {
#if GGUFEMBED_RELAXED_INT8
  struct BackOn {
    ~BackOn() { ggufembed_set_relaxed_int32_dot(1); }
  } back_on;
  for (bool on : {false, true}) {
    ggufembed_set_relaxed_int32_dot(on);
    body(on);
  }
#else
  body(true);
#endif
}

// A MatMulInput with its own buffers, for `T` tokens of `cols` values, carved as the forward
// pass carves them.
struct Input {
  Arena arena;
  MatMulInput in{};
  Input(int T, int cols, Int8Kernel kernel) {
    REQUIRE(
        arena.Carve([&](Arena& a) { CarveMatMulInput(a, T, cols, LayoutOf(kernel), &in); }).ok());
    in.n_tokens = T;
    in.cols = cols;
  }
};

// Where value j of block b of token t sits in the kS8QuadGroups layout of P padded tokens:
// [block][group of 4 tokens][group of 4 values][4 tokens][4 values].
size_t QuadGroupsAt(int P, int b, int t, int j) {
  return (((size_t(b) * (P / 4) + t / 4) * 8 + j / 4) * 4 + t % 4) * 4 + j % 4;
}

// Value j of block b of token t in `in`'s int8 layout, indexed independently of the kernels'
// index helpers.
int LayoutValue(const MatMulInput& in, int b, int t, int j) {
  const int P = in.padded_tokens;
  if (in.layout == Int8Layout::kS8Quads) {
    return static_cast<const int8_t*>(in.q)[((size_t(b) * 8 + j / 4) * P + t) * 4 + j % 4];
  }
  if (in.layout == Int8Layout::kS8QuadGroups) {
    return static_cast<const int8_t*>(in.q)[QuadGroupsAt(P, b, t, j)];
  }
  // [block][group of L tokens][pair][L tokens][2 values]
  const size_t L = Int8Lanes(), group = size_t(t) / L;
  return static_cast<const int16_t*>(
      in.q)[(((size_t(b) * (P / L) + group) * 16 + j / 2) * L + t % L) * 2 + j % 2];
}

// Q8_0 activations in each kernel's layout: the values, scales and sums of
// QuantizeActivationsQ8_0, and in the relaxed kernel's layout |q|, the sign masks and the sums of
// the negative values' magnitudes (Q8_0 weights multiply those) — padding tokens all zeros.
void TestQuantizeToInput() {
  for (Int8Kernel kernel : Int8Kernels()) {
    for (int T : {1, 3, 13, 33, 70}) {
      const int cols = 96, nb = cols / 32;
      const std::vector<float> x = kt::Random(size_t(T) * cols + 1, 8, 2.0f);
      Input input(T, cols, kernel);
      input.in.n_tokens = T;
      PrepareMatMulInput(GgmlType::kQ8_0, x.data() + 1, &input.in);
      const int P = input.in.padded_tokens;
      REQUIRE(P >= (T + kTokenPadding - 1) / kTokenPadding * kTokenPadding);  // whole tiles
      REQUIRE(P * 4 % 128 == 64);  // rows of the layouts an odd number of cache lines apart
      std::vector<BlockQ8_0> want(static_cast<size_t>(nb));
      for (int t = 0; t < P; ++t) {
        if (t < T) QuantizeActivationsQ8_0(x.data() + 1 + size_t(t) * cols, want.data(), cols);
        for (int b = 0; b < nb; ++b) {
          INFO("kernel " << int(kernel) << " T " << T << " token " << t << " block " << b);
          int sum = 0, neg_sum = 0;
          const bool sign_magnitude = input.in.layout == Int8Layout::kS8QuadGroups;
          REQUIRE(sign_magnitude == (kernel == Int8Kernel::kRelaxed));  // RelaxedInt32Dot: on
          for (int j = 0; j < 32; ++j) {
            const int expected = t < T ? want[b].qs[j] : 0;
            sum += expected;
            REQUIRE(LayoutValue(input.in, b, t, j) == expected);
            if (!sign_magnitude) continue;
            neg_sum += expected < 0 ? -expected : 0;
            const size_t in_layout = QuadGroupsAt(P, b, t, j);
            REQUIRE(int{input.in.abs_q[in_layout]} == std::abs(expected));
            REQUIRE(int{input.in.sgn_q[in_layout]} == (expected < 0 ? 0xFF : 0));
          }
          const size_t at = size_t(b) * P + t;
          if (sign_magnitude) REQUIRE(input.in.neg_sum[at] == neg_sum);
          REQUIRE(kt::SameBits(input.in.d[at], t < T ? F16ToF32(want[b].d) : 0.0f));
          REQUIRE(input.in.bias[at] == -128 * sum);
          // Q8_1's s as ggml's quantize_row_q8_1 makes it: the f32 max|x|/127 (not the f16 d)
          // times the sum, rounded to f16.
          float amax = 0.0f;
          for (int j = 0; j < 32 && t < T; ++j) {
            amax = std::fmax(amax, std::fabs(x[1 + size_t(t) * cols + 32 * b + j]));
          }
          REQUIRE(kt::SameBits(input.in.s[at],
                               t < T ? F16ToF32(F32ToF16(amax / 127.0f * float(sum))) : 0.0f));
        }
      }
    }
  }
}

// The layout PrepareMatMulInput gives an input follows the layout it was carved for, except that
// one carved for the relaxed kernel takes the portable kernel's for Q8_0 weights with
// RelaxedInt32Dot off — and returns to its own for the next product's weights.
void TestInputLayout() {
  const int cols = 256, T_max = 25;
  const std::vector<float> x = kt::Random(size_t(T_max) * cols, 5, 1.0f);
  ForEachRelaxedInt32Dot([&](bool relaxed_q8_0) {
    for (Int8Kernel kernel : Int8Kernels()) {
      const Int8Layout carved = LayoutOf(kernel);
      const bool relaxed = kernel == Int8Kernel::kRelaxed;
      for (int T : {1, 13, T_max}) {
        INFO("kernel " << int(kernel) << " tokens " << T << " relaxed Q8_0 " << relaxed_q8_0);
        Input input(T_max, cols, kernel);
        input.in.n_tokens = T;
        PrepareMatMulInput(GgmlType::kQ8_0, x.data(), &input.in);
        const bool portable = relaxed && !relaxed_q8_0;
        REQUIRE(input.in.layout == (portable ? Int8Layout::kI16Pairs : carved));
        REQUIRE(KernelForLayout(kernel, input.in.layout) ==
                (portable ? Int8Kernel::kPortable : kernel));
        for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_K}) {
          PrepareMatMulInput(type, x.data(), &input.in);
          REQUIRE(input.in.layout == carved);
          REQUIRE(KernelForLayout(kernel, input.in.layout) == kernel);
        }
      }
    }
  });
}

// Activations for K-quant weights: Q8_K super-blocks in every layout, equal to
// QuantizeActivationsQ8_K's values, scales (at each of the 8 blocks) and sums of 16 — with a
// NaN, a vanishing super-block, and ties for the largest magnitude (the first one's sign wins).
void TestQuantizeToInputQ8K() {
  for (Int8Kernel kernel : Int8Kernels()) {
    for (int T : {1, 5, 33}) {
      const int cols = 768, nb = cols / 32;
      std::vector<float> x = kt::Random(size_t(T) * cols + 1, 18, 2.5f);
      float* xt = x.data() + 1;
      if (T > 1) {
        xt[1 * cols + 300] = std::numeric_limits<float>::quiet_NaN();  // token 1, super-block 1
        for (int j = 512; j < 768; ++j) xt[1 * cols + j] = 1e-39f;     // token 1, super-block 2
        xt[1 * cols + 10] = -30.0f;  // token 1, super-block 0: −30 first, then +30
        xt[1 * cols + 20] = 30.0f;
      }
      Input input(T, cols, kernel);
      PrepareMatMulInput(GgmlType::kQ4_K, xt, &input.in);
      REQUIRE(input.in.type == GgmlType::kQ8_K);
      const int P = input.in.padded_tokens;
      std::vector<BlockQ8_K> want(cols / 256);
      for (int t = 0; t < T; ++t) {
        QuantizeActivationsQ8_K(xt + size_t(t) * cols, want.data(), cols);
        if (t == 1) {
          REQUIRE(want[0].qs[10] == -127);  // the first of the two largest maps to −127
          REQUIRE(want[0].qs[20] == 127);
          REQUIRE(std::isnan(want[1].d));
          REQUIRE(want[2].d == 0.0f);
        }
        for (int b = 0; b < nb; ++b) {
          INFO("kernel " << int(kernel) << " T " << T << " token " << t << " block " << b);
          const BlockQ8_K& w = want[b / 8];
          for (int j = 0; j < 32; ++j) {
            const int expected = w.qs[32 * (b % 8) + j];
            REQUIRE(LayoutValue(input.in, b, t, j) == expected);
          }
          const size_t at = size_t(b) * P + t;
          REQUIRE(kt::SameBits(input.in.d[at], w.d));
          REQUIRE(input.in.bsum[2 * at] == w.bsums[2 * (b % 8)]);
          REQUIRE(input.in.bsum[2 * at + 1] == w.bsums[2 * (b % 8) + 1]);
        }
      }
    }
  }
}

// MatMul (and MatMulGeGLU when `geglu`) of T tokens through rows × cols weights of `type` with
// `kernel`, against MatMulReference, bit for bit, into a strided output; Q8_0 weights without
// -128 when not `minus128`.
// MatMul of the T tokens `x` through `w` with `kernel` into a strided output, against
// MatMulReference bit for bit; `want` gets the reference's products [T][rows].
void CheckProduct(const Matrix& w, const float* x, int T, Int8Kernel kernel, Input& input,
                  const MatMulScratch& scratch, std::vector<float>& want) {
  const int rows = static_cast<int>(w.rows);
  want.assign(size_t(T) * rows, 0.0f);
  MatMulReference(w, x, T, want.data());
  PrepareMatMulInput(w.type, x, &input.in);
  const size_t ldy = rows + 3;  // a strided output, as when writing into a wider buffer
  std::vector<float> got(size_t(T) * ldy, -1.0f);
  MatMul(w, input.in, scratch, got.data(), ldy, kernel);
  for (int t = 0; t < T; ++t) {
    INFO("token " << t);
    REQUIRE(kt::FirstDifference(&got[t * ldy], &want[size_t(t) * rows], rows) == -1);
    for (size_t n = rows; n < ldy; ++n) REQUIRE(got[t * ldy + n] == -1.0f);  // untouched
  }
}

void CheckMatMul(GgmlType type, Int8Kernel kernel, int rows, int cols, int T, bool geglu,
                 bool minus128 = true) {
  INFO(GetGgmlType(type).name << " kernel " << int(kernel) << " rows " << rows << " cols " << cols
                              << " tokens " << T << " -128 " << minus128);
  const kt::RandomMatrix w(type, rows, cols, 9 + rows, 1 + rows % 3, minus128);
  const std::vector<float> x = kt::Random(size_t(T) * cols + 1, 10 + T, 1.5f);
  Input input(T, cols, kernel);
  Arena scratch_arena;
  MatMulScratch aligned;
  REQUIRE(scratch_arena.Carve([&](Arena& a) { CarveMatMulScratch(a, T, cols, &aligned); }).ok());
  std::vector<float> want;
  CheckProduct(w.m, x.data() + 1, T, kernel, input, aligned, want);
  if (!geglu) return;
  const size_t ldy = rows + 3;
  const kt::RandomMatrix up(type, rows, cols, 99, 2, minus128);
  std::vector<float> want_up(size_t(T) * rows);
  MatMulReference(up.m, x.data() + 1, T, want_up.data());
  std::vector<float> g(size_t(T) * ldy, -1.0f);
  MatMulGeGLU(w.m, up.m, input.in, aligned, g.data(), ldy, kernel);
  for (int t = 0; t < T; ++t) {
    for (int n = 0; n < rows; ++n) {
      INFO("GeGLU token " << t << " row " << n);
      const size_t at = size_t(t) * rows + n;
      REQUIRE(kt::SameBits(g[t * ldy + n], GeluF16(want[at]) * want_up[at]));
    }
  }
}

// An input prepared for one int8-block type multiplies weights of another as the forward passes
// share it (SharesActivations: Q8_0 and Q8_1 activations hold the same values), with the second
// type's reference bits on every kernel — Q8_0 weights after Q4_1 or Q5_1 ones included, whose
// Q8_1 input must carry the relaxed Q8_0 kernel's operands too.
void TestSharedInput() {
  const int cols = 160, rows = 5;
  const GgmlType types[] = {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0,
                            GgmlType::kQ5_1};
  for (GgmlType first : types) {
    for (GgmlType second : types) {
      REQUIRE(SharesActivations(first, second));
      for (Int8Kernel kernel : Int8Kernels()) {
        ForEachRelaxedInt32Dot([&](bool) {
          for (int T : {1, 13, 33}) {
            INFO(GetGgmlType(first).name << " input, " << GetGgmlType(second).name << " weights, "
                                         << "kernel " << int(kernel) << " tokens " << T);
            const kt::RandomMatrix w(second, rows, cols, 31 + T, 2);
            const std::vector<float> x = kt::Random(size_t(T) * cols, 40 + T, 1.5f);
            Input input(T, cols, kernel);
            Arena scratch_arena;
            MatMulScratch scratch;
            REQUIRE(scratch_arena.Carve([&](Arena& a) { CarveMatMulScratch(a, T, cols, &scratch); })
                        .ok());
            std::vector<float> want(size_t(T) * rows), got(size_t(T) * rows);
            MatMulReference(w.m, x.data(), T, want.data());
            PrepareMatMulInput(first, x.data(), &input.in);
            MatMul(w.m, input.in, scratch, got.data(), rows, kernel);
            REQUIRE(kt::FirstDifference(got.data(), want.data(), got.size()) == -1);
          }
        });
      }
    }
  }
}

// A block of activations holding a NaN or an infinity quantizes to d = NaN and zeros on every
// layout and target, as the reference quantizer does; a block so small that 127 / max|x|
// overflows quantizes to zeros with d = 0 (no undefined conversion either way).
void TestQuantizeNotFinite() {
  const int cols = 96, T = 5;
  std::vector<float> x = kt::Random(size_t(T) * cols, 9, 3.0f);
  x[0 * cols + 3] = std::numeric_limits<float>::quiet_NaN();                 // token 0, block 0
  x[1 * cols + 40] = std::numeric_limits<float>::infinity();                 // token 1, block 1
  x[2 * cols + 95] = -std::numeric_limits<float>::infinity();                // token 2, block 2
  for (int j = 0; j < 32; ++j) x[3 * cols + j] = (j % 2 ? 1 : -1) * 1e-38f;  // token 3, block 0
  std::vector<BlockQ8_0> want(cols / 32);
  for (Int8Kernel kernel : Int8Kernels()) {
    Input input(T, cols, kernel);
    input.in.n_tokens = T;
    PrepareMatMulInput(GgmlType::kQ8_0, x.data(), &input.in);
    const int P = input.in.padded_tokens;
    for (int t = 0; t < T; ++t) {
      QuantizeActivationsQ8_0(x.data() + size_t(t) * cols, want.data(), cols);
      for (int b = 0; b < cols / 32; ++b) {
        INFO("kernel " << int(kernel) << " token " << t << " block " << b);
        const float d = input.in.d[size_t(b) * P + t], want_d = F16ToF32(want[b].d);
        const bool bad = (t == 0 && b == 0) || (t == 1 && b == 1) || (t == 2 && b == 2);
        REQUIRE(std::isnan(d) == bad);
        REQUIRE(std::isnan(want_d) == bad);
        if (bad || (t == 3 && b == 0)) {
          if (!bad) REQUIRE(d == 0.0f);
          for (int j = 0; j < 32; ++j) REQUIRE(want[b].qs[j] == 0);
          REQUIRE(input.in.bias[size_t(b) * P + t] == 0);
        } else {
          REQUIRE(kt::SameBits(d, want_d));
        }
      }
    }
  }
}

void TestMatMul() {
  const GgmlType types[] = {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0,
                            GgmlType::kQ5_1, GgmlType::kF16,  GgmlType::kBF16, GgmlType::kF32,
                            GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K};
  for (GgmlType type : types) {
    const bool k_quant = GetGgmlType(type).block_size == 256;
    const bool int8 = HasInt8Blocks(type);
    // bf16: odd rows (no VDPBF16PS: it takes pairs) here, even ones in TestMatMulBf16.
    const int cols = k_quant ? 512 : int8 ? 160 : 37;
    // The kernels of bf16 weights follow the target's (kVnni: VDPBF16PS where the CPU has it).
    const bool kernels = int8 || k_quant || type == GgmlType::kBF16;
    for (Int8Kernel kernel :
         kernels ? Int8Kernels() : std::vector<Int8Kernel>{NativeInt8Kernel()}) {
      for (int rows : {1, 5, 13, 16}) {
        // Token counts give every run length of the Q8_0 rows-in-lanes kernel (1..8: T up to 8,
        // 13 as 7 + 6, 31 as 8 + 8 + 8 + 7) and tails of the tokens-in-lanes ones.
        // (The 4- to 6-bit types: with the relaxed build's int32 forms off and on.)
        const auto lengths = [&](bool) {
          for (int T : {1, 2, 3, 4, 5, 7, 13, 31, 33, 70}) {
            const bool geglu = rows >= 13 && (T == 1 || T == 7 || T == 70);
            CheckMatMul(type, kernel, rows, cols, T, geglu);
            // Random Q8_0 rows nearly always hold a -128 somewhere: also rows without one.
            if (type == GgmlType::kQ8_0) CheckMatMul(type, kernel, rows, cols, T, geglu, false);
          }
        };
        if ((int8 || k_quant) && type != GgmlType::kQ8_0) {
          ForEachRelaxedInt32Dot(lengths);
        } else {
          lengths(true);
        }
        // Q8_0 in the relaxed build with its relaxed kernel off (the portable one then runs).
        if (type == GgmlType::kQ8_0) {
          ForEachRelaxedInt32Dot([&](bool) {
            for (int T : {5, 13}) CheckMatMul(type, kernel, rows, cols, T, rows == 16);
          });
        }
      }
      // Inputs wide enough that the tokens are swept in several chunks (ChunkTokens), the last
      // one short, over groups of rows with a short last one (the int8 types: with the relaxed
      // build's int32 dot product kernels off and on).
      const auto chunked = [&](bool) {
        CheckMatMul(type, kernel, 2 * kGroupRows + 5,
                    k_quant ? 4096
                    : int8  ? 8192
                            : 4096 + 5,
                    70, true);
      };
      if (int8 || k_quant) {
        ForEachRelaxedInt32Dot(chunked);
      } else {
        chunked(true);
      }
      // Rows of 37 blocks: ForEachBlockStaged's stages of 16, 16 and 5 blocks.
      if (int8) {
        for (int T : {13, 33}) CheckMatMul(type, kernel, 5, 32 * (2 * kStagedBlocks + 5), T, false);
      }
    }
  }
}

// bf16 weights on even rows (where VDPBF16PS runs on CPUs that have it), and values outside
// Bf16Tame's range — tiny, huge and subnormal weights, a tiny activation — which VDPBF16PS must
// not see and targets without FMA compute on the exact path: still the reference's bits; a matrix
// that keeps its Bf16Range learns it from the first product that checks and gives the same bits
// after.
void TestMatMulBf16() {
  for (Int8Kernel kernel : Int8Kernels()) {
    for (int rows : {1, 5, 16}) {
      for (int T : {1, 3, 13, 16, 17, 33, 70}) {
        CheckMatMul(GgmlType::kBF16, kernel, rows, 40, T, rows == 16 && T % 2 == 1);
      }
    }
    CheckMatMul(GgmlType::kBF16, kernel, 2 * kGroupRows + 5, 4096 + 6, 70, true);
    // Rows of whole vectors of pairs (16 values), where the AVX2 kernel puts rows in the lanes
    // for inputs of up to 64 tokens: every run length (1..12), runs of nearly equal length (13 as
    // 7 + 6, 25, 64), the first input too long for it (65), a short group of rows.
    for (int cols : {16, 48}) {
      for (int rows : {5, 16}) {
        for (int T = 1; T <= 13; ++T) CheckMatMul(GgmlType::kBF16, kernel, rows, cols, T, T == 7);
        for (int T : {25, 64, 65}) CheckMatMul(GgmlType::kBF16, kernel, rows, cols, T, rows == 16);
      }
    }
    CheckMatMul(GgmlType::kBF16, kernel, 2 * kGroupRows + 5, 3072, 13, true);
    // Rows shorter than 8 pairs (some partials empty), odd and even.
    for (int cols : {1, 2, 6, 9, 14}) CheckMatMul(GgmlType::kBF16, kernel, 5, cols, 13, false);
  }
  const int rows = 9, cols = 64, T = 21;
  const std::vector<float> x = kt::Random(size_t(T) * cols, 31, 1.5f);
  // Tame: 0, 1e-15 and 1e15 (2^-51 ≈ 4.4e-16, 2^50 ≈ 1.1e15); the rest not (1e-40: subnormal).
  const float weights[] = {0.0f, 1e-15f, 1e15f, 1e-30f, 3e-16f, 1.2e15f, 1e30f, 1e-40f};
  for (Int8Kernel kernel : Int8Kernels()) {
    for (float weight : weights) {
      for (bool tiny_activation : {false, true}) {
        INFO("kernel " << int(kernel) << " weight " << weight << " tiny activation "
                       << tiny_activation);
        kt::RandomMatrix w(GgmlType::kBF16, rows, cols, 5, 1);
        const uint16_t bits = F32ToBf16(weight);
        std::memcpy(w.bytes.data() + 1 + 6 * w.m.row_bytes + 2 * 17, &bits, 2);  // row 6
        std::vector<float> xw = x;
        if (tiny_activation) xw[size_t(T - 1) * cols + 3] = 1e-20f;
        std::atomic<Bf16Range> range{Bf16Range::kUnknown};
        w.m.bf16_range = &range;
        Input input(T, cols, kernel);
        Arena scratch_arena;
        MatMulScratch s;
        REQUIRE(scratch_arena.Carve([&](Arena& a) { CarveMatMulScratch(a, T, cols, &s); }).ok());
        std::vector<float> want;
        CheckProduct(w.m, xw.data(), T, kernel, input, s, want);
        REQUIRE(input.in.tame == !tiny_activation);
        // Weights are checked for VDPBF16PS and where MulAdd is not fused, else never needed.
        const bool checked =
            !HWY_NATIVE_FMA || (kernel == Int8Kernel::kVnni && CpuHasBf16Dp() && !tiny_activation);
        REQUIRE(range.load() == (!checked         ? Bf16Range::kUnknown
                                 : Bf16Tame(bits) ? Bf16Range::kTame
                                                  : Bf16Range::kWild));
        CheckProduct(w.m, xw.data(), T, kernel, input, s, want);  // with the range known
      }
    }
    // A product of no tokens prepares no tile: it checks nothing and learns nothing.
    kt::RandomMatrix w(GgmlType::kBF16, rows, cols, 5, 1);
    std::atomic<Bf16Range> range{Bf16Range::kUnknown};
    w.m.bf16_range = &range;
    Input input(0, cols, kernel);
    Arena scratch_arena;
    MatMulScratch s;
    REQUIRE(scratch_arena.Carve([&](Arena& a) { CarveMatMulScratch(a, 0, cols, &s); }).ok());
    PrepareMatMulInput(GgmlType::kBF16, x.data(), &input.in);
    float y = -1.0f;
    MatMul(w.m, input.in, s, &y, rows, kernel);
    REQUIRE(y == -1.0f);
    REQUIRE(range.load() == Bf16Range::kUnknown);
  }
}

// The 4- to 6-bit types at the extremes of their values, where integer sums come closest to the
// 16-bit limit of the kernels that add pair sums in int16 (AVX2; relaxed SIMD: 8 groups of
// 2·15·127 for 4 bits, 4 of 2·31·127 for 5, 2 of 2·63·127 for Q6_K; its int32 form sums a whole
// scale's groups instead, so a wrong run shows here too): rows of all-largest, all-smallest and
// mixed stored values, against tokens of all +c, all −c (both quantize to
// ±127), alternating signs, and random values.
void TestMatMulExtremes() {
  const int cols = 256, T = 13;
  std::vector<float> x(size_t(T) * cols);
  const std::vector<float> noise = kt::Random(x.size(), 31, 2.0f);
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < cols; ++i) {
      const float alt = i % 2 ? 3.0f : -3.0f;
      x[size_t(t) * cols + i] = t % 4 == 0   ? 3.0f
                                : t % 4 == 1 ? -3.0f
                                : t % 4 == 2 ? alt
                                             : noise[i];
    }
  }
  // Every kernel against the reference (the relaxed build's with its int32 forms off and on);
  // `expected` (unless 0): token 0 by row 0, worked by hand.
  auto check_kernels = [&](const Matrix& w, double expected) {
    ForEachRelaxedInt32Dot([&](bool int32_dot) {
      for (Int8Kernel kernel : Int8Kernels()) {
        INFO(GetGgmlType(w.type).name << " kernel " << int(kernel) << " int32 dot " << int32_dot);
        Input input(T, cols, kernel);
        Arena scratch_arena;
        MatMulScratch scratch;
        REQUIRE(
            scratch_arena.Carve([&](Arena& a) { CarveMatMulScratch(a, T, cols, &scratch); }).ok());
        std::vector<float> want;
        CheckProduct(w, x.data(), T, kernel, input, scratch, want);
        if (expected != 0.0) REQUIRE(std::fabs(want[0] - expected) < 1e-5 * std::fabs(expected));
      }
    });
  };
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1}) {
    const GgmlTypeInfo& info = GetGgmlType(type);
    const bool has_min = type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1;
    const bool q5 = type == GgmlType::kQ5_0 || type == GgmlType::kQ5_1;
    const int rows = 6;
    const uint64_t row_bytes = RowBytes(type, cols);
    std::vector<uint8_t> bytes(row_bytes * rows);
    const uint16_t d = F32ToF16(0.01f), m = F32ToF16(-0.05f);
    for (int r = 0; r < rows; ++r) {
      for (int b = 0; b < cols / 32; ++b) {
        uint8_t* blk = bytes.data() + r * row_bytes + b * info.type_size;
        std::memcpy(blk, &d, 2);
        if (has_min) std::memcpy(blk + 2, &m, 2);
        uint8_t* qh = blk + (has_min ? 4 : 2);
        uint8_t* qs = qh + (q5 ? 4 : 0);
        // Rows 0, 3: every value largest; 1, 4: smallest; 2, 5: alternating.
        const uint8_t nibbles = r % 3 == 0 ? 0xFF : r % 3 == 1 ? 0x00 : 0x0F;
        std::memset(qs, nibbles, 16);
        if (q5) std::memset(qh, r % 3 == 0 ? 0xFF : r % 3 == 1 ? 0x00 : 0x55, 4);
      }
    }
    // Independently of the code under test: row 0 of Q4_0 is 7·d everywhere, so token 0 (all
    // 3.0, quantized to 127 with d_x = f16(3/127)) gives Σ 7·127 · d·d_x over 8 blocks.
    const double dx = F16ToF32(F32ToF16(3.0f / 127.0f));
    check_kernels(Matrix{"w", type, bytes.data(), rows, cols, row_bytes},
                  type == GgmlType::kQ4_0 ? 8.0 * 32 * 7 * 127 * double(F16ToF32(d)) * dx : 0.0);
  }
  // The K-quants: their kernels add products in int16 as far as the largest values allow (the
  // relaxed one a block's 8 groups for Q4_K, 4 for Q5_K, 2 for Q6_K), so every value and scale
  // at its largest against ±127 inputs is the case that would overflow.
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
    const GgmlTypeInfo& info = GetGgmlType(type);
    const int rows = 6;
    const uint64_t row_bytes = RowBytes(type, cols);
    std::vector<uint8_t> bytes(row_bytes * rows);
    const uint16_t d = F32ToF16(0.001f);
    for (int r = 0; r < rows; ++r) {
      // Rows 0, 3: every value largest; 1, 4: smallest; 2, 5: mixed (Q4_K/Q5_K: largest and
      // smallest by block). Every scale (and Q4_K/Q5_K minimum) largest: 63, or 127 for Q6_K's
      // int8 scales.
      const uint8_t values = r % 3 == 0 ? 0xFF : r % 3 == 1 ? 0x00 : 0x0F;
      const uint8_t high = r % 3 == 0 ? 0xFF : r % 3 == 1 ? 0x00 : 0x55;
      for (int sb = 0; sb < cols / 256; ++sb) {
        uint8_t* blk = bytes.data() + r * row_bytes + sb * info.type_size;
        if (type == GgmlType::kQ6_K) {  // ql[128], qh[64], scales[16], d
          std::memset(blk, values, 128);
          std::memset(blk + 128, high, 64);
          std::memset(blk + 192, 127, 16);
          std::memcpy(blk + 208, &d, 2);
        } else {  // d, dmin, scales[12], (Q5_K: qh[32]), qs[128]
          std::memcpy(blk, &d, 2);
          std::memcpy(blk + 2, &d, 2);
          std::memset(blk + 4, 0xFF, 12);
          const bool q5 = type == GgmlType::kQ5_K;
          if (q5) std::memset(blk + 16, high, 32);
          std::memset(blk + (q5 ? 48 : 16), values, 128);
        }
      }
    }
    // Independently of the code under test: Q4_K row 0 is 15 with scale and minimum 63 in all
    // 8 blocks, token 0 (all 3.0) is -127 with d_x = -3/127, so S = 8·63·32·15·(-127), Z =
    // 8·63·32·(-127) and the result is d·d_x·(S − Z) (d = dmin).
    const double s_sum = 8.0 * 63 * 32 * 15 * -127, z_sum = 8.0 * 63 * 32 * -127;
    check_kernels(
        Matrix{"w", type, bytes.data(), rows, cols, row_bytes},
        type == GgmlType::kQ4_K ? double(F16ToF32(d)) * (-3.0 / 127.0) * (s_sum - z_sum) : 0.0);
  }
}

void TestAttention(const kt::AttentionShape& s) {
  const int q_dim = s.n_head * s.head_dim, kv_dim = s.n_head_kv * s.head_dim;
  const int v_dim = s.n_head_kv * s.head_dim_v, o_dim = s.n_head * s.head_dim_v;
  const std::vector<float> q = kt::Random(size_t(s.T) * q_dim + 1, 20, 0.4f);
  const std::vector<float> k = kt::Random(size_t(s.T) * kv_dim + 1, 21, 1.5f);
  const std::vector<float> v = kt::Random(size_t(s.T) * v_dim + 1, 22, 1.0f);
  std::vector<float> want(size_t(s.T) * o_dim), got(size_t(s.T) * o_dim + 1);
  AttentionReference(q.data() + 1, k.data() + 1, v.data() + 1, s.T, s.n_head, s.n_head_kv,
                     s.head_dim, s.head_dim_v, s.half_window, want.data());
  Arena arena;
  AttentionScratch scratch;
  REQUIRE(arena
              .Carve([&](Arena& a) {
                CarveAttentionScratch(a, s.T, s.head_dim, s.head_dim_v, &scratch);
              })
              .ok());
  Attention(q.data() + 1, k.data() + 1, v.data() + 1, s.T, s.n_head, s.n_head_kv, s.head_dim,
            s.head_dim_v, s.half_window, scratch, got.data() + 1);
  INFO("attention T " << s.T << " heads " << s.n_head << "/" << s.n_head_kv << " dims "
                      << s.head_dim << "/" << s.head_dim_v << " window " << s.half_window);
  REQUIRE(kt::FirstDifference(got.data() + 1, want.data(), want.size()) == -1);
}

void TestAttentionShapes() {
  const kt::AttentionShape shapes[] = {
      {1, 2, 1, 32, 32, -1},     // one token
      {5, 3, 1, 32, 32, 2},      // GQA, window narrower than the input, f16 sums
      {63, 3, 1, 32, 32, -1},    // the last length with f16 sums
      {64, 3, 1, 32, 32, -1},    // the first with f32 sums
      {70, 2, 2, 20, 24, 8},     // head_dim not a multiple of 16 (f16 sums) nor of 8
      {30, 4, 2, 48, 48, 8},     // the tiny preset: whole vectors, not whole runs of them
      {80, 2, 1, 40, 56, -1},    // f32 sums; runs, single vectors and a scalar tail
      {100, 3, 1, 64, 64, 16},   // f32 sums, windowed
      {77, 4, 2, 256, 256, -1},  // EmbeddingGemma's head size
      {7, 1, 1, 32, 32, -1},     // a last block of 1 query (AVX2 takes 6 at a time, others 4)
      {11, 1, 1, 32, 32, 3},     // of 5 (of 3 with 4 at a time), windowed
  };
  for (const kt::AttentionShape& s : shapes) TestAttention(s);
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufembed {
namespace {

HWY_EXPORT(TestElementwise);
HWY_EXPORT(TestF16Conversions);
HWY_EXPORT(TestAllFinite);
HWY_EXPORT(TestQuantizeNotFinite);
HWY_EXPORT(TestRmsNormRope);
HWY_EXPORT(TestQuantizeToInput);
HWY_EXPORT(TestQuantizeToInputQ8K);
HWY_EXPORT(TestInputLayout);
HWY_EXPORT(TestMatMul);
HWY_EXPORT(TestSharedInput);
HWY_EXPORT(TestMatMulExtremes);
HWY_EXPORT(TestMatMulBf16);
HWY_EXPORT(TestAttentionShapes);

// Runs `test` once for each SIMD target compiled in and supported here (WebAssembly has one).
template <class Test>
void ForEachTarget(Test&& test) {
#if defined(__EMSCRIPTEN__)
  test();
#else
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    hwy::GetChosenTarget().Update(hwy::SupportedTargets());
    INFO("SIMD target " << hwy::TargetName(target));
    test();
  }
  hwy::SetSupportedTargetsForTest(0);
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
#endif
}

TEST_CASE("SIMD exp, f16 rounding and GELU equal the scalar functions", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestElementwise)(); });
}

TEST_CASE("SIMD f16 conversions equal the scalar ones at every half and tie", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestF16Conversions)(); });
}

TEST_CASE("the finiteness check sees every NaN and infinity", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestAllFinite)(); });
}

TEST_CASE("non-finite and vanishing activation blocks quantize without undefined behaviour",
          "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestQuantizeNotFinite)(); });
}

TEST_CASE("SIMD RMS norm and RoPE equal the reference", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestRmsNormRope)(); });
}

TEST_CASE("activation quantization into the kernels' layouts", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestQuantizeToInput)(); });
}

TEST_CASE("an input's layout follows its kernel and the weights it multiplies", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestInputLayout)(); });
}

TEST_CASE("Q8_K activation quantization into the kernels' layouts", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestQuantizeToInputQ8K)(); });
}

TEST_CASE("matrix products and GeGLU equal the reference for every weight type", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestMatMul)(); });
}

TEST_CASE("an input prepared for one int8-block type serves the others with their bits",
          "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestSharedInput)(); });
}

TEST_CASE("bf16 products equal the reference on every path, whatever the values", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestMatMulBf16)(); });
}

TEST_CASE("4- to 6-bit weights at their extreme values equal the reference", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestMatMulExtremes)(); });
}

TEST_CASE("fused attention equals the reference", "[kernels]") {
  ForEachTarget([] { HWY_DYNAMIC_DISPATCH(TestAttentionShapes)(); });
}

#if defined(__wasm_simd128__)
// The suite runs twice in wasm: as built (SIMD128: the relaxed kernel on its plain stand-in) and
// as rewritten by wasm/relaxed_simd.mjs (the instruction), with GGUFEMBED_EXPECT_RELAXED_SIMD=1.
TEST_CASE(
    "the relaxed dot products: the instructions exactly in the relaxed build, exact on 7-bit b",
    "[kernels]") {
  const char* expect = std::getenv("GGUFEMBED_EXPECT_RELAXED_SIMD");
  REQUIRE(RelaxedDotIsInstruction() == (expect != nullptr && std::string(expect) == "1"));
  std::mt19937 rng(5);
  for (int trial = 0; trial < 1000; ++trial) {
    int8_t a[16];
    uint8_t b[16];
    int32_t c[4], want[4], got[4];
    for (int i = 0; i < 16; ++i) {
      a[i] = static_cast<int8_t>(trial == 0 ? -128 : rng());  // the extremes first
      b[i] = static_cast<uint8_t>(trial == 0 ? 127 : rng() % 128);
    }
    for (int i = 0; i < 4; ++i) want[i] = c[i] = static_cast<int32_t>(rng() % 2000001) - 1000000;
    for (int i = 0; i < 16; ++i) want[i / 4] += int32_t{a[i]} * b[i];
    v128_t va, vb, vc;
    std::memcpy(&va, a, 16);
    std::memcpy(&vb, b, 16);
    std::memcpy(&vc, c, 16);
    const v128_t sum = ggufembed_relaxed_dot_i8x16_i7x16_add(va, vb, vc);
    std::memcpy(got, &sum, 16);
    INFO("trial " << trial);
    for (int i = 0; i < 4; ++i) REQUIRE(got[i] == want[i]);
    // The int16 form: each lane's two products, exact (at most 2·128·127 in magnitude).
    int16_t pairs[8];
    const v128_t pair_sums = ggufembed_relaxed_dot_i8x16_i7x16(va, vb);
    std::memcpy(pairs, &pair_sums, 16);
    for (int i = 0; i < 8; ++i) {
      REQUIRE(pairs[i] == int32_t{a[2 * i]} * b[2 * i] + int32_t{a[2 * i + 1]} * b[2 * i + 1]);
    }
  }
}
#endif

}  // namespace
}  // namespace ggufembed
#endif  // HWY_ONCE
