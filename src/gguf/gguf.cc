// GGUF parsing and validation: every count, length and offset is checked before it is trusted.
#include "gguf/gguf.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <limits>

#include "gguf/reader.h"
#include "util/error.h"
#include "util/huge_pages.h"
#include "util/json.h"

namespace ggufembed {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, smallest value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims 0, type, offset
// Sane bounds, far above real models (EmbeddingGemma: 316 tensors and 39 keys; the largest GGUF
// models about 1,100 tensors and 60 keys), so that a file that is large enough to hold a count
// still cannot make the reader build an index of millions of entries.
constexpr int64_t kMaxTensors = 65536;
constexpr int64_t kMaxKvs = 65536;

// a * b, or false on u64 overflow.
bool MulOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

}  // namespace

const char* GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kU8:
      return "u8";
    case GgufType::kI8:
      return "i8";
    case GgufType::kU16:
      return "u16";
    case GgufType::kI16:
      return "i16";
    case GgufType::kU32:
      return "u32";
    case GgufType::kI32:
      return "i32";
    case GgufType::kF32:
      return "f32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "str";
    case GgufType::kArray:
      return "arr";
    case GgufType::kU64:
      return "u64";
    case GgufType::kI64:
      return "i64";
    case GgufType::kF64:
      return "f64";
  }
  return "unknown";
}

