/* Plain C API of ggufembed: the interface the WebAssembly bindings export, usable from any C code.
 */
#ifndef GGUFEMBED_GGUFEMBED_C_H_
#define GGUFEMBED_GGUFEMBED_C_H_

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
  GGUFEMBED_INTERNAL = 7,
  GGUFEMBED_NOT_FINITE = 8
};

/* The code and message of the last failed call on this thread (GGUFEMBED_OK and "" after a
   successful call of a function that can fail; the accessors, which cannot, leave them as they
   are). The message names the file, item and offset or limit involved. */
int ggufembed_last_error_code(void);
const char* ggufembed_last_error_message(void);

/* The largest buffer `ggufembed_alloc` and `ggufembed_realloc` accept: in WebAssembly the heap's
   maximum size (emscripten_get_heap_max(): 4 GiB less one page, from -sMAXIMUM_MEMORY=4GB) less
   256 MiB kept for the engine; natively PTRDIFF_MAX. */
size_t ggufembed_max_buffer_size(void);

/* Memory for buffers handed to the API (the wasm side fills model bytes in place). NULL, with
   GGUFEMBED_OUT_OF_MEMORY as the last error, when `size` is above `ggufembed_max_buffer_size()`
   or the memory is not there. In wasm32 `size_t` is 32 bits: JavaScript callers must check a
   size against the limit as a JS number first, since a larger one would arrive here wrapped
   modulo 2^32 (js/src/heap.js does, in checkBufferSize). */
void* ggufembed_alloc(size_t size);
/* Resizes a buffer from `ggufembed_alloc` like realloc: the contents up to the smaller size are
   kept; on failure it returns NULL and the old buffer stays valid. */
void* ggufembed_realloc(void* ptr, size_t size);
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

/* Where the data of tensor `name` lies in a GGUF file of `file_size` bytes, from its first
   `prefix_size` bytes: writes {begin, end, bytes per row} to `out` and returns 1; 0 when the
   prefix may end inside the header (read more, and ask again); -1 on error (a header that is
   not valid although the whole file is given, no such tensor). For bindings that read a file in
   pieces and leave a tensor out (see ggufembed_model_load_buffer_lazy). */
int32_t ggufembed_gguf_locate_tensor(const uint8_t* prefix, size_t prefix_size, size_t file_size,
                                     const char* name, size_t* out);

/* ------------------------------------------------------------------ embedding models */

/* Pooling overrides for `ggufembed_options.pooling`. */
enum {
  GGUFEMBED_POOLING_FILE = -1, /* the model file's own (mean for EmbeddingGemma) */
  GGUFEMBED_POOLING_NONE = 0,
  GGUFEMBED_POOLING_MEAN = 1,
  GGUFEMBED_POOLING_CLS = 2,
  GGUFEMBED_POOLING_LAST = 3
};

typedef struct ggufembed_model ggufembed_model;

/* Loads an embedding model from a file (memory-mapped natively: the file must stay as it is
   while the model is loaded — one truncated under it ends the process with SIGBUS, as with any
   mapped file). NULL on error. */
ggufembed_model* ggufembed_model_load_file(const char* path);
/* Loads a model from `size` bytes at `data` (from `ggufembed_alloc`); ownership passes to the
   model, also on failure. `name` is how errors refer to it. NULL on error. */
ggufembed_model* ggufembed_model_load_buffer(uint8_t* data, size_t size, const char* name);
/* The same for a buffer whose bytes [absent_begin, absent_end), exactly the data of
   token_embd.weight (ggufembed_gguf_locate_tensor), were not filled in: the token embedding table
   is most of an EmbeddingGemma file and a text needs a few of its rows. Before each embed call,
   ggufembed_model_absent_token_rows lists the rows its texts lack; the caller writes each row
   `id` at data + absent_begin + id * (bytes per row) and marks them with
   ggufembed_model_mark_token_rows. A text with a row not marked fails (GGUFEMBED_INTERNAL,
   naming the row) instead of reading bytes that are not there. */
ggufembed_model* ggufembed_model_load_buffer_lazy(uint8_t* data, size_t size, const char* name,
                                                  size_t absent_begin, size_t absent_end);
void ggufembed_model_free(ggufembed_model* model);

/* {"architecture","name","dim","context_length","vocab_size","pooling","has_dense",
    "prompts":[...],"warnings":[...]}; valid until the next call on this model. */
const char* ggufembed_model_info_json(ggufembed_model* model);

