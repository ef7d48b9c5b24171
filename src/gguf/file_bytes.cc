// FileBytes: mmap on POSIX hosts, a malloc'd copy under Emscripten (where mmap would copy anyway).
#include "gguf/file_bytes.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "util/error.h"

#if !defined(__EMSCRIPTEN__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace ggufembed {

FileBytes::~FileBytes() {
  if (kind_ == Kind::kBorrowed) return;
  if (kind_ == Kind::kMalloced) {
    std::free(const_cast<uint8_t*>(data_));
#if !defined(__EMSCRIPTEN__)
  } else if (size_ > 0) {
    munmap(const_cast<uint8_t*>(data_), size_);
#endif
  }
}

std::shared_ptr<const FileBytes> FileBytes::AdoptMalloced(uint8_t* data, size_t size) {
  // Freed if the FileBytes cannot be made (shared_ptr deletes what it was given when its own
  // allocation fails).
  std::unique_ptr<uint8_t, decltype(&std::free)> owned(data, &std::free);
  auto* bytes = new FileBytes(data, size, Kind::kMalloced);
  owned.release();
  return std::shared_ptr<const FileBytes>(bytes);
}

std::shared_ptr<const FileBytes> FileBytes::Borrow(const void* data, size_t size) {
  return std::shared_ptr<const FileBytes>(
      new FileBytes(static_cast<const uint8_t*>(data), size, Kind::kBorrowed));
}

std::shared_ptr<const FileBytes> FileBytes::Copy(const void* data, size_t size) {
  uint8_t* copy = static_cast<uint8_t*>(std::malloc(size > 0 ? size : 1));
  if (copy == nullptr) throw std::bad_alloc();
  if (size > 0) std::memcpy(copy, data, size);
  return AdoptMalloced(copy, size);
}

#if !defined(__EMSCRIPTEN__)

Result<std::shared_ptr<const FileBytes>> FileBytes::Map(const std::string& path) {
  // O_NONBLOCK: opening a FIFO without a writer would otherwise wait for one, forever; on a
  // regular file it changes nothing.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return Error(StatusCode::kIoError, "%s: cannot open: %s", path.c_str(), std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return Error(StatusCode::kIoError, "%s: cannot stat: %s", path.c_str(), std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a file";
    return Error(StatusCode::kIoError, "%s: not a regular file (%s)", path.c_str(), kind);
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    close(fd);
    return std::shared_ptr<const FileBytes>(new FileBytes(nullptr, 0, Kind::kMapped));
  }
  void* addr = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  close(fd);  // the mapping keeps the file open
  if (addr == MAP_FAILED) {
    // ENOMEM: no room in the address space (a ulimit -v, a 32-bit process), not a file problem.
    return Error(err == ENOMEM ? StatusCode::kOutOfMemory : StatusCode::kIoError,
                 "%s: cannot mmap %zu bytes: %s", path.c_str(), size, std::strerror(err));
  }
  return std::shared_ptr<const FileBytes>(
      new FileBytes(static_cast<const uint8_t*>(addr), size, Kind::kMapped));
}

#else  // __EMSCRIPTEN__

Result<std::shared_ptr<const FileBytes>> FileBytes::Map(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Error(StatusCode::kIoError, "%s: cannot open: %s", path.c_str(), std::strerror(errno));
  }
  // 64-bit offsets: `long` is 32-bit on wasm32.
  if (fseeko(f, 0, SEEK_END) != 0) {
    std::fclose(f);
    return Error(StatusCode::kIoError, "%s: cannot seek", path.c_str());
  }
  const off_t end = ftello(f);
  fseeko(f, 0, SEEK_SET);
  if (end < 0 || static_cast<uint64_t>(end) > SIZE_MAX / 2) {
    std::fclose(f);
    return Error(StatusCode::kOutOfMemory, "%s: %lld bytes do not fit in memory", path.c_str(),
                 static_cast<long long>(end));
  }
  const size_t size = static_cast<size_t>(end);
  uint8_t* data = static_cast<uint8_t*>(std::malloc(size > 0 ? size : 1));
  if (data == nullptr) {
    std::fclose(f);
    return Error(StatusCode::kOutOfMemory, "%s: cannot allocate %zu bytes", path.c_str(), size);
  }
  const size_t got = std::fread(data, 1, size, f);
  std::fclose(f);
  if (got != size) {
    std::free(data);
    return Error(StatusCode::kIoError, "%s: read %zu of %zu bytes", path.c_str(), got, size);
  }
  return AdoptMalloced(data, size);
}

#endif

}  // namespace ggufembed