size_t GgufTypeSize(GgufType type) {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

bool IsGgufIntegerType(GgufType type) {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kU16:
    case GgufType::kI16:
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kU64:
    case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

int64_t GgufValue::AsInt() const {
  switch (element_type) {
    case GgufType::kU8:
      return Load<uint8_t>(data);
    case GgufType::kI8:
      return Load<int8_t>(data);
    case GgufType::kU16:
      return Load<uint16_t>(data);
    case GgufType::kI16:
      return Load<int16_t>(data);
    case GgufType::kU32:
      return Load<uint32_t>(data);
    case GgufType::kI32:
      return Load<int32_t>(data);
    case GgufType::kU64:
      return static_cast<int64_t>(Load<uint64_t>(data));
    case GgufType::kI64:
      return Load<int64_t>(data);
    default:
      return 0;
  }
}

uint64_t GgufValue::AsUint() const {
  if (element_type == GgufType::kU64) return Load<uint64_t>(data);
  return static_cast<uint64_t>(AsInt());
}

double GgufValue::AsDouble() const {
  if (element_type == GgufType::kF32) return Load<float>(data);
  if (element_type == GgufType::kF64) return Load<double>(data);
  return 0.0;
}

bool GgufValue::AsBool() const { return Load<uint8_t>(data) != 0; }

std::string_view GgufValue::AsString() const {
  const uint64_t len = Load<uint64_t>(data);
  return std::string_view(reinterpret_cast<const char*>(data + 8), static_cast<size_t>(len));
}

GgufValue GgufValue::Element(uint64_t i) const {
  const size_t size = GgufTypeSize(element_type);
  return GgufValue{element_type, element_type, 1, data + i * size, offset + i * size};
}

Result<GgufFile> GgufFile::Open(const std::string& path) {
  GGUFEMBED_ASSIGN_OR_RETURN(std::shared_ptr<const FileBytes> bytes, FileBytes::Map(path));
  return Parse(std::move(bytes), path);
}

Result<GgufFile> GgufFile::Parse(std::shared_ptr<const FileBytes> bytes, std::string name) {
  const uint64_t size = bytes->size();
  return ParsePrefix(std::move(bytes), size, std::move(name));
}

Result<GgufFile> GgufFile::ParsePrefix(std::shared_ptr<const FileBytes> prefix, uint64_t file_size,
                                       std::string name) {
  GgufFile file;
  file.bytes_ = std::move(prefix);
  file.name_ = std::move(name);
  file.file_size_ = std::max<uint64_t>(file_size, file.bytes_->size());
  GgufReader r(file.bytes_->data(), file.bytes_->size(), file.name_);
  int64_t n_tensors, n_kv;
  GGUFEMBED_RETURN_IF_ERROR(file.ParseHeader(r, &n_tensors, &n_kv));
  GGUFEMBED_RETURN_IF_ERROR(file.ParseKvs(r, n_kv));
  GGUFEMBED_RETURN_IF_ERROR(file.ParseAlignment(r));
  GGUFEMBED_RETURN_IF_ERROR(file.ParseTensorInfos(r, n_tensors));
  GGUFEMBED_RETURN_IF_ERROR(file.LocateTensorData(r));
  return file;
}

// Magic, version and the two counts, each count checked against the bytes that could hold it.
Status GgufFile::ParseHeader(GgufReader& r, int64_t* n_tensors_out, int64_t* n_kv_out) {
  const uint64_t size = bytes_->size();
  if (size < 4) {
    return Error(StatusCode::kInvalidFile, "%s: not a GGUF file: it is %" PRIu64 " bytes long",
                 name_.c_str(), size);
  }
  uint32_t magic;
  GGUFEMBED_RETURN_IF_ERROR(r.Read(&magic, "magic"));
  if (magic != kMagic) {
    const uint8_t* m = bytes_->data();
    auto printable = [](uint8_t c) { return c >= 32 && c < 127 ? c : '.'; };
    return Error(StatusCode::kInvalidFile,
                 "%s: not a GGUF file: offset 0: magic is '%c%c%c%c' "
                 "(0x%02x%02x%02x%02x), expected 'GGUF'",
                 name_.c_str(), printable(m[0]), printable(m[1]), printable(m[2]), printable(m[3]),
                 m[0], m[1], m[2], m[3]);
  }
  r.set_item("header");
  GGUFEMBED_RETURN_IF_ERROR(r.Read(&version_, "version"));
  if (version_ == 1) {
    return r.Fail(4,
                  "GGUF version 1 is obsolete (32-bit lengths); convert the "
                  "model again with a current llama.cpp");
  }
  if ((version_ & 0xFFFF) == 0 && version_ != 0) {
    return r.Fail(4,
                  "version field 0x%08x looks byte-swapped: big-endian GGUF "
                  "files are not supported",
                  version_);
  }
  if (version_ < 2 || version_ > 3) {
    return r.Fail(4, "unsupported GGUF version %u (supported: 2 and 3)", version_);
  }
  int64_t& n_tensors = *n_tensors_out;
  int64_t& n_kv = *n_kv_out;
  GGUFEMBED_RETURN_IF_ERROR(r.Read(&n_tensors, "tensor count"));
  GGUFEMBED_RETURN_IF_ERROR(r.Read(&n_kv, "key/value count"));
  // The counts are uint64 in the format: a huge one is named as such, not as a negative int64.
  if (n_tensors < 0 || static_cast<uint64_t>(n_tensors) > r.remaining() / kMinTensorInfoBytes) {
    return r.Fail(8, "tensor count %" PRIu64 " cannot fit in a %" PRIu64 "-byte file",
                  static_cast<uint64_t>(n_tensors), size);
  }
  if (n_kv < 0 || static_cast<uint64_t>(n_kv) > r.remaining() / kMinKvBytes) {
    return r.Fail(16, "key/value count %" PRIu64 " cannot fit in a %" PRIu64 "-byte file",
                  static_cast<uint64_t>(n_kv), size);
  }
  if (n_tensors > kMaxTensors) {
    return r.Fail(8, "tensor count %" PRId64 " is more than the limit of %" PRId64, n_tensors,
                  kMaxTensors);
  }
  if (n_kv > kMaxKvs) {
    return r.Fail(16, "key/value count %" PRId64 " is more than the limit of %" PRId64, n_kv,
                  kMaxKvs);
  }
  return OkStatus();
}

// The key/value pairs, in file order; a duplicate key is an error.
Status GgufFile::ParseKvs(GgufReader& r, int64_t n_kv) {
  kvs_.reserve(static_cast<size_t>(n_kv));
  kv_index_.reserve(static_cast<size_t>(n_kv));
  for (int64_t i = 0; i < n_kv; ++i) {
    GgufKv kv;
    kv.offset = r.pos();
    r.set_item(StrFormat("key/value %" PRId64 " of %" PRId64, i + 1, n_kv));
    GGUFEMBED_RETURN_IF_ERROR(r.ReadString(&kv.key, "key"));
    r.set_item("key " + Quote(kv.key));
    GGUFEMBED_RETURN_IF_ERROR(ReadGgufValue(r, &kv.value));
    const auto [it, inserted] = kv_index_.emplace(kv.key, kvs_.size());
    if (!inserted) {
      return r.Fail(kv.offset, "duplicate key (first defined at offset %" PRIu64 ")",
                    kvs_[it->second].offset);
    }
    kvs_.push_back(kv);
  }
  return OkStatus();
}

// general.alignment: a positive power of two, 32 when absent.
Status GgufFile::ParseAlignment(GgufReader& r) {
  alignment_ = kDefaultAlignment;
  if (const GgufKv* kv = FindKv("general.alignment")) {
    r.set_item("key 'general.alignment'");
    if (kv->value.is_array() || !IsGgufIntegerType(kv->value.type)) {
      return r.Fail(kv->offset, "has type %s, expected an integer", GgufTypeName(kv->value.type));
    }
    const int64_t a = kv->value.AsInt();
    if (a <= 0 || (a & (a - 1)) != 0) {
      return r.Fail(kv->value.offset, "alignment %" PRId64 " is not a positive power of two", a);
    }
    alignment_ = static_cast<uint64_t>(a);
  }
  return OkStatus();
}

// The tensor infos: name, dimensions (positive, no overflow), type, aligned offset.
Status GgufFile::ParseTensorInfos(GgufReader& r, int64_t n_tensors) {
  if (static_cast<uint64_t>(n_tensors) > r.remaining() / kMinTensorInfoBytes) {
    r.set_item("header");
    return r.Fail(
        8, "tensor count %" PRId64 " cannot fit in the %" PRIu64 " bytes left after the metadata",
        n_tensors, r.remaining());
  }
  tensors_.reserve(static_cast<size_t>(n_tensors));
  tensor_index_.reserve(static_cast<size_t>(n_tensors));
  for (int64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t{};
    t.info_offset = r.pos();
    r.set_item(StrFormat("tensor info %" PRId64 " of %" PRId64, i + 1, n_tensors));
    GGUFEMBED_RETURN_IF_ERROR(r.ReadString(&t.name, "tensor name"));
    r.set_item("tensor " + Quote(t.name));
    const uint64_t dims_offset = r.pos();
    GGUFEMBED_RETURN_IF_ERROR(r.Read(&t.n_dims, "n_dims"));
    if (t.n_dims > kMaxDims) {
      return r.Fail(dims_offset, "n_dims is %u, at most %u are supported", t.n_dims, kMaxDims);
    }
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < kMaxDims; ++d) t.ne[d] = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      const uint64_t ne_offset = r.pos();
      int64_t ne;
      GGUFEMBED_RETURN_IF_ERROR(r.Read(&ne, "dimension"));
      if (ne <= 0) {
        return r.Fail(ne_offset, "dimension %u is %" PRId64 ", must be positive", d, ne);
      }
      if (MulOverflows(n_elements, static_cast<uint64_t>(ne), &n_elements) ||
          n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return r.Fail(ne_offset, "the element count overflows at dimension %u (%" PRId64 ")", d,
                      ne);
      }
      t.ne[d] = ne;
    }
    const uint64_t type_offset = r.pos();
    uint32_t type_id;
    GGUFEMBED_RETURN_IF_ERROR(r.Read(&type_id, "tensor type"));
    const GgmlTypeInfo* type = FindGgmlType(type_id);
    if (type == nullptr) {
      return r.Fail(type_offset, "unknown tensor type id %u", type_id);
    }
    t.type = static_cast<GgmlType>(type_id);
    if (t.ne[0] % type->block_size != 0) {
      return r.Fail(dims_offset, "ne[0] = %" PRId64 " is not a multiple of the %s block size %u",
                    t.ne[0], type->name, type->block_size);
    }
    // n_elements fits in int64, but its bytes may not fit in 64 bits (F32: 4 per element).
    if (MulOverflows(n_elements / type->block_size, type->type_size, &t.n_bytes)) {
      return r.Fail(dims_offset, "the size of %" PRIu64 " %s elements overflows 64 bits",
                    n_elements, type->name);
    }
    const uint64_t offset_offset = r.pos();
    GGUFEMBED_RETURN_IF_ERROR(r.Read(&t.offset, "tensor data offset"));
    if (t.offset % alignment_ != 0) {
      return r.Fail(offset_offset,
                    "data offset %" PRIu64 " is not a multiple of the alignment %" PRIu64, t.offset,
                    alignment_);
    }
    const auto [it, inserted] = tensor_index_.emplace(t.name, tensors_.size());
    if (!inserted) {
      return r.Fail(t.info_offset, "duplicate tensor name (first defined at offset %" PRIu64 ")",
                    tensors_[it->second].info_offset);
    }
    tensors_.push_back(t);
  }
  return OkStatus();
}

