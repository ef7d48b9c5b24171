// GgufWriter: serializes metadata and tensor infos, then streams each tensor's data, aligned.
#include "synth/gguf_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "util/error.h"

namespace ggufembed {
namespace {

constexpr uint32_t kVersion = 3;

void AppendBytes(std::vector<uint8_t>& out, const void* data, size_t n) {
  const size_t at = out.size();
  out.resize(at + n);
  if (n > 0) std::memcpy(out.data() + at, data, n);
}

template <typename T>
void Append(std::vector<uint8_t>& out, T v) {
  AppendBytes(out, &v, sizeof(T));
}

void AppendString(std::vector<uint8_t>& out, const std::string& s) {
  Append<uint64_t>(out, s.size());
  AppendBytes(out, s.data(), s.size());
}

template <typename T>
std::vector<uint8_t> Scalar(GgufType type, T v) {
  std::vector<uint8_t> out;
  Append<uint32_t>(out, static_cast<uint32_t>(type));
  Append<T>(out, v);
  return out;
}

uint64_t AlignUp(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

}  // namespace

void GgufWriter::SetRaw(const std::string& key, std::vector<uint8_t> value) {
  for (Kv& kv : kvs_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  kvs_.push_back(Kv{key, std::move(value)});
}

void GgufWriter::SetU8(const std::string& key, uint8_t v) { SetRaw(key, Scalar(GgufType::kU8, v)); }
void GgufWriter::SetI8(const std::string& key, int8_t v) { SetRaw(key, Scalar(GgufType::kI8, v)); }
void GgufWriter::SetU16(const std::string& key, uint16_t v) {
  SetRaw(key, Scalar(GgufType::kU16, v));
}
void GgufWriter::SetI16(const std::string& key, int16_t v) {
  SetRaw(key, Scalar(GgufType::kI16, v));
}
void GgufWriter::SetU32(const std::string& key, uint32_t v) {
  SetRaw(key, Scalar(GgufType::kU32, v));
}
void GgufWriter::SetI32(const std::string& key, int32_t v) {
  SetRaw(key, Scalar(GgufType::kI32, v));
}
void GgufWriter::SetU64(const std::string& key, uint64_t v) {
  SetRaw(key, Scalar(GgufType::kU64, v));
}
void GgufWriter::SetI64(const std::string& key, int64_t v) {
  SetRaw(key, Scalar(GgufType::kI64, v));
}
void GgufWriter::SetF32(const std::string& key, float v) { SetRaw(key, Scalar(GgufType::kF32, v)); }
void GgufWriter::SetF64(const std::string& key, double v) {
  SetRaw(key, Scalar(GgufType::kF64, v));
}
void GgufWriter::SetBool(const std::string& key, bool v) {
  SetRaw(key, Scalar<uint8_t>(GgufType::kBool, v ? 1 : 0));
}

void GgufWriter::SetString(const std::string& key, const std::string& v) {
  std::vector<uint8_t> out;
  Append<uint32_t>(out, static_cast<uint32_t>(GgufType::kString));
  AppendString(out, v);
  SetRaw(key, std::move(out));
}

void GgufWriter::SetStringArray(const std::string& key, const std::vector<std::string>& v) {
  std::vector<uint8_t> out;
  Append<uint32_t>(out, static_cast<uint32_t>(GgufType::kArray));
  Append<uint32_t>(out, static_cast<uint32_t>(GgufType::kString));
  Append<uint64_t>(out, v.size());
  for (const std::string& s : v) AppendString(out, s);
  SetRaw(key, std::move(out));
}

void GgufWriter::SetArray(const std::string& key, GgufType element_type, uint64_t count,
                          const void* data) {
  std::vector<uint8_t> out;
  Append<uint32_t>(out, static_cast<uint32_t>(GgufType::kArray));
  Append<uint32_t>(out, static_cast<uint32_t>(element_type));
  Append<uint64_t>(out, count);
  AppendBytes(out, data, count * GgufTypeSize(element_type));
  SetRaw(key, std::move(out));
}

void GgufWriter::SetValue(const std::string& key, const GgufValue& value) {
  std::vector<uint8_t> out;
  Append<uint32_t>(out, static_cast<uint32_t>(value.type));
  if (value.is_array()) {
    Append<uint32_t>(out, static_cast<uint32_t>(value.element_type));
    Append<uint64_t>(out, value.count);
  }
  // The payload's extent: strings carry their length, other elements have fixed sizes.
  uint64_t bytes = 0;
  if (value.element_type == GgufType::kString) {
    for (uint64_t i = 0; i < value.count; ++i) {
      uint64_t len;
      std::memcpy(&len, value.data + bytes, sizeof(len));
      bytes += 8 + len;
    }
  } else {
    bytes = value.count * GgufTypeSize(value.element_type);
  }
  AppendBytes(out, value.data, bytes);
  SetRaw(key, std::move(out));
}

void GgufWriter::SetF32Array(const std::string& key, const std::vector<float>& v) {
  SetArray(key, GgufType::kF32, v.size(), v.data());
}
void GgufWriter::SetI32Array(const std::string& key, const std::vector<int32_t>& v) {
  SetArray(key, GgufType::kI32, v.size(), v.data());
}
void GgufWriter::SetU32Array(const std::string& key, const std::vector<uint32_t>& v) {
  SetArray(key, GgufType::kU32, v.size(), v.data());
}

void GgufWriter::set_alignment(uint32_t alignment) {
  alignment_ = alignment;
  if (alignment != 32) SetU32("general.alignment", alignment);
}

void GgufWriter::AddTensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne,
                           FillFn fill) {
  uint64_t n_bytes = 0;
  const GgmlTypeInfo* info = FindGgmlType(static_cast<uint32_t>(type));
  if (info != nullptr && !ne.empty() && ne[0] > 0 && ne[0] % info->block_size == 0) {
    n_bytes = RowBytes(type, static_cast<uint64_t>(ne[0]));
    for (size_t d = 1; d < ne.size(); ++d) n_bytes *= static_cast<uint64_t>(ne[d]);
  }
  tensors_.push_back(Tensor{name, type, ne, n_bytes, std::move(fill)});
}

void GgufWriter::AddTensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne,
                           std::vector<uint8_t> data) {
  auto shared = std::make_shared<std::vector<uint8_t>>(std::move(data));
  AddTensor(name, type, ne, [shared](uint8_t* dst, uint64_t n) {
    std::memcpy(dst, shared->data(), std::min<uint64_t>(n, shared->size()));
  });
}

Status GgufWriter::Validate() const {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0) {
    return Error(StatusCode::kInvalidArgument, "alignment %u is not a power of two", alignment_);
  }
  for (const Tensor& t : tensors_) {
    const GgmlTypeInfo* info = FindGgmlType(static_cast<uint32_t>(t.type));
    if (info == nullptr) {
      return Error(StatusCode::kInvalidArgument, "tensor '%s': unknown type %u", t.name.c_str(),
                   static_cast<uint32_t>(t.type));
    }
    if (t.ne.empty() || t.ne.size() > 4) {
      return Error(StatusCode::kInvalidArgument, "tensor '%s': %zu dimensions (1 to 4 allowed)",
                   t.name.c_str(), t.ne.size());
    }
    for (int64_t n : t.ne) {
      if (n <= 0) {
        return Error(StatusCode::kInvalidArgument, "tensor '%s': dimension %" PRId64,
                     t.name.c_str(), n);
      }
    }
    if (t.ne[0] % info->block_size != 0) {
      return Error(StatusCode::kInvalidArgument,
                   "tensor '%s': ne[0] = %" PRId64 " is not a multiple of the %s block size %u",
                   t.name.c_str(), t.ne[0], info->name, info->block_size);
    }
  }
  return OkStatus();
}

