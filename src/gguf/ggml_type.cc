// ggml type table and the scalar reference dequantizers (block layouts from ggml-common.h).
#include "gguf/ggml_type.h"

#include <cmath>
#include <cstring>

#include "gguf/reader.h"
#include "util/error.h"
#include "util/fp16.h"

namespace ggufembed {
namespace {

constexpr uint32_t kQK = 32;     // elements per legacy block (Q4_0 ... Q8_1)
constexpr uint32_t kQK_K = 256;  // elements per K-quant super-block

// Indexed by type id; a null name marks an id that is not a ggml type.
constexpr GgmlTypeInfo kTypes[] = {
    {"F32", 1, 4, true},          // 0
    {"F16", 1, 2, true},          // 1
    {"Q4_0", 32, 18, true},       // 2
    {"Q4_1", 32, 20, true},       // 3
    {nullptr, 0, 0, false},       // 4 (Q4_2, removed)
    {nullptr, 0, 0, false},       // 5 (Q4_3, removed)
    {"Q5_0", 32, 22, true},       // 6
    {"Q5_1", 32, 24, true},       // 7
    {"Q8_0", 32, 34, true},       // 8
    {"Q8_1", 32, 36, false},      // 9
    {"Q2_K", 256, 84, false},     // 10
    {"Q3_K", 256, 110, false},    // 11
    {"Q4_K", 256, 144, true},     // 12
    {"Q5_K", 256, 176, true},     // 13
    {"Q6_K", 256, 210, true},     // 14
    {"Q8_K", 256, 292, false},    // 15
    {"IQ2_XXS", 256, 66, false},  // 16
    {"IQ2_XS", 256, 74, false},   // 17
    {"IQ3_XXS", 256, 98, false},  // 18
    {"IQ1_S", 256, 50, false},    // 19
    {"IQ4_NL", 32, 18, false},    // 20
    {"IQ3_S", 256, 110, false},   // 21
    {"IQ2_S", 256, 82, false},    // 22
    {"IQ4_XS", 256, 136, false},  // 23
    {"I8", 1, 1, false},          // 24
    {"I16", 1, 2, false},         // 25
    {"I32", 1, 4, false},         // 26
    {"I64", 1, 8, false},         // 27
    {"F64", 1, 8, false},         // 28
    {"IQ1_M", 256, 56, false},    // 29
    {"BF16", 1, 2, true},         // 30
    {nullptr, 0, 0, false},       // 31 (Q4_0_4_4, removed)
    {nullptr, 0, 0, false},       // 32 (Q4_0_4_8, removed)
    {nullptr, 0, 0, false},       // 33 (Q4_0_8_8, removed)
    {"TQ1_0", 256, 54, false},    // 34
    {"TQ2_0", 256, 66, false},    // 35
    {nullptr, 0, 0, false},       // 36 (IQ4_NL_4_4, removed)
    {nullptr, 0, 0, false},       // 37 (IQ4_NL_4_8, removed)
    {nullptr, 0, 0, false},       // 38 (IQ4_NL_8_8, removed)
    {"MXFP4", 32, 17, false},     // 39
    {"NVFP4", 64, 36, false},     // 40
    {"Q1_0", 128, 18, false},     // 41
    {"Q2_0", 64, 18, false},      // 42
};
constexpr uint32_t kTypeCount = sizeof(kTypes) / sizeof(kTypes[0]);

// Blocks of 32 small integers: value q·d, plus m for Q4_1/Q5_1 (no +0 otherwise, which would
// turn −0 into +0).
void DequantizeInt8Blocks(GgmlType type, const uint8_t* src, float* y, int64_t nb) {
  const uint32_t block_bytes = GetGgmlType(type).type_size;
  const bool has_min = type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1;
  int8_t q[kQK];
  for (int64_t i = 0; i < nb; ++i, src += block_bytes, y += kQK) {
    float d, m;
    UnpackBlock32(type, src, q, &d, &m);
    for (uint32_t j = 0; j < kQK; ++j) y[j] = has_min ? q[j] * d + m : q[j] * d;
  }
}

// K-quant super-blocks through UnpackSuperBlockK, with ggml's formulas and order of operations:
// Q4_K/Q5_K (d·sc)·q − dmin·m, Q6_K (d·sc)·(q − 32).
void DequantizeK(GgmlType type, const uint8_t* src, float* y, int64_t nb) {
  const uint64_t block_bytes = GetGgmlType(type).type_size;
  uint8_t q[kQK_K];
  int16_t scale[16], zero[16];
  float d, dmin;
  for (int64_t i = 0; i < nb; ++i, src += block_bytes) {
    UnpackSuperBlockK(type, src, q, scale, zero, &d, &dmin);
    for (uint32_t j = 0; j < kQK_K; ++j) {
      const int k = j / 16;
      y[j] = type == GgmlType::kQ6_K ? (d * scale[k]) * static_cast<float>(q[j] - 32)
                                     : (d * scale[k]) * static_cast<float>(q[j]) - dmin * zero[k];
    }
    y += kQK_K;
  }
}

}  // namespace

bool HasInt8Blocks(GgmlType type) {
  switch (type) {
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
      return true;
    default:
      return false;
  }
}

bool IsKQuant(GgmlType type) {
  return type == GgmlType::kQ4_K || type == GgmlType::kQ5_K || type == GgmlType::kQ6_K;
}

void UnpackSuperBlockK(GgmlType type, const uint8_t* b, uint8_t q[256], int16_t scale[16],
                       int16_t zero[16], float* d, float* dmin) {
  UnpackScalesK(type, b, scale, zero, d, dmin);
  if (type == GgmlType::kQ6_K) {  // 4 low bits in ql, 2 high bits in qh
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32) {
      uint8_t* y = q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        y[l + 0] = static_cast<uint8_t>((ql[l] & 0xF) | ((qh[l] >> 0) & 3) << 4);
        y[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4);
        y[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4);
        y[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4);
      }
    }
    return;
  }
  // Q4_K: ... u8 qs[128]. Q5_K: ... u8 qh[32] (the 5th bits) before qs. 64 values per 32 bytes
  // of qs: low nibbles, then high nibbles.
  const bool q5 = type == GgmlType::kQ5_K;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + (q5 ? 48 : 16);
  for (int j = 0; j < 8; ++j) {
    const uint8_t* nibbles = qs + 32 * (j / 2);
    const int shift = 4 * (j % 2);
    for (int l = 0; l < 32; ++l) {
      int v = (nibbles[l] >> shift) & 0xF;
      if (q5 && (qh[l] >> j) & 1) v += 16;
      q[32 * j + l] = static_cast<uint8_t>(v);
    }
  }
}

