// Random contents for synthetic tensors: a seeded generator per tensor, matrices of a given
// standard deviation in any weight type, vectors near a value.
#ifndef GGUFEMBED_SYNTH_SYNTH_FILL_H_
#define GGUFEMBED_SYNTH_SYNTH_FILL_H_

#include <cstdint>
#include <string>

#include "gguf/ggml_type.h"
#include "synth/gguf_writer.h"

namespace ggufembed {

// SplitMix64: tiny, fast and good enough for random weights.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1).
  float Symmetric() { return static_cast<float>(Next() >> 40) * 0x1.0p-23f - 1.0f; }

 private:
  uint64_t state_;
};

// FNV-1a of the tensor name mixed with the seed: each tensor gets its own stream.
uint64_t TensorSeed(uint64_t seed, const std::string& name);

// Fills a [in, out] matrix of `type` (any type CanQuantize accepts; `in` a multiple of its block
// size, which GgufWriter checks before filling): `out` rows of `in` values, uniform with standard
// deviation `std`, each row quantized with QuantizeRow (ggml's reference quantizers).
GgufWriter::FillFn MatrixFill(uint64_t seed, GgmlType type, int64_t in, double std);

// F32 values uniform in [center - spread, center + spread); those of the outlier channels
// (IsOutlierChannel) times `outlier_scale`.
GgufWriter::FillFn VectorFill(uint64_t seed, float center, float spread, float outlier_scale = 1);

// Channels 3, 46, 89, … (every 43rd from 3): the few hidden channels a trained model's norms
// scale far above the rest (SynthOptions::outliers).
inline bool IsOutlierChannel(uint64_t c) { return c % 43 == 3; }

// general.file_type of files whose matrices are `t`.
uint32_t FileType(GgmlType t);

}  // namespace ggufembed

#endif  // GGUFEMBED_SYNTH_SYNTH_FILL_H_
