// Dequantization of hand-built blocks: every expected value is worked out by hand from the block
// layouts in ggml-common.h and written here as a literal.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "gguf/ggml_type.h"
#include "synth/quantize.h"

namespace ggufembed {
namespace {

void PutU16(std::vector<uint8_t>& b, size_t at, uint16_t v) { std::memcpy(&b[at], &v, 2); }

std::vector<float> Dequantize(GgmlType type, const std::vector<uint8_t>& block, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n), -999.0f);
  REQUIRE(DequantizeRow(type, block.data(), out.data(), n).ok());
  return out;
}

TEST_CASE("type table", "[dequant]") {
  CHECK(std::string(GgmlTypeName(8)) == "Q8_0");
  CHECK(std::string(GgmlTypeName(30)) == "BF16");
  CHECK(std::string(GgmlTypeName(4)) == "unknown");
  CHECK(std::string(GgmlTypeName(43)) == "unknown");
  CHECK(FindGgmlType(14)->type_size == 210);
  CHECK(RowBytes(GgmlType::kQ8_0, 768) == 24 * 34);
  CHECK(RowBytes(GgmlType::kQ4_K, 512) == 2 * 144);
  CHECK(RowBytes(GgmlType::kF16, 3) == 6);
}

TEST_CASE("F32 and F16 and BF16", "[dequant]") {
  std::vector<uint8_t> f32(8);
  const float in[2] = {1.5f, -0.0f};
  std::memcpy(f32.data(), in, 8);
  CHECK(Dequantize(GgmlType::kF32, f32, 2) == std::vector<float>{1.5f, -0.0f});

  // 0x3C00 = 1, 0xC000 = -2, 0x7BFF = 65504 (largest half), 0x0001 = 2^-24 (smallest subnormal),
  // 0x3555 = 0.333251953125, 0x7C00 = +inf.
  std::vector<uint8_t> f16(12);
  const uint16_t halves[6] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555, 0x7C00};
  std::memcpy(f16.data(), halves, 12);
  std::vector<float> h = Dequantize(GgmlType::kF16, f16, 6);
  CHECK(h[0] == 1.0f);
  CHECK(h[1] == -2.0f);
  CHECK(h[2] == 65504.0f);
  CHECK(h[3] == std::ldexp(1.0f, -24));
  CHECK(h[4] == 0.333251953125f);
  CHECK(std::isinf(h[5]));

  // bf16 is the top half of an f32: 0x3F80 = 1, 0xC040 = -3, 0x4049 = 3.140625.
  std::vector<uint8_t> bf16(6);
  const uint16_t bf[3] = {0x3F80, 0xC040, 0x4049};
  std::memcpy(bf16.data(), bf, 6);
  CHECK(Dequantize(GgmlType::kBF16, bf16, 3) == std::vector<float>{1.0f, -3.0f, 3.140625f});
}

TEST_CASE("Q8_0: q * d", "[dequant]") {
  std::vector<uint8_t> b(34);
  PutU16(b, 0, 0x3800);  // d = 0.5
  for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  b[2 + 31] = static_cast<uint8_t>(-127);
  std::vector<float> y = Dequantize(GgmlType::kQ8_0, b, 32);
  CHECK(y[0] == -8.0f);  // -16 * 0.5
  CHECK(y[16] == 0.0f);
  CHECK(y[17] == 0.5f);
  CHECK(y[30] == 7.0f);    // 14 * 0.5
  CHECK(y[31] == -63.5f);  // -127 * 0.5
}

TEST_CASE("Q4_0: low nibbles are elements 0-15 and high nibbles 16-31 minus 8", "[dequant]") {
  std::vector<uint8_t> b(18);
  PutU16(b, 0, 0x4000);  // d = 2
  for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  std::vector<float> y = Dequantize(GgmlType::kQ4_0, b, 32);
  CHECK(y[0] == -16.0f);   // (0 - 8) * 2
  CHECK(y[15] == 14.0f);   // (15 - 8) * 2
  CHECK(y[16] == 14.0f);   // high nibble of byte 0 is 15
  CHECK(y[31] == -16.0f);  // high nibble of byte 15 is 0
  CHECK(y[5] == -6.0f);    // (5 - 8) * 2
  CHECK(y[21] == 4.0f);    // high nibble of byte 5 is 10: (10 - 8) * 2
}