// The data section starts at the next multiple of the alignment; every tensor lies inside the
// file.
Status GgufFile::LocateTensorData(GgufReader& r) {
  const uint64_t size = file_size_;
  const uint64_t end_of_infos = r.pos();
  data_offset_ = (end_of_infos + alignment_ - 1) / alignment_ * alignment_;
  if (data_offset_ < end_of_infos) {  // wrapped around
    r.set_item("header");
    return r.Fail(end_of_infos, "data section offset overflows");
  }
  for (GgufTensorInfo& t : tensors_) {
    r.set_item("tensor " + Quote(t.name));
    const uint64_t start = data_offset_ + t.offset;
    if (start < data_offset_) {  // the sum wrapped around: the stored offset says more
      return r.Fail(t.info_offset,
                    "data offset %" PRIu64 " past the data section at %" PRIu64
                    " overflows 64 bits",
                    t.offset, data_offset_);
    }
    if (start > size || t.n_bytes > size - start) {
      return r.Fail(t.info_offset,
                    "data [%" PRIu64 ", +%" PRIu64 ") lies outside the file (%" PRIu64
                    " bytes, data section at %" PRIu64 ")",
                    start, t.n_bytes, size, data_offset_);
    }
    t.data = start + t.n_bytes <= bytes_->size() ? bytes_->data() + start : nullptr;
  }
  // No two tensors share bytes (ggml lays them out one after another, and refuses anything else):
  // a flipped offset that stays in the file and aligned would read another tensor's weights.
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const GgufTensorInfo& t : tensors_) by_offset.push_back(&t);
  std::stable_sort(
      by_offset.begin(), by_offset.end(),
      [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& prev = *by_offset[i - 1];
    const GgufTensorInfo& t = *by_offset[i];
    if (t.offset - prev.offset < prev.n_bytes) {
      r.set_item("tensor " + Quote(t.name));
      return r.Fail(t.info_offset,
                    "data [%" PRIu64 ", +%" PRIu64 ") overlaps the data of tensor %s [%" PRIu64
                    ", +%" PRIu64 ")",
                    data_offset_ + t.offset, t.n_bytes, Quote(prev.name).c_str(),
                    data_offset_ + prev.offset, prev.n_bytes);
    }
  }
  return OkStatus();
}

