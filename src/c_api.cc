// The C API: thin wrappers that turn Status errors into a thread-local last error.
#include <cstdlib>
#include <string>

#include "ggufembed_c.h"
#include "gguf.h"
#include "gguf_info.h"
#include "status.h"

using ggufembed::GgufFile;
using ggufembed::Status;
using ggufembed::StatusCode;

struct ggufembed_gguf {
  GgufFile file;
  std::string json;  // storage for ggufembed_gguf_info_json
};

namespace {

thread_local int g_error_code = GGUFEMBED_OK;
thread_local std::string g_error_message;

void SetError(const Status& status) {
  g_error_code = static_cast<int>(status.code());
  g_error_message = status.message();
}

void ClearError() {
  g_error_code = GGUFEMBED_OK;
  g_error_message.clear();
}

ggufembed_gguf* Wrap(ggufembed::Result<GgufFile> file) {
  if (!file.ok()) {
    SetError(file.status());
    return nullptr;
  }
  ClearError();
  return new ggufembed_gguf{std::move(file).value(), std::string()};
}

}  // namespace

extern "C" {

int ggufembed_last_error_code(void) { return g_error_code; }
const char* ggufembed_last_error_message(void) { return g_error_message.c_str(); }

void* ggufembed_alloc(size_t size) { return std::malloc(size > 0 ? size : 1); }
void ggufembed_free(void* ptr) { std::free(ptr); }

ggufembed_gguf* ggufembed_gguf_open_file(const char* path) {
  if (path == nullptr) {
    SetError(Status(StatusCode::kInvalidArgument, "path is NULL"));
    return nullptr;
  }
  return Wrap(GgufFile::Open(path));
}

ggufembed_gguf* ggufembed_gguf_open_buffer(uint8_t* data, size_t size, const char* name) {
  if (data == nullptr) {
    SetError(Status(StatusCode::kInvalidArgument, "buffer is NULL"));
    return nullptr;
  }
  return Wrap(GgufFile::Parse(ggufembed::FileBytes::AdoptMalloced(data, size),
                              name != nullptr ? name : "<buffer>"));
}

void ggufembed_gguf_close(ggufembed_gguf* gguf) { delete gguf; }

const char* ggufembed_gguf_info_json(ggufembed_gguf* gguf, uint32_t max_array_items) {
  if (gguf == nullptr) {
    SetError(Status(StatusCode::kInvalidArgument, "GGUF handle is NULL"));
    return nullptr;
  }
  ggufembed::InfoOptions options;
  options.max_array_items = max_array_items;
  gguf->json = ggufembed::FormatInfoJson(gguf->file, options);
  ClearError();
  return gguf->json.c_str();
}

int32_t ggufembed_gguf_dequantize_row(ggufembed_gguf* gguf, const char* name, int32_t row,
                                      float* out, int32_t capacity) {
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
    SetError(ggufembed::Error(StatusCode::kInvalidArgument,
                              "output holds %lld floats, the row has %lld",
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
}

}  // extern "C"
