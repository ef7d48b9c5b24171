// WebAssembly entry points: the C API (include/ggufembed/ggufembed_c.h) and the relaxed-SIMD
// switch of kernels/target.cc are the whole interface; this file keeps their symbols in the link
// and documents the contract with the npm package (js/src/engine.js, heap.js, load.js).
//
// JS owns no C++ objects directly: it allocates buffers with `ggufembed_alloc`, passes pointers,
// and reads `ggufembed_last_error_code/message` after a call returns NULL or -1, turning them into
// a `GgufembedError`. No call aborts on bad input, so the instance stays usable after an error.
#include "ggufembed/ggufembed_c.h"
