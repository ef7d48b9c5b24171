// The SIMD target of the kernels, process-wide: which one runs, which ones this CPU and build
// have, and forcing one (for measuring and testing; every target gives the same vectors).
#ifndef GGUFEMBED_SIMD_H_
#define GGUFEMBED_SIMD_H_

#include <string>
#include <string_view>

#include "ggufembed/status.h"

namespace ggufembed {

// The SIMD target forward passes run on, as runtime dispatch picks it on this CPU (or as
// SetSimdTarget forced it): "AVX3_DL" (AVX-512 with VNNI), "AVX3", "AVX2", "SCALAR", or "WASM"
// (SIMD128) in WebAssembly.
const char* SimdTargetName();

// Space-separated names of the targets compiled into this build that this CPU supports, whatever
// SetSimdTarget forced. Not safe while SetSimdTarget runs on another thread.
std::string SupportedSimdTargets();

// Restricts the targets runtime dispatch may choose, process-wide, for every embedder: "best"
// (default), "avx512vnni", "avx512", "avx2" or "scalar". Every target gives the same vectors;
// this is for measuring and testing. kInvalidArgument for another name; kUnsupported when this
// CPU or build lacks it (in WebAssembly only "best" exists). Not safe while another thread embeds.
Status SetSimdTarget(std::string_view name);

}  // namespace ggufembed

#endif  // GGUFEMBED_SIMD_H_
