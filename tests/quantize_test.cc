// The row quantizers (synth/quantize.h): blocks worked out by hand for every type, and natively on
// x86-64 Linux byte-for-byte agreement with the real ggml (llama.cpp's libggml-base.so, shipped
// by the npm dev dependency node-llama-cpp) on many random rows, plus DequantizeRow against
// ggml's dequantizers on random block bytes.
#include "synth/quantize.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ggml_oracle.h"
#include "gguf/ggml_type.h"
#include "util/fp16.h"

namespace ggufembed {
namespace {

std::vector<uint8_t> Quantize(GgmlType type, const std::vector<float>& x) {
  std::vector<uint8_t> out(RowBytes(type, x.size()), 0xAB);
  const Status s = QuantizeRow(type, x.data(), static_cast<int64_t>(x.size()), out.data());
  INFO(s.message());
  REQUIRE(s.ok());
  return out;
}

std::vector<float> Dequantize(GgmlType type, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> out(n);
  REQUIRE(DequantizeRow(type, q.data(), out.data(), static_cast<int64_t>(n)).ok());
  return out;
}

uint16_t U16(const std::vector<uint8_t>& b, size_t at) {
  uint16_t v;
  std::memcpy(&v, &b[at], 2);
  return v;
}

uint32_t U32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, &b[at], 4);
  return v;
}

std::vector<float> Block(int n, float (*f)(int)) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) x[i] = f(i);
  return x;
}

constexpr GgmlType kAllTypes[] = {
    GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ8_0,
    GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
    GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K,
};

TEST_CASE("QuantizeRow refuses other types and partial blocks, naming the type", "[quantize]") {
  float x[256] = {};
  uint8_t out[1024];
  Status s = QuantizeRow(GgmlType::kQ3_K, x, 256, out);
  CHECK(s.code() == StatusCode::kUnsupported);
  CHECK(s.message() == "no quantizer for tensor type Q3_K");
  CHECK(!CanQuantize(GgmlType::kQ8_1));
  s = QuantizeRow(GgmlType::kQ4_K, x, 128, out);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "128 elements is not a whole number of Q4_K blocks of 256");
  CHECK(QuantizeRow(GgmlType::kQ4_0, x, 48, out).message() ==
        "48 elements is not a whole number of Q4_0 blocks of 32");
  for (GgmlType t : kAllTypes) CHECK(CanQuantize(t));
}

TEST_CASE("Q8_0 by hand", "[quantize]") {
  // x = j - 16 (-16..15): amax 16, d = 16/127 = 0.12598 -> f16 0x3008 (2^-3·(1 + 8/1024)),
  // q = roundf(x·127/16): -16 -> -127, -1 -> -7.94 -> -8, 1 -> 8, 2 -> 15.875 -> 16,
  // 15 -> 119.06 -> 119.
  const auto q = Quantize(GgmlType::kQ8_0, Block(32, [](int j) { return j - 16.0f; }));
  CHECK(U16(q, 0) == 0x3008);
  CHECK(static_cast<int8_t>(q[2 + 0]) == -127);
  CHECK(static_cast<int8_t>(q[2 + 15]) == -8);
  CHECK(static_cast<int8_t>(q[2 + 16]) == 0);
  CHECK(static_cast<int8_t>(q[2 + 17]) == 8);
  CHECK(static_cast<int8_t>(q[2 + 18]) == 16);
  CHECK(static_cast<int8_t>(q[2 + 31]) == 119);
  // A constant block of 1: d = 1/127, every q = 127. Zeros: all bytes 0.
  const auto c = Quantize(GgmlType::kQ8_0, std::vector<float>(32, 1.0f));
  CHECK(U16(c, 0) == F32ToF16(1.0f / 127));
  for (int j = 0; j < 32; ++j) CHECK(c[2 + j] == 127);
  CHECK(Quantize(GgmlType::kQ8_0, std::vector<float>(32, 0.0f)) == std::vector<uint8_t>(34, 0));
  // One huge value (1e9) among zeros: d = 7.87e6 overflows f16 to +inf (0x7C00), its q is 127.
  std::vector<float> huge(32, 0.0f);
  huge[5] = 1e9f;
  const auto h = Quantize(GgmlType::kQ8_0, huge);
  CHECK(U16(h, 0) == 0x7C00);
  CHECK(h[2 + 5] == 127);
  CHECK(h[2 + 4] == 0);
}

