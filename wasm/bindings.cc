// WebAssembly entry points: the C API (include/ggufembed/ggufembed_c.h), the progress callback
// below, the relaxed-SIMD switch of kernels/relaxed_switch.cc and, by name for
// wasm/relaxed_simd.mjs, the relaxed-dot stand-ins of kernels/relaxed_dot.cc are the whole
// interface (wasm/CMakeLists.txt exports them: that list keeps them in the link). This file
// documents the contract with the npm package (js/src/engine.js, heap.js, load.js).
//
// JS owns no C++ objects directly: it allocates buffers with `ggufembed_alloc`, passes pointers,
// and reads `ggufembed_last_error_code/message` after a call returns NULL or -1, turning them into
// a `GgufembedError`. No call aborts on bad input, so the instance stays usable after an error.
#include <emscripten/emscripten.h>

#include "ggufembed/ggufembed_c.h"

// Batch progress during a call, for the npm package's worker (js/src/engine.js): the C API's
// progress callback, which reaches `Module.ggufembedProgress(done)` when engine.js has set it.
// The engine calls it on the calling thread only, so in the threads build too it runs where the
// module's JavaScript does.
EM_JS(void, ggufembed_js_progress, (int32_t done), {
  const progress = Module["ggufembedProgress"];
  if (progress) progress(done);
});

extern "C" {

// The callback to pass to ggufembed_embed_with_progress (a function table index in wasm32).
EMSCRIPTEN_KEEPALIVE ggufembed_progress_fn ggufembed_wasm_progress_callback() {
  return [](void*, int32_t done) { ggufembed_js_progress(done); };
}

}  // extern "C"
