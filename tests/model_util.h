// Test helpers for model files: write synthetic models and rewrite them with changes.
#ifndef GGUFEMBED_TESTS_MODEL_UTIL_H_
#define GGUFEMBED_TESTS_MODEL_UTIL_H_

#include <functional>
#include <string>

#include "gguf/gguf.h"
#include "synth/gguf_writer.h"
#include "synth/synth_model.h"

namespace ggufembed::testing {

// Writes a synthetic model (once per process and set of options) and returns its path.
std::string SynthModelPath(const std::string& preset, GgmlType type = GgmlType::kQ8_0,
                           bool dense = true, const std::string& arch = "gemma-embedding");

// Copies `src` into a new file, letting the caller drop keys or tensors and add its own.
struct Rewrite {
  std::function<bool(const GgufKv&)> keep_kv = [](const GgufKv&) { return true; };
  std::function<bool(const GgufTensorInfo&)> keep_tensor = [](const GgufTensorInfo&) {
    return true;
  };
  std::function<void(GgufWriter&)> add;  // runs after the copied keys and tensors
};
Result<GgufFile> RewriteModel(const GgufFile& src, const Rewrite& rewrite, const std::string& name);

// Adds a copy of `t`'s data to `w` under `name` with shape `ne` (same type and byte size).
void CopyTensor(GgufWriter& w, const GgufTensorInfo& t, const std::string& name,
                std::vector<int64_t> ne);

}  // namespace ggufembed::testing

#endif  // GGUFEMBED_TESTS_MODEL_UTIL_H_