TEST_CASE("Q4_0 by hand", "[quantize]") {
  // x = j - 16: the first value of largest magnitude is -16, d = -16/-8 = 2 (0x4000), id = 0.5,
  // q = trunc(x/2 + 8.5) capped at 15: -16 -> 0, -15 -> 1, -1 -> 8, 0 -> 8, 1 -> 9, 15 -> 15.
  // qs[j] = q[j] | q[j+16] << 4.
  const auto q = Quantize(GgmlType::kQ4_0, Block(32, [](int j) { return j - 16.0f; }));
  CHECK(U16(q, 0) == 0x4000);
  CHECK(q[2 + 0] == 0x80);
  CHECK(q[2 + 1] == 0x91);
  CHECK(q[2 + 15] == 0xF8);
  CHECK(Dequantize(GgmlType::kQ4_0, q, 32)[0] == -16.0f);
  CHECK(Dequantize(GgmlType::kQ4_0, q, 32)[31] == 14.0f);
  // Constant 1: max 1, d = -0.125 (0xB000), q = trunc(-8 + 8.5) = 0, which dequantizes to 1.
  const auto c = Quantize(GgmlType::kQ4_0, std::vector<float>(32, 1.0f));
  CHECK(U16(c, 0) == 0xB000);
  for (int j = 0; j < 16; ++j) CHECK(c[2 + j] == 0x00);
  CHECK(Dequantize(GgmlType::kQ4_0, c, 32) == std::vector<float>(32, 1.0f));
  // Zeros: d = 0/-8 = -0 (0x8000), id = 0, q = trunc(8.5) = 8 in every nibble.
  const auto z = Quantize(GgmlType::kQ4_0, std::vector<float>(32, 0.0f));
  CHECK(U16(z, 0) == 0x8000);
  for (int j = 0; j < 16; ++j) CHECK(z[2 + j] == 0x88);
  // 1e9 among zeros: d = -1.25e8 -> -inf (0xFC00), its q = trunc(-8 + 8.5) = 0, the others 8.
  std::vector<float> huge(32, 0.0f);
  huge[5] = 1e9f;
  const auto h = Quantize(GgmlType::kQ4_0, huge);
  CHECK(U16(h, 0) == 0xFC00);
  CHECK(h[2 + 5] == 0x80);
  CHECK(h[2 + 4] == 0x88);
}

TEST_CASE("Q4_1 by hand", "[quantize]") {
  // x = (j % 16) - 4.25: min -4.25 (m = 0xC440), max 10.75, d = 15/15 = 1 (0x3C00); x - min is
  // exactly j % 16, so q = trunc(j % 16 + 0.5) = j % 16 and qs[j] = 0x11·j.
  const auto q = Quantize(GgmlType::kQ4_1, Block(32, [](int j) { return (j % 16) - 4.25f; }));
  CHECK(U16(q, 0) == 0x3C00);
  CHECK(U16(q, 2) == 0xC440);
  for (int j = 0; j < 16; ++j) CHECK(q[4 + j] == 0x11 * j);
  // Constant 1: d = 0, m = 1 (0x3C00), q = trunc(0.5) = 0. Zeros: all bytes 0.
  const auto c = Quantize(GgmlType::kQ4_1, std::vector<float>(32, 1.0f));
  CHECK(U16(c, 0) == 0);
  CHECK(U16(c, 2) == 0x3C00);
  for (int j = 0; j < 16; ++j) CHECK(c[4 + j] == 0);
  CHECK(Quantize(GgmlType::kQ4_1, std::vector<float>(32, 0.0f)) == std::vector<uint8_t>(20, 0));
}

