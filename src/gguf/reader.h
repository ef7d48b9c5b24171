// GgufReader: reads a GGUF header sequentially, turning every problem into a Status that names
// the file, the offset and the item being read; and the reading of one metadata value.
#ifndef GGUFEMBED_GGUF_READER_H_
#define GGUFEMBED_GGUF_READER_H_

#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "gguf/gguf.h"
#include "ggufembed/status.h"
#include "util/error.h"

namespace ggufembed {

template <typename T>
inline T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Reads the header sequentially, turning every problem into a Status that names the file, the
// offset and the item being read (`item_`, e.g. "key 'general.name'" or "tensor 3 'x.weight'").
class GgufReader {
 public:
  GgufReader(const uint8_t* data, uint64_t size, const std::string& file)
      : data_(data), size_(size), file_(file) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  const uint8_t* at(uint64_t offset) const { return data_ + offset; }
  void set_item(std::string item) { item_ = std::move(item); }

  // An invalid-file error "FILE: offset N: ITEM: MESSAGE".
  Status Fail(uint64_t offset, const char* format, ...) __attribute__((format(printf, 3, 4))) {
    va_list args;
    va_start(args, format);
    std::string message = StrFormatV(format, args);
    va_end(args);
    return Error(StatusCode::kInvalidFile, "%s: offset %" PRIu64 ": %s%s%s", file_.c_str(), offset,
                 item_.c_str(), item_.empty() ? "" : ": ", message.c_str());
  }

  // Fails unless `n` more bytes exist; `what` says what they are.
  Status Need(uint64_t n, const char* what) {
    if (n > remaining()) {
      return Fail(pos_,
                  "%s needs %" PRIu64 " bytes but the file ends %" PRIu64
                  " bytes later (file size %" PRIu64 ")",
                  what, n, remaining(), size_);
    }
    return OkStatus();
  }

  template <typename T>
  Status Read(T* out, const char* what) {
    GGUFEMBED_RETURN_IF_ERROR(Need(sizeof(T), what));
    *out = Load<T>(data_ + pos_);
    pos_ += sizeof(T);
    return OkStatus();
  }

  // A u64 length then that many bytes.
  Status ReadString(std::string_view* out, const char* what) {
    const uint64_t start = pos_;
    uint64_t len;
    GGUFEMBED_RETURN_IF_ERROR(Read(&len, what));
    if (len > remaining()) {
      const uint64_t left = remaining();
      pos_ = start;
      return Fail(start,
                  "%s length %" PRIu64 " runs past the end of the file (%" PRIu64 " bytes left)",
                  what, len, left);
    }
    *out = std::string_view(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += len;
    return OkStatus();
  }

  Status Skip(uint64_t n, const char* what) {
    GGUFEMBED_RETURN_IF_ERROR(Need(n, what));
    pos_ += n;
    return OkStatus();
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& file_;
  std::string item_;
};

// Reads one metadata value (type, then payload; arrays checked against the bytes left) into `v`,
// whose views point into the file.
Status ReadGgufValue(GgufReader& r, GgufValue* v);

}  // namespace ggufembed

#endif  // GGUFEMBED_GGUF_READER_H_
