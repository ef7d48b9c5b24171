// The C API: thin wrappers that turn Status errors into a thread-local last error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "embed/embedder_access.h"
#include "gguf/gguf.h"
#include "gguf/gguf_info.h"
#include "ggufembed/embedder.h"
#include "ggufembed/ggufembed_c.h"
#include "ggufembed/status.h"
#include "text/prompts.h"
#include "util/alloc_guard.h"
#include "util/error.h"
#include "util/json.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#include <malloc.h>
#endif

using ggufembed::GgufFile;
using ggufembed::Status;
using ggufembed::StatusCode;

struct ggufembed_gguf {
  GgufFile file;
  std::string json;  // storage for ggufembed_gguf_info_json
};

struct ggufembed_model {
  std::unique_ptr<ggufembed::Embedder> embedder;
  std::string json;  // storage for ggufembed_model_info_json
};

struct ggufembed_result {
  std::vector<ggufembed::Embedding> embeddings;
};

namespace {

thread_local int g_error_code = GGUFEMBED_OK;
thread_local std::string g_error_message;

// Cannot throw: the message that does not fit in memory is replaced by a short one (in
// std::string's own buffer), so that no exception crosses into C from an error path either.
void SetError(const Status& status) noexcept {
  g_error_code = static_cast<int>(status.code());
  ggufembed::CatchAllocationFailure(
      "setting an error",
      [&] {
        g_error_message = status.message();
        return 0;
      },
      [](const Status&) {
        g_error_message = "out of memory";
        return 0;
      });
}

void ClearError() {
  g_error_code = GGUFEMBED_OK;
  g_error_message.clear();
}

// The C options as the Embedder's; NULL for the defaults.
Status ToEmbedOptions(const ggufembed_options* options, ggufembed::EmbedOptions* eo) {
  ggufembed_options defaults;
  ggufembed_options_init(&defaults);
  const ggufembed_options& o = options != nullptr ? *options : defaults;
  eo->prompt = o.prompt != nullptr ? o.prompt : "";
  eo->title = o.title != nullptr ? o.title : "";
  eo->prompt_text = o.prompt_text != nullptr ? o.prompt_text : "";
  eo->dim = o.dim;
  eo->normalize = o.normalize != 0;
  eo->truncate = o.truncate != 0;
  eo->parse_special = o.parse_special != 0;
  if (o.pooling != GGUFEMBED_POOLING_FILE) {
    if (o.pooling < GGUFEMBED_POOLING_NONE || o.pooling > GGUFEMBED_POOLING_LAST) {
      return ggufembed::Error(
          StatusCode::kInvalidArgument,
          "pooling %d is not one of -1 (the file's), 0..3 (none, mean, cls, last)", o.pooling);
    }
    eo->pooling = static_cast<ggufembed::Pooling>(o.pooling);
  }
  return ggufembed::OkStatus();
}

// The C texts (with `lengths`, or NUL-terminated) as strings.
Status ToTexts(const char* const* texts, const int32_t* lengths, int32_t n_texts,
               std::vector<std::string>* out) {
  out->reserve(static_cast<size_t>(n_texts));
  for (int32_t i = 0; i < n_texts; ++i) {
    if (texts[i] == nullptr || (lengths != nullptr && lengths[i] < 0)) {
      return ggufembed::Error(StatusCode::kInvalidArgument,
                              "text %d is NULL or has a negative length", i);
    }
    out->emplace_back(texts[i],
                      lengths != nullptr ? static_cast<size_t>(lengths[i]) : std::strlen(texts[i]));
  }
  return ggufembed::OkStatus();
}

// Writes at most `capacity` of `ids` to `out` and returns how many there are; -1 on error.
int32_t ReturnIds(const ggufembed::Result<std::vector<int32_t>>& ids, int32_t* out,
                  int32_t capacity) {
  if (!ids.ok()) {
    SetError(ids.status());
    return -1;
  }
  const int32_t n = static_cast<int32_t>(ids->size());
  for (int32_t i = 0; i < n && i < capacity; ++i) out[i] = (*ids)[static_cast<size_t>(i)];
  ClearError();
  return n;
}

ggufembed_model* WrapModel(ggufembed::Result<std::unique_ptr<ggufembed::Embedder>> embedder) {
  if (!embedder.ok()) {
    SetError(embedder.status());
    return nullptr;
  }
  ClearError();
  return new ggufembed_model{std::move(embedder).value(), std::string()};
}

ggufembed_gguf* Wrap(ggufembed::Result<GgufFile> file) {
  if (!file.ok()) {
    SetError(file.status());
    return nullptr;
  }
  ClearError();
  return new ggufembed_gguf{std::move(file).value(), std::string()};
}

// Runs a C entry point's body: a failed allocation inside it becomes GGUFEMBED_OUT_OF_MEMORY and
// the function's failure value (NULL or -1), since no exception may cross into C.
template <class Fn>
auto Guarded(const char* what, Fn&& fn) -> decltype(fn()) {
  using T = decltype(fn());
  return ggufembed::CatchAllocationFailure(what, fn, [](const Status& status) -> T {
    SetError(status);
    if constexpr (std::is_pointer_v<T>) {
      return nullptr;
    } else {
      return -1;
    }
  });
}

}  // namespace