TEST_CASE("Q4_1: q * d + m", "[dequant]") {
  std::vector<uint8_t> b(20);
  PutU16(b, 0, 0x3800);  // d = 0.5
  PutU16(b, 2, 0xBC00);  // m = -1
  for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<uint8_t>(j | (3 << 4));
  std::vector<float> y = Dequantize(GgmlType::kQ4_1, b, 32);
  CHECK(y[0] == -1.0f);  // 0 * 0.5 - 1
  CHECK(y[15] == 6.5f);  // 15 * 0.5 - 1
  CHECK(y[16] == 0.5f);  // 3 * 0.5 - 1
  CHECK(y[31] == 0.5f);
}

TEST_CASE("Q5_0: the fifth bit comes from qh", "[dequant]") {
  std::vector<uint8_t> b(22);
  PutU16(b, 0, 0x3C00);             // d = 1
  const uint32_t qh = 0x80010005u;  // bits 0, 2, 16 and 31 set
  std::memcpy(&b[2], &qh, 4);
  for (int j = 0; j < 16; ++j) b[6 + j] = static_cast<uint8_t>(j | (1 << 4));
  std::vector<float> y = Dequantize(GgmlType::kQ5_0, b, 32);
  CHECK(y[0] == 0.0f);     // (0 | 16) - 16
  CHECK(y[1] == -15.0f);   // 1 - 16
  CHECK(y[2] == 2.0f);     // (2 | 16) - 16
  CHECK(y[15] == -1.0f);   // 15 - 16
  CHECK(y[16] == 1.0f);    // high nibble 1, bit 16 set: 17 - 16
  CHECK(y[17] == -15.0f);  // 1 - 16
  CHECK(y[31] == 1.0f);    // bit 31 set
}

TEST_CASE("Q5_1: unsigned five-bit q * d + m", "[dequant]") {
  std::vector<uint8_t> b(24);
  PutU16(b, 0, 0x3800);             // d = 0.5
  PutU16(b, 2, 0x4000);             // m = 2
  const uint32_t qh = 0x00000003u;  // bits 0 and 1
  std::memcpy(&b[4], &qh, 4);
  for (int j = 0; j < 16; ++j) b[8 + j] = static_cast<uint8_t>(15 | (2 << 4));
  std::vector<float> y = Dequantize(GgmlType::kQ5_1, b, 32);
  CHECK(y[0] == 17.5f);  // (15 | 16) * 0.5 + 2
  CHECK(y[1] == 17.5f);
  CHECK(y[2] == 9.5f);   // 15 * 0.5 + 2
  CHECK(y[16] == 3.0f);  // 2 * 0.5 + 2
}

// Q4_K/Q5_K scales: bytes 0-3 hold the 6-bit scales of sub-blocks 0-3 (top 2 bits: high bits of
// sub-block 4-7's scale), bytes 4-7 their mins (top 2 bits likewise), bytes 8-11 the low 4 bits of
// sub-blocks 4-7's scale (low nibble) and min (high nibble).
std::vector<uint8_t> KScales() {
  return {1 | 0x40, 2,    3,    4,      // sc0 = 1 (sc4 gets +16), sc1..3 = 2, 3, 4
          5 | 0x80, 6,    7,    8,      // m0 = 5 (m4 gets +32), m1..3 = 6, 7, 8
          0x21,     0x43, 0x65, 0x87};  // sc4..7 = 1(+16), 3, 5, 7; m4..7 = 2(+32), 4, 6, 8
}

TEST_CASE("Q4_K: d * sc * q - dmin * m over 8 sub-blocks", "[dequant]") {
  std::vector<uint8_t> b(144);
  PutU16(b, 0, 0x3C00);  // d = 1
  PutU16(b, 2, 0x3800);  // dmin = 0.5
  const std::vector<uint8_t> scales = KScales();
  std::memcpy(&b[4], scales.data(), 12);
  for (int i = 0; i < 128; ++i) b[16 + i] = 0x21;  // low nibble 1, high nibble 2
  std::vector<float> y = Dequantize(GgmlType::kQ4_K, b, 256);
  CHECK(y[0] == -1.5f);    // sub 0: 1*1*1 - 0.5*5
  CHECK(y[32] == 1.0f);    // sub 1: 1*2*2 - 0.5*6
  CHECK(y[64] == -0.5f);   // sub 2: 3*1 - 0.5*7
  CHECK(y[96] == 4.0f);    // sub 3: 4*2 - 0.5*8
  CHECK(y[128] == 0.0f);   // sub 4: 17*1 - 0.5*34
  CHECK(y[160] == 4.0f);   // sub 5: 3*2 - 0.5*4
  CHECK(y[192] == 2.0f);   // sub 6: 5*1 - 0.5*6
  CHECK(y[255] == 10.0f);  // sub 7: 7*2 - 0.5*8
}

