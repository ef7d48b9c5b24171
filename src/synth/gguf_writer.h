// GgufWriter: builds GGUF v3 files (metadata, tensor infos, aligned data) that llama.cpp reads.
#ifndef GGUFEMBED_SYNTH_GGUF_WRITER_H_
#define GGUFEMBED_SYNTH_GGUF_WRITER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gguf/ggml_type.h"
#include "gguf/gguf.h"
#include "ggufembed/status.h"

namespace ggufembed {

class GgufWriter {
 public:
  // Fills the `n_bytes` of a tensor's data.
  using FillFn = std::function<void(uint8_t* data, uint64_t n_bytes)>;

  // Metadata, written in the order added; setting a key again replaces its value in place
  // (as gguf-py does).
  void SetU8(const std::string& key, uint8_t v);
  void SetI8(const std::string& key, int8_t v);
  void SetU16(const std::string& key, uint16_t v);
  void SetI16(const std::string& key, int16_t v);
  void SetU32(const std::string& key, uint32_t v);
  void SetI32(const std::string& key, int32_t v);
  void SetU64(const std::string& key, uint64_t v);
  void SetI64(const std::string& key, int64_t v);
  void SetF32(const std::string& key, float v);
  void SetF64(const std::string& key, double v);
  void SetBool(const std::string& key, bool v);
  void SetString(const std::string& key, const std::string& v);
  void SetStringArray(const std::string& key, const std::vector<std::string>& v);
  void SetF32Array(const std::string& key, const std::vector<float>& v);
  void SetI32Array(const std::string& key, const std::vector<int32_t>& v);
  void SetU32Array(const std::string& key, const std::vector<uint32_t>& v);
  // Any fixed-size element type from raw little-endian bytes (count × element size).
  void SetArray(const std::string& key, GgufType element_type, uint64_t count, const void* data);

  // Copies a value read from another GGUF file (any type, arrays included).
  void SetValue(const std::string& key, const GgufValue& value);

  // Alignment of the data section and of every tensor (a power of two); also written as
  // `general.alignment` when it is not the default 32.
  void set_alignment(uint32_t alignment);

  // Adds a tensor of shape `ne` (ne[0] contiguous, at most 4 dimensions) whose bytes `fill`
  // produces when the file is written.
  void AddTensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne,
                 FillFn fill);
  // Adds a tensor from bytes already in memory.
  void AddTensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne,
                 std::vector<uint8_t> data);

  // Writes the file. Validates shapes against types (kInvalidArgument) before writing.
  Status WriteFile(const std::string& path) const;
  // The whole file in memory.
  Result<std::vector<uint8_t>> WriteToBuffer() const;

 private:
  struct Kv {
    std::string key;
    std::vector<uint8_t> value;  // u32 type followed by the payload, as in the file
  };
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    uint64_t n_bytes;
    FillFn fill;
  };
  void SetRaw(const std::string& key, std::vector<uint8_t> value);
  Status Validate() const;
  std::vector<uint8_t> Header() const;
  // Writes header then tensor data through `sink(ptr, n)`; stops at the first error.
  Status Emit(const std::function<Status(const uint8_t*, uint64_t)>& sink) const;

  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
  uint32_t alignment_ = 32;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_SYNTH_GGUF_WRITER_H_