extern "C" {

int ggufembed_last_error_code(void) { return g_error_code; }
const char* ggufembed_last_error_message(void) { return g_error_message.c_str(); }

size_t ggufembed_max_buffer_size(void) {
#ifdef __EMSCRIPTEN__
  // The largest heap the module may grow to (-sMAXIMUM_MEMORY, capped by emscripten one page
  // short of 4 GiB), less room for the engine's own allocations: the vocabulary, the
  // forward pass's arena, results, and the other buffers of a load.
  constexpr size_t kEngineHeadroom = size_t{256} << 20;
  const size_t heap_max = emscripten_get_heap_max();
  return heap_max > kEngineHeadroom ? heap_max - kEngineHeadroom : 0;
#else
  return static_cast<size_t>(PTRDIFF_MAX);
#endif
}

namespace {
bool CheckBufferSize(size_t size) {
  const size_t limit = ggufembed_max_buffer_size();
  if (size <= limit) return true;
  SetError(ggufembed::Error(
      StatusCode::kOutOfMemory,
      "cannot allocate %zu bytes: more than the %zu bytes one buffer can take", size, limit));
  return false;
}

void* Realloc(void* ptr, size_t size) {
  if (!CheckBufferSize(size)) return nullptr;
#ifdef __EMSCRIPTEN__
  // Emscripten's dlmalloc grows a block in place only when the free space at the top of the heap
  // already holds the growth; otherwise it allocates a new block past the old one and copies, so
  // a buffer grown step by step to N bytes would leave the heap (which never shrinks) at about
  // 2.5 N. Allocating the missing bytes and freeing them first extends that free top, and the
  // block that ends there (a model being streamed in, usually) then grows in place: a 333 MB
  // buffer grown by 1.5x steps from 1 MiB leaves a heap of 1.1 N instead of 2.55 N. If the block
  // is not at the top, nothing is lost: realloc moves it into that space.
  const size_t old_size = ptr != nullptr ? malloc_usable_size(ptr) : 0;
  if (ptr != nullptr && size > old_size) {
    void* volatile spare = std::malloc(size - old_size);  // volatile: the pair is not elided
    std::free(spare);
  }
#endif
  void* grown = std::realloc(ptr, size > 0 ? size : 1);
  if (grown == nullptr) {
    SetError(ggufembed::Error(StatusCode::kOutOfMemory, "cannot grow a buffer to %zu bytes", size));
    return nullptr;
  }
  ClearError();
  return grown;
}
}  // namespace

void* ggufembed_alloc(size_t size) {
  return Guarded("allocating a buffer", [&]() -> void* {
    if (!CheckBufferSize(size)) return nullptr;
    void* ptr = std::malloc(size > 0 ? size : 1);
    if (ptr == nullptr) {
      SetError(ggufembed::Error(StatusCode::kOutOfMemory, "cannot allocate %zu bytes", size));
      return nullptr;
    }
    ClearError();
    return ptr;
  });
}

void* ggufembed_realloc(void* ptr, size_t size) {
  return Guarded("growing a buffer", [&]() -> void* { return Realloc(ptr, size); });
}

void ggufembed_free(void* ptr) { std::free(ptr); }

ggufembed_gguf* ggufembed_gguf_open_file(const char* path) {
  return Guarded("opening a GGUF file", [&]() -> ggufembed_gguf* {
    if (path == nullptr) {
      SetError(Status(StatusCode::kInvalidArgument, "path is NULL"));
      return nullptr;
    }
    return Wrap(GgufFile::Open(path));
  });
}

ggufembed_gguf* ggufembed_gguf_open_buffer(uint8_t* data, size_t size, const char* name) {
  return Guarded("parsing a GGUF buffer", [&]() -> ggufembed_gguf* {
    if (data == nullptr) {
      SetError(Status(StatusCode::kInvalidArgument, "buffer is NULL"));
      return nullptr;
    }
    // Adopted first: the buffer is ours to free whatever fails after (the name's copy too).
    std::shared_ptr<const ggufembed::FileBytes> bytes =
        ggufembed::FileBytes::AdoptMalloced(data, size);
    const char* shown = name != nullptr ? name : "<buffer>";
    return Wrap(ggufembed::GuardAllocation(
        "parsing a GGUF file", shown, [&] { return GgufFile::Parse(std::move(bytes), shown); }));
  });
}

void ggufembed_gguf_close(ggufembed_gguf* gguf) { delete gguf; }

const char* ggufembed_gguf_info_json(ggufembed_gguf* gguf, uint32_t max_array_items) {
  return Guarded("formatting GGUF metadata", [&]() -> const char* {
    if (gguf == nullptr) {
      SetError(Status(StatusCode::kInvalidArgument, "GGUF handle is NULL"));
      return nullptr;
    }
    ggufembed::InfoOptions options;
    options.max_array_items = max_array_items;
    const ggufembed::Status status =
        ggufembed::GuardAllocation("formatting GGUF metadata", gguf->file.name(), [&] {
          gguf->json = ggufembed::FormatInfoJson(gguf->file, options);
          return ggufembed::OkStatus();
        });
    if (!status.ok()) {
      SetError(status);
      return nullptr;
    }
    ClearError();
    return gguf->json.c_str();
  });
}

int32_t ggufembed_gguf_dequantize_row(ggufembed_gguf* gguf, const char* name, int32_t row,
                                      float* out, int32_t capacity) {
  return Guarded("dequantizing a row", [&]() -> int32_t {
    if (gguf == nullptr || name == nullptr || out == nullptr) {
      SetError(Status(StatusCode::kInvalidArgument, "NULL argument"));
      return -1;
    }
    const ggufembed::GgufTensorInfo* t = gguf->file.FindTensor(name);
    if (t == nullptr) {
      SetError(ggufembed::Error(StatusCode::kInvalidArgument, "%s: no tensor named '%s'",
                                gguf->file.name().c_str(), name));
      return -1;
    }
    if (capacity < t->ne[0]) {
      SetError(ggufembed::Error(
          StatusCode::kInvalidArgument, "output holds %lld floats, the row has %lld",
          static_cast<long long>(capacity), static_cast<long long>(t->ne[0])));
      return -1;
    }
    const Status status = ggufembed::DequantizeTensorRow(*t, row, out);
    if (!status.ok()) {
      SetError(status);
      return -1;
    }
    ClearError();
    return static_cast<int32_t>(t->ne[0]);
  });
}

int32_t ggufembed_gguf_locate_tensor(const uint8_t* prefix, size_t prefix_size, size_t file_size,
                                     const char* name, size_t* out) {
  return Guarded("parsing a GGUF prefix", [&]() -> int32_t {
    if (prefix == nullptr || name == nullptr || out == nullptr || prefix_size > file_size) {
      SetError(
          Status(StatusCode::kInvalidArgument, "NULL argument or a prefix longer than the file"));
      return -1;
    }
    ggufembed::Result<GgufFile> file = GgufFile::ParsePrefix(
        ggufembed::FileBytes::Borrow(prefix, prefix_size), file_size, "<prefix>");
    if (!file.ok()) {
      if (prefix_size < file_size) {
        ClearError();
        return 0;  // perhaps only cut short
      }
      SetError(file.status());
      return -1;
    }
    const ggufembed::GgufTensorInfo* t = file->FindTensor(name);
    if (t == nullptr) {
      SetError(ggufembed::Error(StatusCode::kInvalidArgument, "no tensor named '%s'", name));
      return -1;
    }
    const uint64_t begin = file->data_offset() + t->offset;
    out[0] = static_cast<size_t>(begin);
    out[1] = static_cast<size_t>(begin + t->n_bytes);
    out[2] = static_cast<size_t>(t->row_bytes());
    ClearError();
    return 1;
  });
}

ggufembed_model* ggufembed_model_load_file(const char* path) {
  return Guarded("loading a model", [&]() -> ggufembed_model* {
    if (path == nullptr) {
      SetError(Status(StatusCode::kInvalidArgument, "path is NULL"));
      return nullptr;
    }
    return WrapModel(ggufembed::Embedder::Load(path));
  });
}

ggufembed_model* ggufembed_model_load_buffer(uint8_t* data, size_t size, const char* name) {
  return Guarded("loading a model", [&]() -> ggufembed_model* {
    if (data == nullptr) {
      SetError(Status(StatusCode::kInvalidArgument, "buffer is NULL"));
      return nullptr;
    }
    std::shared_ptr<const ggufembed::FileBytes> bytes =
        ggufembed::FileBytes::AdoptMalloced(data, size);  // first, as above
    return WrapModel(ggufembed::internal::EmbedderAccess::Load(
        std::move(bytes), name != nullptr ? name : "<buffer>"));
  });
}

ggufembed_model* ggufembed_model_load_buffer_lazy(uint8_t* data, size_t size, const char* name,
                                                  size_t absent_begin, size_t absent_end) {
  return Guarded("loading a model", [&]() -> ggufembed_model* {
    if (data == nullptr) {
      SetError(Status(StatusCode::kInvalidArgument, "buffer is NULL"));
      return nullptr;
    }
    std::shared_ptr<const ggufembed::FileBytes> bytes =
        ggufembed::FileBytes::AdoptMalloced(data, size);  // first, as above
    return WrapModel(ggufembed::internal::EmbedderAccess::LoadWithoutTokenRows(
        std::move(bytes), name != nullptr ? name : "<buffer>", absent_begin, absent_end));
  });
}

void ggufembed_model_free(ggufembed_model* model) { delete model; }

const char* ggufembed_model_info_json(ggufembed_model* model) {
  return Guarded("formatting model info", [&]() -> const char* {
    if (model == nullptr) {
      SetError(Status(StatusCode::kInvalidArgument, "model handle is NULL"));
      return nullptr;
    }
    const ggufembed::ModelInfo& info = model->embedder->info();
    std::string& out = model->json;
    out = "{\"architecture\":";
    ggufembed::AppendJsonString(out, info.architecture);
    out += ",\"name\":";
    ggufembed::AppendJsonString(out, info.name);
    out += ggufembed::StrFormat(
        ",\"dim\":%d,\"context_length\":%d,\"vocab_size\":%d,\"pooling\":\"%s\",\"has_dense\":%s",
        info.dim, info.context_length, info.n_vocab, ggufembed::PoolingName(info.pooling),
        info.has_dense ? "true" : "false");
    out += ",\"prompts\":[";
    bool first = true;
    for (const std::string& p : ggufembed::PromptNames()) {
      if (!first) out += ",";
      first = false;
      ggufembed::AppendJsonString(out, p);
    }
    out += "],\"warnings\":[";
    first = true;
    for (const std::string& w : model->embedder->warnings()) {
      if (!first) out += ",";
      first = false;
      ggufembed::AppendJsonString(out, w);
    }
    out += "]}";
    ClearError();
    return out.c_str();
  });
}

int32_t ggufembed_options_layout(int32_t* out, int32_t capacity) {
#define GGUFEMBED_FIELD(f)                              \
  static_cast<int32_t>(offsetof(ggufembed_options, f)), \
      static_cast<int32_t>(sizeof(ggufembed_options::f))
  const int32_t layout[] = {
      static_cast<int32_t>(sizeof(ggufembed_options)),
      GGUFEMBED_FIELD(prompt),
      GGUFEMBED_FIELD(title),
      GGUFEMBED_FIELD(prompt_text),
      GGUFEMBED_FIELD(dim),
      GGUFEMBED_FIELD(normalize),
      GGUFEMBED_FIELD(truncate),
      GGUFEMBED_FIELD(parse_special),
      GGUFEMBED_FIELD(pooling),
      GGUFEMBED_FIELD(threads),
  };
#undef GGUFEMBED_FIELD
  const int32_t n = static_cast<int32_t>(sizeof(layout) / sizeof(layout[0]));
  for (int32_t i = 0; i < n && i < capacity && out != nullptr; ++i) out[i] = layout[i];
  return n;
}

void ggufembed_options_init(ggufembed_options* options) {
  if (options == nullptr) return;
  *options = ggufembed_options{nullptr, nullptr, nullptr, 0, 1, 0, 1, GGUFEMBED_POOLING_FILE, 1};
}

ggufembed_result* ggufembed_embed(ggufembed_model* model, const char* const* texts,
                                  const int32_t* lengths, int32_t n_texts,
                                  const ggufembed_options* options) {
  return ggufembed_embed_with_progress(model, texts, lengths, n_texts, options, nullptr, nullptr);
}

ggufembed_result* ggufembed_embed_with_progress(ggufembed_model* model, const char* const* texts,
                                                const int32_t* lengths, int32_t n_texts,
                                                const ggufembed_options* options,
                                                ggufembed_progress_fn progress, void* user) {
  return Guarded("embedding", [&]() -> ggufembed_result* {
    if (model == nullptr || (texts == nullptr && n_texts > 0) || n_texts < 0) {
      SetError(Status(StatusCode::kInvalidArgument, "NULL model or texts, or a negative count"));
      return nullptr;
    }
    ggufembed::EmbedOptions eo;
    std::vector<std::string> batch;
    if (Status status = ToEmbedOptions(options, &eo); !status.ok()) {
      SetError(status);
      return nullptr;
    }
    if (Status status = ToTexts(texts, lengths, n_texts, &batch); !status.ok()) {
      SetError(status);
      return nullptr;
    }
    ggufembed::BatchOptions batch_options{.threads = options != nullptr ? options->threads : 1};
    if (progress != nullptr) {
      batch_options.on_progress = [&](size_t done) { progress(user, static_cast<int32_t>(done)); };
    }
    ggufembed::Result<std::vector<ggufembed::Embedding>> r =
        model->embedder->Embed(batch, eo, batch_options);
    if (!r.ok()) {
      SetError(r.status());
      return nullptr;
    }
    ClearError();
    return new ggufembed_result{std::move(r).value()};
  });
}

namespace {
const ggufembed::Embedding* ResultAt(const ggufembed_result* r, int32_t i) {
  if (r == nullptr || i < 0 || static_cast<size_t>(i) >= r->embeddings.size()) return nullptr;
  return &r->embeddings[static_cast<size_t>(i)];
}
}  // namespace

int32_t ggufembed_result_count(const ggufembed_result* r) {
  return r != nullptr ? static_cast<int32_t>(r->embeddings.size()) : 0;
}
int32_t ggufembed_result_rows(const ggufembed_result* r, int32_t i) {
  const ggufembed::Embedding* e = ResultAt(r, i);
  return e != nullptr ? e->rows : 0;
}
int32_t ggufembed_result_dim(const ggufembed_result* r, int32_t i) {
  const ggufembed::Embedding* e = ResultAt(r, i);
  return e != nullptr ? e->dim : 0;
}
const float* ggufembed_result_values(const ggufembed_result* r, int32_t i) {
  const ggufembed::Embedding* e = ResultAt(r, i);
  return e != nullptr ? e->values.data() : nullptr;
}
int32_t ggufembed_result_tokens(const ggufembed_result* r, int32_t i) {
  const ggufembed::Embedding* e = ResultAt(r, i);
  return e != nullptr ? e->n_tokens : 0;
}
int32_t ggufembed_result_input_tokens(const ggufembed_result* r, int32_t i) {
  const ggufembed::Embedding* e = ResultAt(r, i);
  return e != nullptr ? e->n_input_tokens : 0;
}
int32_t ggufembed_result_truncated(const ggufembed_result* r, int32_t i) {
  const ggufembed::Embedding* e = ResultAt(r, i);
  return e != nullptr && e->truncated ? 1 : 0;
}
void ggufembed_result_free(ggufembed_result* r) { delete r; }

int32_t ggufembed_tokenize(ggufembed_model* model, const char* text, int32_t length,
                           int32_t add_special, int32_t parse_special, int32_t* out,
                           int32_t capacity) {
  return Guarded("tokenizing", [&]() -> int32_t {
    if (model == nullptr || text == nullptr || length < 0 || (out == nullptr && capacity > 0)) {
      SetError(Status(StatusCode::kInvalidArgument, "NULL argument or negative length"));
      return -1;
    }
    ggufembed::Result<std::vector<int32_t>> ids = model->embedder->Tokenize(
        std::string_view(text, static_cast<size_t>(length)), add_special != 0, parse_special != 0);
    return ReturnIds(ids, out, capacity);
  });
}

int32_t ggufembed_model_absent_token_rows(ggufembed_model* model, const char* const* texts,
                                          const int32_t* lengths, int32_t n_texts,
                                          const ggufembed_options* options, int32_t* out,
                                          int32_t capacity) {
  return Guarded("tokenizing", [&]() -> int32_t {
    if (model == nullptr || (texts == nullptr && n_texts > 0) || n_texts < 0 ||
        (out == nullptr && capacity > 0)) {
      SetError(Status(StatusCode::kInvalidArgument, "NULL argument or a negative count"));
      return -1;
    }
    ggufembed::EmbedOptions eo;
    std::vector<std::string> batch;
    Status status = ToEmbedOptions(options, &eo);
    if (status.ok()) status = ToTexts(texts, lengths, n_texts, &batch);
    ggufembed::Result<std::vector<int32_t>> ids =
        status.ok()
            ? ggufembed::internal::EmbedderAccess::AbsentTokenRows(*model->embedder, batch, eo)
            : status;
    return ReturnIds(ids, out, capacity);
  });
}

int32_t ggufembed_model_mark_token_rows(ggufembed_model* model, const int32_t* ids, int32_t n) {
  return Guarded("marking token rows", [&]() -> int32_t {
    if (model == nullptr || (ids == nullptr && n > 0) || n < 0) {
      SetError(Status(StatusCode::kInvalidArgument, "NULL argument or a negative count"));
      return -1;
    }
    const Status status = ggufembed::internal::EmbedderAccess::MarkTokenRows(
        *model->embedder, std::span<const int32_t>(ids, static_cast<size_t>(n)));
    if (!status.ok()) {
      SetError(status);
      return -1;
    }
    ClearError();
    return 0;
  });
}

}  // extern "C"