TEST_CASE("Q5_0 by hand", "[quantize]") {
  // x = j - 16: max -16, d = -16/-16 = 1 (0x3C00), q = trunc(x + 16.5) = j; low nibbles
  // qs[j] = (j & 15) | ((j + 16) & 15) << 4 = 0x11·j; fifth bits set for j >= 16: qh 0xFFFF0000.
  const auto q = Quantize(GgmlType::kQ5_0, Block(32, [](int j) { return j - 16.0f; }));
  CHECK(U16(q, 0) == 0x3C00);
  CHECK(U32(q, 2) == 0xFFFF0000u);
  for (int j = 0; j < 16; ++j) CHECK(q[6 + j] == 0x11 * j);
  // Constant 1: d = -1/16 (0xAC00), q = trunc(-16 + 16.5) = 0: nothing set.
  const auto c = Quantize(GgmlType::kQ5_0, std::vector<float>(32, 1.0f));
  CHECK(U16(c, 0) == 0xAC00);
  CHECK(U32(c, 2) == 0);
  CHECK(Dequantize(GgmlType::kQ5_0, c, 32) == std::vector<float>(32, 1.0f));
  // Zeros: d = 0/-16 = -0 (0x8000), q = trunc(16.5) = 16 everywhere: low nibbles 0, every
  // fifth bit set.
  const auto z = Quantize(GgmlType::kQ5_0, std::vector<float>(32, 0.0f));
  CHECK(U16(z, 0) == 0x8000);
  CHECK(U32(z, 2) == 0xFFFFFFFFu);
  for (int j = 0; j < 16; ++j) CHECK(z[6 + j] == 0);
}

TEST_CASE("Q5_1 by hand", "[quantize]") {
  // x = 1 + j/2: min 1 (0x3C00), d = 15.5/31 = 0.5 (0x3800), q = trunc((x - 1)·2 + 0.5) = j:
  // the same quants as Q5_0's block above.
  const auto q = Quantize(GgmlType::kQ5_1, Block(32, [](int j) { return 1.0f + 0.5f * j; }));
  CHECK(U16(q, 0) == 0x3800);
  CHECK(U16(q, 2) == 0x3C00);
  CHECK(U32(q, 4) == 0xFFFF0000u);
  for (int j = 0; j < 16; ++j) CHECK(q[8 + j] == 0x11 * j);
  CHECK(Dequantize(GgmlType::kQ5_1, q, 32) == Block(32, [](int j) { return 1.0f + 0.5f * j; }));
  CHECK(Quantize(GgmlType::kQ5_1, std::vector<float>(32, 0.0f)) == std::vector<uint8_t>(24, 0));
}

TEST_CASE("Q4_K by hand", "[quantize]") {
  // x = i % 16: every sub-block of 32 is 0..15 twice, so min 0, max 15 and the first fit
  // (scale 1, levels = x) has zero error, which no other spread beats. All 8 scales are the
  // largest, 63; mins 0. d = f16(1/63) = 2^-6·(1 + 16/1024) (0x2410), dmin 0. Re-quantizing
  // with d·63 = 0.99976 keeps levels = x. Scale bytes 0-3: 63 | (63 >> 4) << 6 = 0xFF; 4-7:
  // mins 0; 8-11: (63 & 15) | (0 & 15) << 4 = 0x0F. qs per 64 values: x[l] | x[l+32] << 4.
  const auto q = Quantize(GgmlType::kQ4_K, Block(256, [](int i) { return float(i % 16); }));
  CHECK(U16(q, 0) == 0x2410);
  CHECK(U16(q, 2) == 0);
  const std::vector<uint8_t> scales(q.begin() + 4, q.begin() + 16);
  CHECK(scales == std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0x0F, 0x0F, 0x0F, 0x0F});
  for (int i = 0; i < 128; ++i) CHECK(q[16 + i] == 0x11 * (i % 16));
  // Dequantized: 0.015869140625 · 63 · x.
  CHECK(Dequantize(GgmlType::kQ4_K, q, 256)[15] == 0.999755859375f * 15);
  // Zeros (and so the all-zero super-block): every byte 0.
  CHECK(Quantize(GgmlType::kQ4_K, std::vector<float>(256, 0.0f)) == std::vector<uint8_t>(144, 0));
}

TEST_CASE("Q5_K by hand", "[quantize]") {
  // x = i % 32: each sub-block is 0..31, fitted exactly with scale 1; scales and d as in Q4_K.
  // Per 64 values, ql[j] = (x[j] & 15) | (x[j+32] & 15) << 4 = 0x11·(j & 15) and the fifth bits
  // (j >= 16) go to bits 2n and 2n+1 of qh[j] for the n-th 64: qh[j] = 0xFF for j >= 16, else 0.
  const auto q = Quantize(GgmlType::kQ5_K, Block(256, [](int i) { return float(i % 32); }));
  CHECK(U16(q, 0) == 0x2410);
  CHECK(U16(q, 2) == 0);
  const std::vector<uint8_t> scales(q.begin() + 4, q.begin() + 16);
  CHECK(scales == std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0x0F, 0x0F, 0x0F, 0x0F});
  for (int j = 0; j < 32; ++j) CHECK(q[16 + j] == (j >= 16 ? 0xFF : 0x00));
  for (int i = 0; i < 128; ++i) CHECK(q[48 + i] == 0x11 * (i % 16));
  CHECK(Quantize(GgmlType::kQ5_K, std::vector<float>(256, 0.0f)) == std::vector<uint8_t>(176, 0));
}

