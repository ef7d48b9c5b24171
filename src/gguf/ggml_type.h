// The ggml tensor type table (ids, block sizes, byte sizes) and scalar row dequantization to f32.
#ifndef GGUFEMBED_GGUF_GGML_TYPE_H_
#define GGUFEMBED_GGUF_GGML_TYPE_H_

#include <cstdint>
#include <cstring>

#include "ggufembed/status.h"
#include "util/fp16.h"

namespace ggufembed {

// ggml type ids as stored in GGUF tensor infos (ggml/include/ggml.h). Ids 4, 5, 31-33 and 36-38
// were removed from ggml and are rejected like unknown ids.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
  kQ2_0 = 42,
};

struct GgmlTypeInfo {
  const char* name;     // "Q8_0", as ggml and gguf-dump print it
  uint32_t block_size;  // elements per block
  uint32_t type_size;   // bytes per block
  bool dequantizable;   // DequantizeRow supports it
};

// The table entry for a type id, or nullptr if `id` is not a (current) ggml type.
const GgmlTypeInfo* FindGgmlType(uint32_t id);

// The entry for a known type.
const GgmlTypeInfo& GetGgmlType(GgmlType type);

// "Q8_0" for a known id, "unknown" otherwise.
const char* GgmlTypeName(uint32_t id);

// Bytes taken by `n` elements of `type`; `n` must be a multiple of the block size.
inline uint64_t RowBytes(GgmlType type, uint64_t n) {
  const GgmlTypeInfo& info = GetGgmlType(type);
  return n / info.block_size * info.type_size;
}

// Q8_0 blocks: an f16 scale, then 32 int8 values (kernels read the values in place).
inline constexpr int kQ8_0BlockBytes = 34;
inline constexpr int kQ8_0ValuesOffset = 2;

// True for the types whose rows are blocks of 32 small integers times a scale (Q8_0, Q4_0, Q5_0,
// and with a minimum Q4_1, Q5_1): their products run on int8 activation blocks in ggml.
bool HasInt8Blocks(GgmlType type);

// One 32-value block of such a type as integers: value j is d·q[j] (+ m for Q4_1/Q5_1; m = 0
// for the others). The one decoder of these layouts: dequantization and the kernels use it.
//  Q8_0 `f16 d; i8 qs[32]`; Q4_0 `f16 d; u8 qs[16]` (low nibbles 0..15, high 16..31, minus 8);
//  Q4_1 `f16 d; f16 m; u8 qs[16]`; Q5_0 `f16 d; u8 qh[4]; u8 qs[16]` (bit j of the little-endian
//  qh is the 5th bit of value j, minus 16); Q5_1 `f16 d; f16 m; u8 qh[4]; u8 qs[16]`.
void UnpackBlock32(GgmlType type, const uint8_t* block, int8_t q[32], float* d, float* m);
// The same without the values (kernels unpack those in vectors, int8_tile-inl.h); inline, since
// the kernels call it for every block of every tile.
inline void UnpackBlock32Scales(GgmlType type, const uint8_t* block, float* d, float* m) {
  *d = LoadF16(block);
  *m = type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1 ? LoadF16(block + 2) : 0.0f;
}
// What the 4- and 5-bit types subtract from their stored unsigned values: 8 (Q4_0), 16 (Q5_0);
// 0 for the others (Q4_1 and Q5_1 keep q ≥ 0 beside a minimum; Q8_0 stores int8).
int Block32Offset(GgmlType type);

// True for the K-quants the engine multiplies with integer kernels: Q4_K, Q5_K, Q6_K (256-value
// super-blocks; activations in Q8_K blocks, as in ggml).
bool IsKQuant(GgmlType type);

// One super-block of a K-quant as integers, the one decoder of these layouts (dequantization and
// the kernels use it): value j is d·scale[k]·q[j] − dmin·zero[k] for Q4_K/Q5_K and
// d·(scale[k]·q[j] − zero[k]) for Q6_K, k = j / 16 (Q4_K/Q5_K repeat each 32-value sub-block's
// 6-bit scale and minimum for both its halves). q is unsigned: 0..15 (Q4_K), 0..31 (Q5_K), 0..63
// (Q6_K, whose zero is 32·scale); dmin is 0 for Q6_K.
//  Q4_K `f16 d; f16 dmin; u8 scales[12]; u8 qs[128]`; Q5_K the same with `u8 qh[32]` before qs;
//  Q6_K `u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d`.
void UnpackSuperBlockK(GgmlType type, const uint8_t* block, uint8_t q[256], int16_t scale[16],
                       int16_t zero[16], float* d, float* dmin);
// Q6_K `u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d`: where its scales and d are.
inline constexpr int kQ6KScalesOffset = 192;
inline constexpr int kQ6KDOffset = 208;
// Q4_K, Q5_K `f16 d; f16 dmin; u8 scales[12]; ...`: the 6-bit scale and minimum of each 32-value
// sub-block j as bytes sc8[j], mn8[j], and d, dmin. The 6 bits are the low 6 bits of bytes j and
// j + 4 for j < 4; for j ≥ 4 the nibbles of byte j + 4 with the top 2 bits of bytes j − 4 and j
// above them. Unpacked four at a time in 32-bit words, as ggml's x86 code does.
inline void UnpackScaleBytesK(const uint8_t* b, uint8_t sc8[8], uint8_t mn8[8], float* d,
                              float* dmin) {
  *d = LoadF16(b);
  *dmin = LoadF16(b + 2);
  uint32_t w[3];
  std::memcpy(w, b + 4, 12);
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  const uint32_t sc[2] = {w[0] & kLow6, (w[2] & kLow4) | (((w[0] >> 6) & kLow2) << 4)};
  const uint32_t mn[2] = {w[1] & kLow6, ((w[2] >> 4) & kLow4) | (((w[1] >> 6) & kLow2) << 4)};
  std::memcpy(sc8, sc, 8);  // little-endian: byte j of the two words is sub-block j's
  std::memcpy(mn8, mn, 8);
}
// UnpackSuperBlockK without the values; the kernels unpack both in vectors (kquant_tile-inl.h,
// UnpackValuesK and UnpackScalesKVec), and this is what their tests hold them to.
inline void UnpackScalesK(GgmlType type, const uint8_t* b, int16_t scale[16], int16_t zero[16],
                          float* d, float* dmin) {
  if (type == GgmlType::kQ6_K) {
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + kQ6KScalesOffset);
    *d = LoadF16(b + kQ6KDOffset);
    *dmin = 0.0f;
    for (int k = 0; k < 16; ++k) {
      scale[k] = sc[k];
      zero[k] = static_cast<int16_t>(32 * sc[k]);
    }
    return;
  }
  uint8_t sc8[8], mn8[8];
  UnpackScaleBytesK(b, sc8, mn8, d, dmin);
  for (int j = 0; j < 8; ++j) {
    scale[2 * j] = scale[2 * j + 1] = sc8[j];
    zero[2 * j] = zero[2 * j + 1] = mn8[j];
  }
}

// Dequantizes `n` elements (a multiple of the block size) of `type` at `src` into `dst` with
// ggml's reference formulas (ggml-quants.c `dequantize_row_*`), bit for bit. Returns kUnsupported
// for types without a dequantizer and kInvalidArgument when `n` is not a whole number of blocks.
Status DequantizeRow(GgmlType type, const uint8_t* src, float* dst, int64_t n);

}  // namespace ggufembed

#endif  // GGUFEMBED_GGUF_GGML_TYPE_H_
