// WebAssembly entry points: the C API (include/ggufembed/ggufembed_c.h), the relaxed-SIMD switch
// of kernels/relaxed_switch.cc and, by name for wasm/relaxed_simd.mjs, the relaxed-dot stand-ins
// of kernels/relaxed_dot.cc are the whole interface (wasm/CMakeLists.txt exports them: that list
// keeps them in the link). This file documents the contract with the npm package
// (js/src/engine.js, heap.js, load.js).
//
// JS owns no C++ objects directly: it allocates buffers with `ggufembed_alloc`, passes pointers,
// and reads `ggufembed_last_error_code/message` after a call returns NULL or -1, turning them into
// a `GgufembedError`. No call aborts on bad input, so the instance stays usable after an error.
#include "ggufembed/ggufembed_c.h"