TEST_CASE("Q6_K by hand", "[quantize]") {
  // x = (i % 16) - 8: every sub-block of 16 is -8..7; its first value of largest magnitude is
  // -8, so iscale = -32/-8 = 4 and the levels 4x fit exactly (weighted fit: scale 0.25); the
  // ±0.9 search never does better. All 16 scales 0.25: iscale = -128/0.25 = -512, d = -2^-9
  // (0x9800), every 8-bit scale round(-512·0.25) = -128 (0x80). Re-quantized with d·sc = 0.25:
  // q = 4x, stored q + 32 = 4·(i % 16). Per 128 values: ql[l] = (L[l] & 15) | (L[l+64] & 15)
  // << 4, qh[l] = the top two bits of L[l], L[l+32], L[l+64], L[l+96] (all equal here).
  const auto q = Quantize(GgmlType::kQ6_K, Block(256, [](int i) { return (i % 16) - 8.0f; }));
  for (int l = 0; l < 128; ++l) CHECK(q[l] == 0x11 * ((4 * (l % 16)) & 15));
  for (int l = 0; l < 64; ++l) CHECK(q[128 + l] == 0x55 * ((l % 16) / 4));
  for (int ib = 0; ib < 16; ++ib) CHECK(q[192 + ib] == 0x80);
  CHECK(U16(q, 208) == 0x9800);
  // -2^-9 · -128 · (4x) = x: exact.
  CHECK(Dequantize(GgmlType::kQ6_K, q, 256) == Block(256, [](int i) { return (i % 16) - 8.0f; }));
  CHECK(Quantize(GgmlType::kQ6_K, std::vector<float>(256, 0.0f)) == std::vector<uint8_t>(210, 0));
  // Values below 1e-15 in every sub-block count as zero: the block is all zero bytes.
  CHECK(Quantize(GgmlType::kQ6_K, std::vector<float>(256, 1e-30f)) == std::vector<uint8_t>(210, 0));
}

TEST_CASE("F32, F16 and BF16 by hand", "[quantize]") {
  const std::vector<float> x = {1.0f, -2.0f, 65520.0f, 1.0f + 0x1.0p-11f, 0x1.0p-25f, 0.0f};
  const auto f32 = Quantize(GgmlType::kF32, x);
  CHECK(std::memcmp(f32.data(), x.data(), 24) == 0);
  // F16 rounds to nearest even: 65520 -> inf, 1 + 2^-11 (a tie) -> 1, 2^-25 (a tie) -> 0.
  const auto f16 = Quantize(GgmlType::kF16, x);
  const uint16_t want16[] = {0x3C00, 0xC000, 0x7C00, 0x3C00, 0x0000, 0x0000};
  for (int i = 0; i < 6; ++i) CHECK(U16(f16, 2 * i) == want16[i]);
  // BF16: the top half, rounded to nearest even (1 + 2^-11 -> 1; 65520 = 0x477FF000 -> 0x4780).
  const auto bf16 = Quantize(GgmlType::kBF16, x);
  const uint16_t want_bf[] = {0x3F80, 0xC000, 0x4780, 0x3F80, 0x3300, 0x0000};
  for (int i = 0; i < 6; ++i) CHECK(U16(bf16, 2 * i) == want_bf[i]);
}

TEST_CASE("quantizing then dequantizing stays within about a step", "[quantize]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(1024);
  for (float& v : x) v = u(rng);
  // Error bounds for values in [-1, 1]: half a step (2/15 for Q4_1, 2/31 for Q5_1, 1/127 for
  // Q8_0, ...), a whole step for Q4_0/Q5_0 (whose positive side ends one step short of the
  // largest magnitude when that is negative: 7/8 and 15/16 of it), a little more for the
  // K-quants, whose scales are themselves rounded to 6 bits.
  const std::pair<GgmlType, float> bounds[] = {
      {GgmlType::kF16, 1e-3f},   {GgmlType::kBF16, 4e-3f}, {GgmlType::kQ8_0, 5e-3f},
      {GgmlType::kQ4_0, 0.14f},  {GgmlType::kQ4_1, 0.07f}, {GgmlType::kQ5_0, 0.07f},
      {GgmlType::kQ5_1, 0.035f}, {GgmlType::kQ4_K, 0.1f},  {GgmlType::kQ5_K, 0.05f},
      {GgmlType::kQ6_K, 0.03f},
  };
  for (const auto& [type, bound] : bounds) {
    INFO(GgmlTypeName(static_cast<uint32_t>(type)));
    const auto y = Dequantize(type, Quantize(type, x), x.size());
    float worst = 0;
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(y[i] - x[i]));
    CHECK(worst < bound);
  }
}