const GgufKv* GgufFile::FindKv(std::string_view key) const {
  const auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second];
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Status GgufFile::TypeError(const GgufKv& kv, const char* expected) const {
  if (kv.value.is_array()) {
    return Error(StatusCode::kInvalidFile, "%s: key '%.*s' has type %s[], expected %s",
                 name_.c_str(), static_cast<int>(kv.key.size()), kv.key.data(),
                 GgufTypeName(kv.value.element_type), expected);
  }
  return Error(StatusCode::kInvalidFile, "%s: key '%.*s' has type %s, expected %s", name_.c_str(),
               static_cast<int>(kv.key.size()), kv.key.data(), GgufTypeName(kv.value.type),
               expected);
}

Result<const GgufKv*> GgufFile::Require(std::string_view key) const {
  const GgufKv* kv = FindKv(key);
  if (kv == nullptr) {
    return Error(StatusCode::kInvalidFile, "%s: required key '%.*s' is missing", name_.c_str(),
                 static_cast<int>(key.size()), key.data());
  }
  return kv;
}

Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, Require(key));
  if (kv->value.is_array() || !IsGgufIntegerType(kv->value.type)) {
    return TypeError(*kv, "an integer");
  }
  if (kv->value.type != GgufType::kU64 && kv->value.AsInt() < 0) {
    return Error(StatusCode::kInvalidFile,
                 "%s: key '%.*s' is %" PRId64 ", expected a non-negative integer", name_.c_str(),
                 static_cast<int>(key.size()), key.data(), kv->value.AsInt());
  }
  return kv->value.AsUint();
}

Result<int64_t> GgufFile::GetInt(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, Require(key));
  if (kv->value.is_array() || !IsGgufIntegerType(kv->value.type)) {
    return TypeError(*kv, "an integer");
  }
  if (kv->value.type == GgufType::kU64 &&
      kv->value.AsUint() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Error(StatusCode::kInvalidFile, "%s: key '%.*s' is %" PRIu64 ", too large",
                 name_.c_str(), static_cast<int>(key.size()), key.data(), kv->value.AsUint());
  }
  return kv->value.AsInt();
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, Require(key));
  if (kv->value.type != GgufType::kF32 && kv->value.type != GgufType::kF64) {
    return TypeError(*kv, "a float");
  }
  return kv->value.AsDouble();
}

Result<bool> GgufFile::GetBool(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, Require(key));
  if (kv->value.type != GgufType::kBool) return TypeError(*kv, "a bool");
  return kv->value.AsBool();
}

Result<std::string_view> GgufFile::GetString(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, Require(key));
  if (kv->value.type != GgufType::kString) return TypeError(*kv, "a string");
  return kv->value.AsString();
}

