// WebAssembly entry points: the C API (src/ggufembed_c.h) is the whole interface; this file keeps
// its symbols in the link and documents the contract with js/src/index.js.
//
// JS owns no C++ objects directly: it allocates buffers with `ggufembed_alloc`, passes pointers,
// and reads `ggufembed_last_error_code/message` after a call returns NULL or -1, turning them into
// a `GgufembedError`. No call aborts on bad input, so the instance stays usable after an error.
#include "ggufembed/ggufembed_c.h"