#if GGUFEMBED_HAVE_GGML_ORACLE

using testing::Ggml;
using testing::LoadGgml;

// Rows of many kinds: scales from 1e-30 to 1e4, zeros, constants, one outlier, one sign only,
// halves and integers (exact ties for every rounding rule), per-sub-block magnitudes.
std::vector<std::vector<float>> RandomRows() {
  std::mt19937 rng(20261202);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<std::vector<float>> rows;
  const int lengths[] = {256, 512, 768, 1152 + 128, 2048};
  for (int n : lengths) {
    for (float scale : {1e-30f, 1e-6f, 1e-3f, 0.036f, 1.0f, 3.0f, 1e4f}) {
      std::vector<float> x(n);
      for (float& v : x) v = u(rng) * scale;
      rows.push_back(x);
      for (float& v : x) v = g(rng) * scale;
      rows.push_back(x);
      for (float& v : x) v = std::fabs(u(rng)) * scale;  // positive only
      rows.push_back(x);
      for (float& v : x) v = -std::fabs(g(rng)) * scale;  // negative only
      rows.push_back(x);
      for (float& v : x) v = (rng() % 3 == 0 ? 0.0f : u(rng) * scale);  // a third zeros
      rows.push_back(x);
      for (float& v : x) v = u(rng) * scale;
      x[rng() % n] = scale * 50.0f * (rng() % 2 ? 1 : -1);  // one outlier
      rows.push_back(x);
      // Whole zero stretches (sub-blocks and super-blocks) between random values.
      for (int i = 0; i < n; ++i)
        x[i] = (i / 16) % 5 == 1 || (i / 256) % 3 == 2 ? 0.0f : u(rng) * scale;
      rows.push_back(x);
      // Each 32-value stretch its own magnitude over six decades.
      for (int i = 0; i < n; ++i) {
        if (i % 32 == 0) scale = std::pow(10.0f, u(rng) * 3.0f);
        x[i] = u(rng) * scale;
      }
      rows.push_back(x);
    }
    for (float c : {0.0f, 1.0f, -0.37f, 1e-20f, 65504.0f}) rows.push_back(std::vector<float>(n, c));
    std::vector<float> x(n);
    for (int k : {1, 2, 4}) {  // multiples of 1/k in [-16, 16]: ties for roundf and for even
      for (float& v : x) v = static_cast<float>(static_cast<int>(rng() % 65) - 32) / (2.0f * k);
      rows.push_back(x);
    }
    for (int i = 0; i < n; ++i) x[i] = static_cast<float>(i % 64) - 31.5f;
    rows.push_back(x);
  }
  return rows;
}

std::string Describe(GgmlType type, size_t row, const std::vector<uint8_t>& ours,
                     const std::vector<uint8_t>& theirs) {
  size_t at = 0;
  while (at < ours.size() && ours[at] == theirs[at]) ++at;
  return std::string(GgmlTypeName(static_cast<uint32_t>(type))) + " row " + std::to_string(row) +
         ": first difference at byte " + std::to_string(at);
}

