// The K-quant products against llama.cpp's own ggml (tests/ggml_oracle.h): Q8_K activations
// byte for byte, and the integer arithmetic of our reference (numerics.h, order 1b) against
// ggml's vec_dot_q{4,5,6}_K_q8_K, which sums the same integers in another float order.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ggml_oracle.h"
#include "gguf/ggml_type.h"
#include "kernels/activation_quant.h"
#include "kernels/matrix.h"
#include "kernels/reference.h"
#include "synth/quantize.h"

#if GGUFEMBED_HAVE_GGML_ORACLE

namespace ggufembed {
namespace {

using testing::Ggml;
using testing::LoadGgml;

using VecDotFn = void (*)(int n, float* s, size_t bs, const void* x, size_t bx, const void* y,
                          size_t by, int nrc);

// One row of `type` weights quantized from `wf` (bytes) and dequantized back (the values the
// products multiply).
struct WeightRow {
  std::vector<uint8_t> q;
  std::vector<float> values;
};
WeightRow MakeWeightRow(GgmlType type, const std::vector<float>& wf) {
  const int n = static_cast<int>(wf.size());
  WeightRow row{std::vector<uint8_t>(RowBytes(type, n)), std::vector<float>(n)};
  REQUIRE(QuantizeRow(type, wf.data(), n, row.q.data()).ok());
  REQUIRE(DequantizeRow(type, row.q.data(), row.values.data(), n).ok());
  return row;
}

// Activations of several kinds: Gaussian and uniform at several scales, one outlier, ties of the
// largest magnitude with both signs, integers (exact halves after scaling), zeros.
std::vector<std::vector<float>> Activations(int n) {
  std::mt19937 rng(1202);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<std::vector<float>> rows;
  for (float scale : {1e-3f, 0.5f, 1.0f, 40.0f}) {
    std::vector<float> x(n);
    for (float& v : x) v = g(rng) * scale;
    rows.push_back(x);
    for (float& v : x) v = u(rng) * scale;
    rows.push_back(x);
  }
  std::vector<float> x(n);
  for (float& v : x) v = g(rng);
  x[7] = 50.0f;  // an outlier
  rows.push_back(x);
  x[7] = -9.0f, x[9] = 9.0f;  // ties, the negative one first
  for (int i = 0; i < n; ++i) x[i] = std::fmod(float(i * 7 % 19), 9.0f) - 4.0f;
  x[3] = -9.0f;
  rows.push_back(x);
  rows.push_back(std::vector<float>(n, 0.0f));
  return rows;
}

TEST_CASE("Q8_K activations equal ggml's quantize_row_q8_K byte for byte", "[kquant][ggml]") {
  const Ggml& ggml = LoadGgml();
  using QuantizeFn = void (*)(const float*, void*, int64_t);
  const auto theirs = ggml.CpuSymbol<QuantizeFn>("quantize_row_q8_K");
  REQUIRE(theirs != nullptr);
  const int n = 1024;
  for (const std::vector<float>& x : Activations(n)) {
    std::vector<BlockQ8_K> ours(n / 256), want(n / 256);
    QuantizeActivationsQ8_K(x.data(), ours.data(), n);
    theirs(x.data(), want.data(), n);
    for (int b = 0; b < n / 256; ++b) {
      INFO("block " << b << " d " << ours[b].d << " vs " << want[b].d);
      REQUIRE(std::memcmp(&ours[b].d, &want[b].d, 4) == 0);
      REQUIRE(std::memcmp(ours[b].qs, want[b].qs, 256) == 0);
      // ggml leaves the sums of an all-zero block unwritten (its d = 0 makes them unused).
      if (want[b].d != 0.0f) REQUIRE(std::memcmp(ours[b].bsums, want[b].bsums, 32) == 0);
    }
  }
}

TEST_CASE("K-quant products agree with ggml's vec_dot on the same integers", "[kquant][ggml]") {
  const Ggml& ggml = LoadGgml();
  using QuantizeFn = void (*)(const float*, void*, int64_t);
  const auto q8k = ggml.CpuSymbol<QuantizeFn>("quantize_row_q8_K");
  REQUIRE(q8k != nullptr);
  const int n = 1536;
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
    const std::string name = GgmlTypeName(static_cast<uint32_t>(type));
    std::string lower = name;
    for (char& c : lower) c = c == 'K' ? c : static_cast<char>(std::tolower(c));
    // ggml's plain C code and the AVX2 code of its haswell build.
    const auto generic =
        ggml.CpuSymbol<VecDotFn>(("ggml_vec_dot_" + lower + "_q8_K_generic").c_str());
    const auto simd = ggml.CpuSymbol<VecDotFn>(("ggml_vec_dot_" + lower + "_q8_K").c_str());
    REQUIRE(generic != nullptr);
    REQUIRE(simd != nullptr);
    for (float wscale : {0.02f, 1.0f}) {
      std::vector<float> wf(n);
      for (float& v : wf) v = g(rng) * wscale;
      const WeightRow row = MakeWeightRow(type, wf);
      const std::vector<uint8_t>& wq = row.q;
      const std::vector<float>& wd = row.values;
      const Matrix w{"w", type, wq.data(), 1, n, wq.size()};
      for (const std::vector<float>& x : Activations(n)) {
        float ours;
        MatMulReference(w, x.data(), 1, &ours);
        std::vector<BlockQ8_K> xq(n / 256);
        q8k(x.data(), xq.data(), n);
        float want_generic, want_simd;
        generic(n, &want_generic, 0, wq.data(), 0, xq.data(), 0, 1);
        simd(n, &want_simd, 0, wq.data(), 0, xq.data(), 0, 1);
        // The same integers summed in other float orders: within a few rounding steps of the
        // magnitude of the terms (a wrong scale, minimum or bit would be off by far more).
        std::vector<float> xr(x);
        RoundThroughActivationType(GgmlType::kQ8_K, xr.data(), n);
        double magnitude = 0.0;
        for (int i = 0; i < n; ++i) magnitude += std::fabs(double(wd[i]) * xr[i]);
        INFO(name << " weight scale " << wscale << " ours " << ours << " generic " << want_generic
                  << " simd " << want_simd << " magnitude " << magnitude);
        CHECK(std::fabs(double(ours) - want_generic) <= 1e-6 * magnitude + 1e-30);
        CHECK(std::fabs(double(ours) - want_simd) <= 1e-6 * magnitude + 1e-30);
      }
    }
  }
}

// The 32-value block types the same way, against Q8_0 (Q4_0, Q5_0, Q8_0) or Q8_1 (Q4_1, Q5_1)
// activations made by ggml's own quantize_row_q8_0/q8_1: Q8_1's s, which multiplies the
// weights' minimum, is ggml's f16(d·Σq) with the f32 d (ours once used the f16 d: off by up to
// 2^-11 of the minimum's term, far past this bound).
TEST_CASE("32-value block products agree with ggml's vec_dot", "[kquant][ggml]") {
  const Ggml& ggml = LoadGgml();
  using QuantizeFn = void (*)(const float*, void*, int64_t);
  const int n = 1536;
  std::mt19937 rng(11);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (GgmlType type :
       {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ4_1, GgmlType::kQ5_1}) {
    const bool q8_1 = type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1;
    std::string lower = GgmlTypeName(static_cast<uint32_t>(type));
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    const std::string act = q8_1 ? "q8_1" : "q8_0";
    const auto quantize = ggml.CpuSymbol<QuantizeFn>(("quantize_row_" + act).c_str());
    const auto generic =
        ggml.CpuSymbol<VecDotFn>(("ggml_vec_dot_" + lower + "_" + act + "_generic").c_str());
    const auto simd = ggml.CpuSymbol<VecDotFn>(("ggml_vec_dot_" + lower + "_" + act).c_str());
    REQUIRE(quantize != nullptr);
    REQUIRE(generic != nullptr);
    REQUIRE(simd != nullptr);
    for (float wscale : {0.02f, 1.0f}) {
      std::vector<float> wf(n);
      for (float& v : wf) v = g(rng) * wscale + (q8_1 ? 0.5f * wscale : 0.0f);
      const WeightRow row = MakeWeightRow(type, wf);
      const std::vector<uint8_t>& wq = row.q;
      const std::vector<float>& wd = row.values;
      const Matrix w{"w", type, wq.data(), 1, n, wq.size()};
      for (const std::vector<float>& x : Activations(n)) {
        float ours;
        MatMulReference(w, x.data(), 1, &ours);
        std::vector<uint8_t> xq(size_t(n / 32) * (q8_1 ? 36 : 34));
        quantize(x.data(), xq.data(), n);
        float want_generic, want_simd;
        generic(n, &want_generic, 0, wq.data(), 0, xq.data(), 0, 1);
        simd(n, &want_simd, 0, wq.data(), 0, xq.data(), 0, 1);
        std::vector<float> xr(x);
        RoundThroughActivationType(ActivationType(type), xr.data(), n);
        double magnitude = 0.0;
        for (int i = 0; i < n; ++i) magnitude += std::fabs(double(wd[i]) * xr[i]);
        INFO(lower << " weight scale " << wscale << " ours " << ours << " generic " << want_generic
                   << " simd " << want_simd << " magnitude " << magnitude);
        CHECK(std::fabs(double(ours) - want_generic) <= 1e-6 * magnitude + 1e-30);
        CHECK(std::fabs(double(ours) - want_simd) <= 1e-6 * magnitude + 1e-30);
      }
    }
  }
}

}  // namespace
}  // namespace ggufembed

#endif  // GGUFEMBED_HAVE_GGML_ORACLE