/* Options of `ggufembed_embed`; initialize with `ggufembed_options_init`. Strings may be NULL. */
typedef struct ggufembed_options {
  const char* prompt;      /* task prompt name: query, document, ... */
  const char* title;       /* document title (with prompt "document") */
  const char* prompt_text; /* a custom prefix instead of a named prompt */
  int32_t dim;             /* Matryoshka size; 0 keeps the full vector */
  int32_t normalize;       /* 1: L2-normalize (default) */
  int32_t truncate;        /* 1: cut inputs longer than the context instead of failing */
  int32_t parse_special;   /* 1: text like "<eos>" becomes that token (default) */
  int32_t pooling;         /* GGUFEMBED_POOLING_* */
  int32_t threads;         /* texts embedded at once, one per thread (default 1; 0: all cores) */
} ggufembed_options;

void ggufembed_options_init(ggufembed_options* options);

/* The layout of `ggufembed_options` for bindings that write the struct into memory themselves
   (js/src/layout.js, checked against this by the tests and when the module loads): writes up to
   `capacity` values to `out` — sizeof(ggufembed_options), then the offset and size in bytes of
   each field in declaration order (prompt, title, prompt_text, dim, normalize, truncate,
   parse_special, pooling, threads) — and returns how many there are (19). */
int32_t ggufembed_options_layout(int32_t* out, int32_t capacity);

typedef struct ggufembed_result ggufembed_result;

/* Embeds `n_texts` UTF-8 texts; `lengths` gives their byte lengths, or is NULL for
   NUL-terminated texts. `options` may be NULL for the defaults. NULL on error (with more than
   one text, the message names the failing text's index). Each text's vector is the one it gets
   alone; short texts share forward passes, and `options->threads` passes run at once. */
ggufembed_result* ggufembed_embed(ggufembed_model* model, const char* const* texts,
                                  const int32_t* lengths, int32_t n_texts,
                                  const ggufembed_options* options);
/* Called by ggufembed_embed_with_progress with its `user` and how many of its texts are done. */
typedef void (*ggufembed_progress_fn)(void* user, int32_t done);
/* ggufembed_embed, calling `progress(user, done)` (if not NULL) on the calling thread, `done`
   being how many texts are finished in input order: after each forward pass it runs, when that
   grew (passes of other threads count at its next call), and `n_texts` at the end. A call that
   fails with a text's error counts only the texts before it. `progress` must not call back
   into this library. */
ggufembed_result* ggufembed_embed_with_progress(ggufembed_model* model, const char* const* texts,
                                                const int32_t* lengths, int32_t n_texts,
                                                const ggufembed_options* options,
                                                ggufembed_progress_fn progress, void* user);
int32_t ggufembed_result_count(const ggufembed_result* result);
/* For result `i`: `rows` vectors (1, or the token count with pooling none) of `dim` floats. */
int32_t ggufembed_result_rows(const ggufembed_result* result, int32_t i);
int32_t ggufembed_result_dim(const ggufembed_result* result, int32_t i);
const float* ggufembed_result_values(const ggufembed_result* result, int32_t i);
/* Tokens embedded; tokens before truncation; 1 if the text was truncated. */
int32_t ggufembed_result_tokens(const ggufembed_result* result, int32_t i);
int32_t ggufembed_result_input_tokens(const ggufembed_result* result, int32_t i);
int32_t ggufembed_result_truncated(const ggufembed_result* result, int32_t i);
void ggufembed_result_free(ggufembed_result* result);

/* Token ids of `length` bytes of UTF-8 `text` (BOS/EOS with `add_special`, special-token text
   parsed with `parse_special`). Writes at most `capacity` ids to `out` and returns how many there
   are (call again with a larger buffer if that is more than `capacity`); -1 on error. */
int32_t ggufembed_tokenize(ggufembed_model* model, const char* text, int32_t length,
                           int32_t add_special, int32_t parse_special, int32_t* out,
                           int32_t capacity);

/* For a model from ggufembed_model_load_buffer_lazy: the distinct token ids, ascending, of the
   texts tokenized as ggufembed_embed would with `options`, whose rows are not marked (texts that
   ggufembed_embed would refuse are skipped). Writes at most `capacity` to `out` and returns how
   many there are; 0 for a model loaded whole; -1 on error. */
int32_t ggufembed_model_absent_token_rows(ggufembed_model* model, const char* const* texts,
                                          const int32_t* lengths, int32_t n_texts,
                                          const ggufembed_options* options, int32_t* out,
                                          int32_t capacity);
/* Marks `n` rows as written; -1 if an id is not a row left out. Not while an embed call on this
   model runs. */
int32_t ggufembed_model_mark_token_rows(ggufembed_model* model, const int32_t* ids, int32_t n);

#ifdef __cplusplus
}
#endif

#endif /* GGUFEMBED_GGUFEMBED_C_H_ */