TEST_CASE("QuantizeRow equals ggml's reference quantizers byte for byte", "[quantize][ggml]") {
  const Ggml& ggml = LoadGgml();
  const std::vector<std::vector<float>> rows = RandomRows();
  for (GgmlType type : kAllTypes) {
    const int ggml_id = static_cast<int>(type);  // ggml's enum ggml_type has the same ids
    const Ggml::QuantizeFn ref =
        type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16
            ? nullptr
            : ggml.QuantizeRef(type);
    if (type != GgmlType::kF32 && type != GgmlType::kF16 && type != GgmlType::kBF16) {
      INFO(GgmlTypeName(static_cast<uint32_t>(type)));
      REQUIRE(ref != nullptr);
    }
    int mismatches = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      const std::vector<float>& x = rows[r];
      const int64_t n = static_cast<int64_t>(x.size());
      REQUIRE(ggml.row_size(ggml_id, n) == RowBytes(type, x.size()));
      const std::vector<uint8_t> ours = Quantize(type, x);
      // What llama-quantize calls: ggml_quantize_chunk without an importance matrix.
      std::vector<uint8_t> chunk(ours.size(), 0xCD);
      REQUIRE(ggml.quantize_chunk(ggml_id, x.data(), chunk.data(), 0, 1, n, nullptr) ==
              ours.size());
      if (ours != chunk) {
        if (++mismatches <= 5) FAIL_CHECK(Describe(type, r, ours, chunk));
      }
      // And the row function itself (for the float types, the row converters).
      std::vector<uint8_t> direct(ours.size(), 0xEF);
      if (ref != nullptr) {
        ref(x.data(), direct.data(), n);
      } else if (type == GgmlType::kF16) {
        ggml.fp32_to_fp16_row(x.data(), reinterpret_cast<uint16_t*>(direct.data()), n);
      } else if (type == GgmlType::kBF16) {
        ggml.fp32_to_bf16_row_ref(x.data(), reinterpret_cast<uint16_t*>(direct.data()), n);
      } else {
        std::memcpy(direct.data(), x.data(), ours.size());
      }
      if (ours != direct) {
        if (++mismatches <= 5) FAIL_CHECK("(row function) " + Describe(type, r, ours, direct));
      }
    }
    INFO(GgmlTypeName(static_cast<uint32_t>(type)) << ": " << rows.size() << " rows");
    CHECK(mismatches == 0);
  }
}

// Equal floats, or both NaN (ggml and we may keep different NaN payloads).
bool SameFloats(const std::vector<float>& a, const std::vector<float>& b, size_t* where) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::memcmp(&a[i], &b[i], 4) != 0) {
      *where = i;
      return false;
    }
  }
  return true;
}

TEST_CASE("DequantizeRow equals ggml's dequantizers on random block bytes", "[quantize][ggml]") {
  const Ggml& ggml = LoadGgml();
  std::mt19937 rng(99);
  for (GgmlType type : kAllTypes) {
    if (type == GgmlType::kF32) continue;  // ggml has no f32 "dequantizer"
    INFO(GgmlTypeName(static_cast<uint32_t>(type)));
    for (int trial = 0; trial < 64; ++trial) {
      const size_t n = 256 * (1 + trial % 8);
      std::vector<uint8_t> bytes(RowBytes(type, n));
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
      // Half of the trials with scales that are ordinary finite halves, so that the values
      // themselves (not only NaN and infinity) are compared.
      if (trial % 2 == 0 && type != GgmlType::kF16 && type != GgmlType::kBF16) {
        const uint32_t block = GetGgmlType(type).type_size;
        const size_t d_at = type == GgmlType::kQ6_K ? 208 : 0;
        const int n_halves = (type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1 ||
                              type == GgmlType::kQ4_K || type == GgmlType::kQ5_K)
                                 ? 2
                                 : 1;
        for (size_t b = 0; b < bytes.size(); b += block) {
          for (int h = 0; h < n_halves; ++h) bytes[b + d_at + 2 * h + 1] &= 0x3F;  // |d| < 2
        }
      }
      std::vector<float> ours(n), theirs(n, -1.0f);
      REQUIRE(DequantizeRow(type, bytes.data(), ours.data(), static_cast<int64_t>(n)).ok());
      if (type == GgmlType::kF16) {
        ggml.fp16_to_fp32_row(reinterpret_cast<const uint16_t*>(bytes.data()), theirs.data(), n);
      } else if (type == GgmlType::kBF16) {
        ggml.bf16_to_fp32_row(reinterpret_cast<const uint16_t*>(bytes.data()), theirs.data(), n);
      } else {
        const Ggml::DequantizeFn fn = ggml.DequantizeRow(type);
        REQUIRE(fn != nullptr);
        fn(bytes.data(), theirs.data(), static_cast<int64_t>(n));
      }
      size_t where = 0;
      const bool same = SameFloats(ours, theirs, &where);
      INFO("trial " << trial << ": first difference at value " << where);
      CHECK(same);
    }
  }
}

#endif  // GGUFEMBED_HAVE_GGML_ORACLE

}  // namespace
}  // namespace ggufembed
