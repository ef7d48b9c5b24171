// Which Highway SIMD target the engine's kernels run on (runtime dispatch natively, WASM in wasm).
#ifndef GGUFEMBED_SRC_SIMD_TARGET_H_
#define GGUFEMBED_SRC_SIMD_TARGET_H_

#include <string>

namespace ggufembed {

// The target dynamic dispatch picks on this CPU, e.g. "AVX3_DL", "AVX2", "WASM".
const char* SimdTargetName();

// Space-separated names of the targets compiled into this build that this CPU supports.
std::string SupportedSimdTargets();

}  // namespace ggufembed

#endif  // GGUFEMBED_SRC_SIMD_TARGET_H_