Result<const GgufKv*> GgufFile::RequireArray(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, Require(key));
  if (!kv->value.is_array()) return TypeError(*kv, "an array");
  return kv;
}

Result<GgufValue> GgufFile::GetArray(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, RequireArray(key));
  return kv->value;
}

Result<uint64_t> GgufFile::GetUintOr(std::string_view key, uint64_t fallback) const {
  if (FindKv(key) == nullptr) return fallback;
  return GetUint(key);
}

Result<double> GgufFile::GetFloatOr(std::string_view key, double fallback) const {
  if (FindKv(key) == nullptr) return fallback;
  return GetFloat(key);
}

Result<bool> GgufFile::GetBoolOr(std::string_view key, bool fallback) const {
  if (FindKv(key) == nullptr) return fallback;
  return GetBool(key);
}

Result<std::vector<std::string_view>> GgufFile::GetStringArray(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, RequireArray(key));
  if (kv->value.element_type != GgufType::kString) return TypeError(*kv, "a string array");
  std::vector<std::string_view> out;
  ReserveHugePages(out, static_cast<size_t>(kv->value.count));
  const uint8_t* p = kv->value.data;  // lengths were validated by Parse
  for (uint64_t i = 0; i < kv->value.count; ++i) {
    const uint64_t len = Load<uint64_t>(p);
    out.emplace_back(reinterpret_cast<const char*>(p + 8), static_cast<size_t>(len));
    p += 8 + len;
  }
  return out;
}

Result<std::vector<float>> GgufFile::GetFloatArray(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, RequireArray(key));
  const GgufType t = kv->value.element_type;
  if (t != GgufType::kF32 && t != GgufType::kF64 && !IsGgufIntegerType(t)) {
    return TypeError(*kv, "a numeric array");
  }
  std::vector<float> out(static_cast<size_t>(kv->value.count));
  for (uint64_t i = 0; i < kv->value.count; ++i) {
    const GgufValue e = kv->value.Element(i);
    out[i] =
        IsGgufIntegerType(t) ? static_cast<float>(e.AsInt()) : static_cast<float>(e.AsDouble());
  }
  return out;
}

Result<std::vector<int32_t>> GgufFile::GetInt32Array(std::string_view key) const {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufKv* kv, RequireArray(key));
  if (!IsGgufIntegerType(kv->value.element_type)) return TypeError(*kv, "an integer array");
  std::vector<int32_t> out(static_cast<size_t>(kv->value.count));
  for (uint64_t i = 0; i < kv->value.count; ++i) {
    const GgufValue e = kv->value.Element(i);
    const bool big_u64 = e.type == GgufType::kU64 &&
                         e.AsUint() > static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
    const int64_t v = e.AsInt();
    if (big_u64 || v < std::numeric_limits<int32_t>::min() ||
        v > std::numeric_limits<int32_t>::max()) {
      return Error(StatusCode::kInvalidFile,
                   "%s: key '%.*s' element %" PRIu64 " does not fit in 32 bits (offset %" PRIu64
                   ")",
                   name_.c_str(), static_cast<int>(key.size()), key.data(), i, e.offset);
    }
    out[i] = static_cast<int32_t>(v);
  }
  return out;
}

Status DequantizeTensorRow(const GgufTensorInfo& tensor, int64_t row, float* out) {
  if (row < 0 || row >= tensor.n_rows()) {
    return Error(StatusCode::kInvalidArgument,
                 "tensor %s has %" PRId64 " rows; row %" PRId64 " does not exist",
                 Quote(tensor.name).c_str(), tensor.n_rows(), row);
  }
  return DequantizeRow(tensor.type, tensor.data + static_cast<uint64_t>(row) * tensor.row_bytes(),
                       out, tensor.ne[0]);
}

std::string Quote(std::string_view s) {
  // At most 64 bytes, cut before a UTF-8 continuation byte (a character cut in two would show
  // the whole string as invalid UTF-8).
  size_t cut = std::min<size_t>(s.size(), 64);
  while (cut < s.size() && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  const std::string shown = PrintableText(s.substr(0, cut));
  const char* more = s.size() > cut ? "..." : "";
  // A JSON literal carries its own double quotes; a plain text cannot start with one.
  return shown[0] == '"' ? shown + more : "'" + shown + more + "'";
}

std::string ShapeText(const int64_t* ne, int n_dims) {
  std::string s = "[";
  for (int i = 0; i < n_dims; ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace ggufembed
