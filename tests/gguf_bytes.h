// Test helper: lays out GGUF bytes field by field, including invalid ones, independently of
// GgufWriter, so reader tests do not trust the code they check.
#ifndef GGUFEMBED_TESTS_GGUF_BYTES_H_
#define GGUFEMBED_TESTS_GGUF_BYTES_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/file_bytes.h"
#include "gguf/gguf.h"

namespace ggufembed::testing {

// GGUF metadata type ids and ggml type ids, spelled out as the format defines them.
enum : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kStr = 8,
  kArr = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
enum : uint32_t { kTypeF32 = 0, kTypeF16 = 1, kTypeQ8_0 = 8 };

class GgufBytes {
 public:
  template <typename T>
  GgufBytes& Put(T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    bytes_.insert(bytes_.end(), b, b + sizeof(T));
    return *this;
  }
  GgufBytes& U8(uint8_t v) { return Put(v); }
  GgufBytes& U32(uint32_t v) { return Put(v); }
  GgufBytes& U64(uint64_t v) { return Put(v); }
  GgufBytes& I64(int64_t v) { return Put(v); }
  GgufBytes& F32(float v) { return Put(v); }
  GgufBytes& Str(std::string_view s) {
    U64(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  GgufBytes& Zeros(size_t n) {
    bytes_.resize(bytes_.size() + n, 0);
    return *this;
  }
  GgufBytes& PadTo(size_t alignment) {
    bytes_.resize((bytes_.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }

  // "GGUF", version, tensor count, key/value count.
  GgufBytes& Header(uint32_t version, int64_t n_tensors, int64_t n_kv) {
    return U32(0x46554747).U32(version).I64(n_tensors).I64(n_kv);
  }
  GgufBytes& KvU32(std::string_view key, uint32_t v) { return Str(key).U32(kU32).U32(v); }
  GgufBytes& KvF32(std::string_view key, float v) { return Str(key).U32(kF32).F32(v); }
  GgufBytes& KvStr(std::string_view key, std::string_view v) { return Str(key).U32(kStr).Str(v); }
  // A tensor info with `ne` dimensions.
  GgufBytes& TensorInfo(std::string_view name, std::vector<int64_t> ne, uint32_t type,
                        uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(ne.size()));
    for (int64_t n : ne) I64(n);
    return U32(type).U64(offset);
  }

  size_t size() const { return bytes_.size(); }
  std::vector<uint8_t>& bytes() { return bytes_; }

  // Parses the bytes (or their first `size` bytes) as "test.gguf".
  Result<GgufFile> Parse(size_t size = SIZE_MAX) const {
    const size_t n = size < bytes_.size() ? size : bytes_.size();
    return GgufFile::Parse(FileBytes::Copy(bytes_.data(), n), "test.gguf");
  }

 private:
  std::vector<uint8_t> bytes_;
};

// A small valid file: 2 KV pairs and two F32 tensors ([4] and [2, 3]) with known values.
inline GgufBytes SmallValidFile() {
  GgufBytes g;
  g.Header(3, 2, 2);
  g.KvStr("general.architecture", "test");
  g.KvU32("test.count", 7);
  g.TensorInfo("a", {4}, kTypeF32, 0);
  g.TensorInfo("b", {2, 3}, kTypeF32, 32);
  g.PadTo(32);
  for (float v : {1.0f, 2.0f, 3.0f, 4.0f}) g.F32(v);
  g.PadTo(32);
  for (int i = 0; i < 6; ++i) g.F32(10.0f + i);
  g.PadTo(32);
  return g;
}

}  // namespace ggufembed::testing

#endif  // GGUFEMBED_TESTS_GGUF_BYTES_H_
