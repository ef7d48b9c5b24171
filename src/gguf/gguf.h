// GgufFile: a bounds-checked, zero-copy GGUF v2/v3 reader with typed metadata accessors.
//
// Layout (little-endian): "GGUF", u32 version, i64 n_tensors, i64 n_kv, n_kv key/value pairs,
// n_tensors tensor infos, zero padding to `general.alignment` (default 32), then the tensor data.
// Every length and count is checked against the bytes that remain before it is used, so a corrupt
// or truncated file yields an error naming the file, the item and the byte offset, never a crash
// or a huge allocation. Keys, strings and tensor data are views into the file's bytes.
#ifndef GGUFEMBED_GGUF_GGUF_H_
#define GGUFEMBED_GGUF_GGUF_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/file_bytes.h"
#include "gguf/ggml_type.h"
#include "ggufembed/status.h"

namespace ggufembed {

class GgufReader;

// Metadata value types (gguf.h `enum gguf_type`).
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

// "u8", "i32", "f32", "bool", "str", "arr", ... as gguf-dump prints them.
const char* GgufTypeName(GgufType type);
// Bytes of one value of a fixed-size type; 0 for strings and arrays.
size_t GgufTypeSize(GgufType type);
bool IsGgufIntegerType(GgufType type);

// One metadata value: a view into the file. For arrays `count` elements of `element_type` start at
// `data`; for scalars `count` is 1 and `element_type == type`.
struct GgufValue {
  GgufType type;
  GgufType element_type;
  uint64_t count;
  const uint8_t* data;
  uint64_t offset;  // file offset of `data`

  bool is_array() const { return type == GgufType::kArray; }
  // Scalar readers; the caller has checked the type. Integers of any width widen.
  int64_t AsInt() const;    // valid for every integer type except u64 > INT64_MAX
  uint64_t AsUint() const;  // valid for non-negative integers
  double AsDouble() const;  // f32 or f64
  bool AsBool() const;
  std::string_view AsString() const;
  // Element `i` of an array of fixed-size elements, as its own scalar value.
  GgufValue Element(uint64_t i) const;
};

struct GgufKv {
  std::string_view key;
  GgufValue value;
  uint64_t offset;  // file offset of the key
};

struct GgufTensorInfo {
  std::string_view name;
  GgmlType type;
  uint32_t n_dims;
  int64_t ne[4];         // ne[0] is contiguous; unused dimensions are 1
  uint64_t offset;       // relative to the data section
  uint64_t n_bytes;      // without the alignment padding
  uint64_t info_offset;  // file offset of this tensor info
  const uint8_t* data;   // first byte of the tensor data in the file

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  // Number of rows of ne[0] elements.
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  uint64_t row_bytes() const { return n_bytes / static_cast<uint64_t>(n_rows()); }
};

// A shape as messages and `info` print it: "[768, 262144]" for the first `n_dims` of `ne`.
std::string ShapeText(const int64_t* ne, int n_dims);

// At most 64 bytes of a string from a file, quoted for a message: 'as it is', or as a JSON string
// literal (PrintableText) when printing it raw would hide or garble something — a NUL would cut
// the message short, a newline break its line.
std::string Quote(std::string_view s);

class GgufFile {
 public:
  // Maps and parses the file at `path`.
  static Result<GgufFile> Open(const std::string& path);
  // Parses `bytes`; `name` is how errors refer to the file.
  static Result<GgufFile> Parse(std::shared_ptr<const FileBytes> bytes, std::string name);
  // Parses the header from the first bytes (`prefix`) of a file of `file_size` bytes, for
  // bindings that read a file in pieces and want to know where a tensor lies before reading
  // on; tensors whose data is not in the prefix have `data == nullptr`. An error also when the
  // prefix ends inside the header.
  static Result<GgufFile> ParsePrefix(std::shared_ptr<const FileBytes> prefix, uint64_t file_size,
                                      std::string name);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return file_size_; }
  const FileBytes& bytes() const { return *bytes_; }
  // For objects that keep views into the file (tokenizer pieces, weights) alive on their own.
  const std::shared_ptr<const FileBytes>& shared_bytes() const { return bytes_; }

  const std::vector<GgufKv>& kvs() const { return kvs_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  // nullptr when absent.
  const GgufKv* FindKv(std::string_view key) const;
  const GgufTensorInfo* FindTensor(std::string_view name) const;

  // Typed accessors. A missing key, a value of the wrong type or out of range is an error like
  // "model.gguf: key 'gemma-embedding.block_count' has type f32, expected an integer".
  // Integer getters accept any integer width and signedness whose value fits.
  Result<uint64_t> GetUint(std::string_view key) const;
  Result<int64_t> GetInt(std::string_view key) const;
  Result<double> GetFloat(std::string_view key) const;  // f32 or f64
  Result<bool> GetBool(std::string_view key) const;
  Result<std::string_view> GetString(std::string_view key) const;
  Result<GgufValue> GetArray(std::string_view key) const;

  // The same, returning `fallback` when the key is absent (a wrong type is still an error).
  Result<uint64_t> GetUintOr(std::string_view key, uint64_t fallback) const;
  Result<double> GetFloatOr(std::string_view key, double fallback) const;
  Result<bool> GetBoolOr(std::string_view key, bool fallback) const;

  // Whole arrays, decoded. Strings are views into the file.
  Result<std::vector<std::string_view>> GetStringArray(std::string_view key) const;
  Result<std::vector<float>> GetFloatArray(std::string_view key) const;    // f32/f64/integers
  Result<std::vector<int32_t>> GetInt32Array(std::string_view key) const;  // integers that fit

 private:
  GgufFile() = default;
  // The steps of Parse, in file order.
  Status ParseHeader(GgufReader& r, int64_t* n_tensors, int64_t* n_kv);
  Status ParseKvs(GgufReader& r, int64_t n_kv);
  Status ParseAlignment(GgufReader& r);
  Status ParseTensorInfos(GgufReader& r, int64_t n_tensors);
  Status LocateTensorData(GgufReader& r);
  Status TypeError(const GgufKv& kv, const char* expected) const;
  Result<const GgufKv*> Require(std::string_view key) const;
  Result<const GgufKv*> RequireArray(std::string_view key) const;

  std::shared_ptr<const FileBytes> bytes_;
  std::string name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  uint64_t file_size_ = 0;  // bytes_->size() unless parsed from a prefix
  std::vector<GgufKv> kvs_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

// Dequantizes row `row` (`ne[0]` elements) of `tensor` into `out`; kInvalidArgument when the row is
// out of range, kUnsupported for types without a dequantizer.
Status DequantizeTensorRow(const GgufTensorInfo& tensor, int64_t row, float* out);

}  // namespace ggufembed

#endif  // GGUFEMBED_GGUF_GGUF_H_