TEST_CASE("Q5_K: Q4_K plus a fifth bit per pair of sub-blocks", "[dequant]") {
  std::vector<uint8_t> b(176);
  PutU16(b, 0, 0x3C00);  // d = 1
  PutU16(b, 2, 0x3800);  // dmin = 0.5
  const std::vector<uint8_t> scales = KScales();
  std::memcpy(&b[4], scales.data(), 12);
  for (int l = 0; l < 32; ++l) b[16 + l] = 0x81;   // qh: bit 0 (sub 0) and bit 7 (sub 7)
  for (int i = 0; i < 128; ++i) b[48 + i] = 0x21;  // qs
  std::vector<float> y = Dequantize(GgmlType::kQ5_K, b, 256);
  CHECK(y[0] == 14.5f);     // sub 0: 1*(1+16) - 2.5
  CHECK(y[32] == 1.0f);     // sub 1: 2*2 - 3
  CHECK(y[128] == 0.0f);    // sub 4: 17*1 - 17
  CHECK(y[255] == 122.0f);  // sub 7: 7*(2+16) - 4
}

TEST_CASE("Q6_K: d * sc * (q - 32) over 16 sub-blocks", "[dequant]") {
  std::vector<uint8_t> b(210);
  for (int i = 0; i < 128; ++i) b[i] = 0x21;       // ql: low nibble 1, high nibble 2
  for (int i = 0; i < 64; ++i) b[128 + i] = 0xE4;  // qh: 2-bit fields 0, 1, 2, 3
  for (int i = 0; i < 16; ++i) b[192 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 8));
  PutU16(b, 208, 0x3400);  // d = 0.25
  // q1 = (1 | 0<<4) - 32 = -31, q2 = (1 | 1<<4) - 32 = -15, q3 = (2 | 2<<4) - 32 = 2,
  // q4 = (2 | 3<<4) - 32 = 18.
  std::vector<float> y = Dequantize(GgmlType::kQ6_K, b, 256);
  CHECK(y[0] == 62.0f);    // 0.25 * sc[0]=-8 * -31
  CHECK(y[40] == 22.5f);   // l=8, +32: 0.25 * sc[2]=-6 * -15
  CHECK(y[80] == -1.5f);   // l=16, +64: 0.25 * sc[5]=-3 * 2
  CHECK(y[127] == -4.5f);  // l=31, +96: 0.25 * sc[7]=-1 * 18
  CHECK(y[128] == 0.0f);   // second half: sc[8] = 0
  CHECK(y[255] == 31.5f);  // second half, l=31, +96: 0.25 * sc[15]=7 * 18
}

TEST_CASE("types without a dequantizer and partial blocks are errors", "[dequant]") {
  std::vector<uint8_t> b(84);
  float out[256];
  const Status q2k = DequantizeRow(GgmlType::kQ2_K, b.data(), out, 256);
  CHECK(q2k.code() == StatusCode::kUnsupported);
  CHECK(q2k.message() == "no dequantizer for tensor type Q2_K");
  const Status partial = DequantizeRow(GgmlType::kQ8_0, b.data(), out, 33);
  CHECK(partial.code() == StatusCode::kInvalidArgument);
  CHECK(partial.message() == "33 elements is not a whole number of Q8_0 blocks of 32");
}

TEST_CASE("Q8_0 reference quantizer", "[dequant]") {
  // amax = 127 makes d = 1 (f16 0x3C00) and q = round(x) with halves away from zero: 0.5 -> 1 and
  // -2.5 -> -3 (round-half-even would give 0 and -2).
  float x[32] = {};
  x[0] = 127.0f;
  x[1] = 0.5f;
  x[2] = -2.5f;
  x[3] = 1.49f;
  x[4] = -127.0f;
  uint8_t block[34];
  REQUIRE(QuantizeRow(GgmlType::kQ8_0, x, 32, block).ok());
  uint16_t d;
  std::memcpy(&d, block, 2);
  CHECK(d == 0x3C00);
  const int8_t* q = reinterpret_cast<const int8_t*>(block + 2);
  CHECK(q[0] == 127);
  CHECK(q[1] == 1);
  CHECK(q[2] == -3);
  CHECK(q[3] == 1);
  CHECK(q[4] == -127);
  CHECK(q[5] == 0);
  // amax = 2.54: d = 0.02, stored as f16 0x251F (exponent 9, mantissa 287 = round(0.28 * 1024)).
  x[0] = 2.54f;
  for (int j = 1; j < 32; ++j) x[j] = 0.0f;
  REQUIRE(QuantizeRow(GgmlType::kQ8_0, x, 32, block).ok());
  std::memcpy(&d, block, 2);
  CHECK(d == 0x251F);
  CHECK(q[0] == 127);
}

}  // namespace
}  // namespace ggufembed
