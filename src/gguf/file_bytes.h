// FileBytes: the read-only bytes of a model file, memory-mapped natively or held in a heap buffer.
#ifndef GGUFEMBED_GGUF_FILE_BYTES_H_
#define GGUFEMBED_GGUF_FILE_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ggufembed/status.h"

namespace ggufembed {

class FileBytes {
 public:
  // Maps `path` read-only (natively: mmap, never copied; under Emscripten: read into the heap).
  static Result<std::shared_ptr<const FileBytes>> Map(const std::string& path);
  // Takes ownership of a buffer from `malloc` (the wasm bindings hand over the model this way).
  static std::shared_ptr<const FileBytes> AdoptMalloced(uint8_t* data, size_t size);
  // Refers to bytes the caller keeps valid and unchanged for the lifetime of every user.
  static std::shared_ptr<const FileBytes> Borrow(const void* data, size_t size);
  // Copies `size` bytes (tests, small files); throws std::bad_alloc, as `new` does, without memory.
  static std::shared_ptr<const FileBytes> Copy(const void* data, size_t size);

  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  enum class Kind { kMapped, kMalloced, kBorrowed };
  FileBytes(const uint8_t* data, size_t size, Kind kind) : data_(data), size_(size), kind_(kind) {}

  const uint8_t* data_;
  size_t size_;
  Kind kind_;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_GGUF_FILE_BYTES_H_
