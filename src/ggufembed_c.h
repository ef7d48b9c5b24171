/* Plain C API of ggufembed: the interface the WebAssembly bindings export, usable from any C code. */
#ifndef GGUFEMBED_SRC_GGUFEMBED_C_H_
#define GGUFEMBED_SRC_GGUFEMBED_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes returned by `ggufembed_last_error_code` (the same values as C++ `StatusCode`). */
enum {
  GGUFEMBED_OK = 0,
  GGUFEMBED_INVALID_ARGUMENT = 1,
  GGUFEMBED_INVALID_FILE = 2,
  GGUFEMBED_UNSUPPORTED = 3,
  GGUFEMBED_IO_ERROR = 4,
  GGUFEMBED_INPUT_TOO_LONG = 5,
  GGUFEMBED_OUT_OF_MEMORY = 6,
  GGUFEMBED_INTERNAL = 7
};

/* The code and message of the last failed call on this thread (GGUFEMBED_OK and "" after a
   successful one). The message names the file, item and offset or limit involved. */
int ggufembed_last_error_code(void);
const char* ggufembed_last_error_message(void);

/* Memory for buffers handed to the API (the wasm side fills model bytes in place). */
void* ggufembed_alloc(size_t size);
void ggufembed_free(void* ptr);

/* A parsed GGUF file. */
typedef struct ggufembed_gguf ggufembed_gguf;

/* Opens a file (memory-mapped natively). NULL on error. */
ggufembed_gguf* ggufembed_gguf_open_file(const char* path);
/* Parses `size` bytes at `data`, which must come from `ggufembed_alloc`; ownership passes to the
   handle, also when parsing fails. `name` is how errors refer to the file. NULL on error. */
ggufembed_gguf* ggufembed_gguf_open_buffer(uint8_t* data, size_t size, const char* name);
void ggufembed_gguf_close(ggufembed_gguf* gguf);

/* The header, metadata and tensor table as JSON (see `FormatInfoJson`); arrays are cut to
   `max_array_items` elements, 0 = all. The string lives until the next call on this handle. */
const char* ggufembed_gguf_info_json(ggufembed_gguf* gguf, uint32_t max_array_items);

/* Dequantizes row `row` of tensor `name` into `out`, which holds `capacity` floats. Returns the
   row length (ne[0]), or -1 on error. (32-bit integers keep the wasm ABI free of BigInt.) */
int32_t ggufembed_gguf_dequantize_row(ggufembed_gguf* gguf, const char* name, int32_t row,
                                      float* out, int32_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* GGUFEMBED_SRC_GGUFEMBED_C_H_ */