int Block32Offset(GgmlType type) {
  return type == GgmlType::kQ4_0 ? 8 : type == GgmlType::kQ5_0 ? 16 : 0;
}

void UnpackBlock32(GgmlType type, const uint8_t* b, int8_t q[32], float* d, float* m) {
  UnpackBlock32Scales(type, b, d, m);
  const int offset = Block32Offset(type);
  switch (type) {
    case GgmlType::kQ8_0:
      std::memcpy(q, b + 2, 32);
      break;
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1: {
      const bool has_min = type == GgmlType::kQ4_1;
      const uint8_t* qs = b + (has_min ? 4 : 2);
      for (int j = 0; j < 16; ++j) {
        q[j] = static_cast<int8_t>((qs[j] & 0xF) - offset);
        q[j + 16] = static_cast<int8_t>((qs[j] >> 4) - offset);
      }
      break;
    }
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1: {
      const bool has_min = type == GgmlType::kQ5_1;
      uint32_t qh;
      std::memcpy(&qh, b + (has_min ? 4 : 2), 4);
      const uint8_t* qs = b + (has_min ? 8 : 6);
      for (int j = 0; j < 16; ++j) {
        q[j] = static_cast<int8_t>(((qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - offset);
        q[j + 16] = static_cast<int8_t>(((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - offset);
      }
      break;
    }
    default:
      break;
  }
}

const GgmlTypeInfo* FindGgmlType(uint32_t id) {
  if (id >= kTypeCount || kTypes[id].name == nullptr) return nullptr;
  return &kTypes[id];
}

const GgmlTypeInfo& GetGgmlType(GgmlType type) { return kTypes[static_cast<uint32_t>(type)]; }

const char* GgmlTypeName(uint32_t id) {
  const GgmlTypeInfo* info = FindGgmlType(id);
  return info ? info->name : "unknown";
}

Status DequantizeRow(GgmlType type, const uint8_t* src, float* dst, int64_t n) {
  const GgmlTypeInfo* info = FindGgmlType(static_cast<uint32_t>(type));
  if (info == nullptr || !info->dequantizable) {
    return Error(StatusCode::kUnsupported, "no dequantizer for tensor type %s",
                 GgmlTypeName(static_cast<uint32_t>(type)));
  }
  if (n < 0 || n % info->block_size != 0) {
    return Error(StatusCode::kInvalidArgument,
                 "%lld elements is not a whole number of %s blocks of %u",
                 static_cast<long long>(n), info->name, info->block_size);
  }
  const int64_t nb = n / info->block_size;
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      break;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = LoadF16(src + 2 * i);
      break;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToF32(Load<uint16_t>(src + 2 * i));
      break;
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0:
      DequantizeInt8Blocks(type, src, dst, nb);
      break;
    case GgmlType::kQ4_K:
      DequantizeK(type, src, dst, nb);
      break;
    case GgmlType::kQ5_K:
      DequantizeK(type, src, dst, nb);
      break;
    case GgmlType::kQ6_K:
      DequantizeK(type, src, dst, nb);
      break;
    default:
      return Error(StatusCode::kInternal, "dequantizer table out of sync for %s", info->name);
  }
  return OkStatus();
}

}  // namespace ggufembed
