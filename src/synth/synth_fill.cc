// Random contents for synthetic tensors (see synth_fill.h).
#include "synth/synth_fill.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "synth/quantize.h"
#include "util/check.h"

namespace ggufembed {

// FNV-1a of the tensor name mixed with the seed: each tensor gets its own stream.
uint64_t TensorSeed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

// Fills a [in, out] matrix: `out` rows of `in` values, uniform with standard deviation `std`,
// quantized row by row like llama-quantize does.
GgufWriter::FillFn MatrixFill(uint64_t seed, GgmlType type, int64_t in, double std) {
  return [seed, type, in, std](uint8_t* dst, uint64_t n_bytes) {
    Rng rng(seed);
    const float scale = static_cast<float>(std * std::sqrt(3.0));  // uniform [-a, a]: std a/√3
    const uint64_t row_bytes = RowBytes(type, static_cast<uint64_t>(in));
    std::vector<float> row(static_cast<size_t>(in));
    for (uint64_t off = 0; off < n_bytes; off += row_bytes) {
      for (float& v : row) v = rng.Symmetric() * scale;
      GGUFEMBED_DCHECK_OK(QuantizeRow(type, row.data(), in, dst + off));
    }
  };
}

GgufWriter::FillFn VectorFill(uint64_t seed, float center, float spread, float outlier_scale) {
  return [seed, center, spread, outlier_scale](uint8_t* dst, uint64_t n_bytes) {
    Rng rng(seed);
    for (uint64_t off = 0; off < n_bytes; off += 4) {
      float v = center + spread * rng.Symmetric();
      if (outlier_scale != 1 && IsOutlierChannel(off / 4)) v *= outlier_scale;
      std::memcpy(dst + off, &v, 4);
    }
  };
}

uint32_t FileType(GgmlType t) {
  switch (t) {
    case GgmlType::kF32:
      return 0;
    case GgmlType::kF16:
      return 1;
    case GgmlType::kBF16:
      return 32;
    default:
      return 7;  // MOSTLY_Q8_0
  }
}

}  // namespace ggufembed