std::vector<uint8_t> GgufWriter::Header() const {
  std::vector<uint8_t> out;
  Append<uint32_t>(out, 0x46554747);  // "GGUF"
  Append<uint32_t>(out, kVersion);
  Append<int64_t>(out, static_cast<int64_t>(tensors_.size()));
  Append<int64_t>(out, static_cast<int64_t>(kvs_.size()));
  for (const Kv& kv : kvs_) {
    AppendString(out, kv.key);
    AppendBytes(out, kv.value.data(), kv.value.size());
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    AppendString(out, t.name);
    Append<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t n : t.ne) Append<int64_t>(out, n);
    Append<uint32_t>(out, static_cast<uint32_t>(t.type));
    Append<uint64_t>(out, offset);
    offset += AlignUp(t.n_bytes, alignment_);
  }
  out.resize(AlignUp(out.size(), alignment_), 0);
  return out;
}

Status GgufWriter::Emit(const std::function<Status(const uint8_t*, uint64_t)>& sink) const {
  GGUFEMBED_RETURN_IF_ERROR(Validate());
  const std::vector<uint8_t> header = Header();
  GGUFEMBED_RETURN_IF_ERROR(sink(header.data(), header.size()));
  std::vector<uint8_t> buffer;
  for (const Tensor& t : tensors_) {
    const uint64_t padded = AlignUp(t.n_bytes, alignment_);
    buffer.assign(padded, 0);
    t.fill(buffer.data(), t.n_bytes);
    GGUFEMBED_RETURN_IF_ERROR(sink(buffer.data(), padded));
  }
  return OkStatus();
}

Status GgufWriter::WriteFile(const std::string& path) const {
  // A regular file (or a new one) is written beside it and renamed over it at the end, so a write
  // that fails (a full disk, a file size limit) leaves the old file whole and no half model;
  // devices, FIFOs and symbolic links are written in place.
  struct stat st;
  const bool in_place = lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
  const std::string target = in_place ? path : path + ".partial-" + std::to_string(getpid());
  const int fd = in_place ? open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)
                          : open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    return Error(StatusCode::kIoError, "%s: cannot create: %s", path.c_str(), std::strerror(errno));
  }
  std::unique_ptr<FILE, int (*)(FILE*)> f(fdopen(fd, "wb"), &std::fclose);
  if (!f) {
    close(fd);
    return Error(StatusCode::kIoError, "%s: cannot create: %s", path.c_str(), std::strerror(errno));
  }
  const auto fail = [&](const char* what) {
    const int err = errno;
    f.reset();
    if (!in_place) unlink(target.c_str());
    return Error(StatusCode::kIoError, "%s: %s failed: %s", path.c_str(), what, std::strerror(err));
  };
  Status written = Emit([&](const uint8_t* p, uint64_t n) -> Status {
    return std::fwrite(p, 1, n, f.get()) == n ? OkStatus() : fail("write");
  });
  if (!written.ok()) return written;
  if (std::fclose(f.release()) != 0) {
    const int err = errno;
    if (!in_place) unlink(target.c_str());
    return Error(StatusCode::kIoError, "%s: close failed: %s", path.c_str(), std::strerror(err));
  }
  if (!in_place && std::rename(target.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(target.c_str());
    return Error(StatusCode::kIoError, "%s: cannot replace: %s", path.c_str(), std::strerror(err));
  }
  return OkStatus();
}

Result<std::vector<uint8_t>> GgufWriter::WriteToBuffer() const {
  std::vector<uint8_t> out;
  GGUFEMBED_RETURN_IF_ERROR(Emit([&](const uint8_t* p, uint64_t n) -> Status {
    AppendBytes(out, p, n);
    return OkStatus();
  }));
  return out;
}

}  // namespace ggufembed
