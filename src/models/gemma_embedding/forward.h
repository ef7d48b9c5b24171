// The fast forward pass (forward.cc): SIMD kernels chosen once per call, every buffer from one
// arena. Bit-identical to ReferenceForward + the output head on every target.
#ifndef GGUFEMBED_SRC_FORWARD_H_
#define GGUFEMBED_SRC_FORWARD_H_

#include <cstdint>
#include <vector>

#include "util/arena.h"
#include "models/gemma_embedding/config.h"
#include "models/gemma_embedding/weights.h"
#include "util/profile.h"
#include "ggufembed/status.h"

namespace ggufembed {

// The memory one forward pass at a time works in. Reused across calls: after the first call of
// a given length, a forward pass allocates nothing.
struct ForwardWorkspace {
  Arena arena;
  // cos and sin of the RoPE angles, [positions × n_rot/2], for the global and sliding bases;
  // extended when a longer input arrives.
  std::vector<float> rope_cos[2], rope_sin[2];
  int rope_positions = 0;
};

// Runs the model on `n_tokens` valid token ids and writes the pooled, dense-projected vectors,
// [PooledRows(pooling, n_tokens) × n_embd], to `out`. The SIMD target is chosen once per call.
// With `profile`, the time of each operation is added to it.
Status ForwardPooled(const ModelConfig& config, const ModelWeights& weights,
                     const int32_t* tokens, int n_tokens, Pooling pooling,
                     ForwardWorkspace& workspace, float* out, OpProfile* profile = nullptr);

// Name of the SIMD target ForwardPooled runs on ("AVX3_DL", "AVX2", "WASM", ...).
const char* ForwardTargetName();

// Restricts the targets runtime dispatch may choose, process-wide: "best" (default), "avx512vnni",
// "avx512", "avx2" or "scalar". kInvalidArgument for another name; kUnsupported when this CPU or
// build lacks it. In WebAssembly only "best" (SIMD128) exists.
Status SetForwardTarget(std::string_view name);

}  // namespace ggufembed

#endif  // GGUFEMBED_SRC_FORWARD_H_
