// Hyperparameters from GGUF metadata, checked: every error names the file, the key and the value.
#ifndef GGUFEMBED_MODELS_HPARAMS_H_
#define GGUFEMBED_MODELS_HPARAMS_H_

#include <cfloat>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "ggufembed/types.h"

namespace ggufembed {

// Any dimension or count above this is a corrupt file.
inline constexpr int kMaxSize = 1 << 24;

// An integer key in [min, max] that may also be a per-layer array whose entries are all equal
// (per-layer values that differ are kUnsupported). A missing key is an error when `required`,
// else `fallback`.
Result<int> GetSize(const GgufFile& f, const std::string& key, int min, int max, bool required,
                    int fallback);

// A per-layer integer: a scalar (the same for every layer) or an array of exactly `n_layer`
// integers (bools count as 0/1), each in [min, max]; `fallback` for every layer when missing.
Result<std::vector<int>> GetPerLayer(const GgufFile& f, const std::string& key, int n_layer,
                                     int min, int max, int fallback);

// Which layers attend within the sliding window (1) or globally (0), from `p` +
// "attention.sliding_window_pattern" as llama.cpp's load_swa_pattern reads it (the llama.cpp of
// node-llama-cpp 3.22.1; older builds read only a period for gemma-embedding): an array of one
// bool (or 0/1 integer) per layer, or a period n — layer il slides iff il % n < n - 1, every layer
// for 0 — that is `default_period` when the key is missing.
Result<std::vector<int>> GetSlidingLayers(const GgufFile& f, const std::string& p, int n_layer,
                                          int default_period);

// No RoPE scaling: `rope.scaling.type` absent, "none" or "linear" with `rope.scaling.factor` 0 or
// 1 (both mean none in llama.cpp); anything else is kUnsupported. `p` is the "arch." prefix.
Status CheckNoRopeScaling(const GgufFile& f, const std::string& p);

// `pooling_type` (mean when absent, with a note in `warnings`); 4 (rank, a reranker head) is
// kUnsupported.
Result<Pooling> GetPooling(const GgufFile& f, const std::string& p,
                           std::vector<std::string>* warnings);

// A float key that is positive as a float (not 0 once narrowed), at most `max` (at most
// FLT_MAX), or `fallback` when it is missing and not `required`.
Result<float> GetPositiveFloat(const GgufFile& f, const std::string& key, bool required,
                               double fallback, double max = FLT_MAX);

// The largest norm epsilon a file may give: models use 1e-6; one near 1 or above scales every
// activation to nearly 0 (1e38 gave all-zero vectors).
inline constexpr double kMaxNormEpsilon = 1e-2;

}  // namespace ggufembed

#endif  // GGUFEMBED_MODELS_HPARAMS_H_
