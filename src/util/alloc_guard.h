// GuardAllocation: the standard library's failed allocations as kOutOfMemory errors, at the
// entry points of the API — a container that cannot grow throws std::bad_alloc, which would
// otherwise leave the library and abort the host (status.h promises neither exceptions nor aborts).
#ifndef GGUFEMBED_UTIL_ALLOC_GUARD_H_
#define GGUFEMBED_UTIL_ALLOC_GUARD_H_

#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ggufembed/status.h"
#include "util/error.h"

namespace ggufembed {

// kOutOfMemory "out of memory while WHAT", or, if even that message cannot get memory, a message
// short enough to need none.
inline Status OutOfMemoryStatus(const char* what, const char* detail = "") noexcept {
#if defined(__cpp_exceptions)
  try {
    return Error(StatusCode::kOutOfMemory, "out of memory while %s%s", what, detail);
  } catch (...) {
    return Status(StatusCode::kOutOfMemory, "out of memory");  // within std::string's own buffer
  }
#else
  return Error(StatusCode::kOutOfMemory, "out of memory while %s%s", what, detail);
#endif
}

// A copy of `status` that cannot throw: OutOfMemoryStatus's short one when the message cannot be
// copied (on a worker thread, where no exception may escape).
inline Status CopyStatus(const Status& status) noexcept {
#if defined(__cpp_exceptions)
  try {
    return status;
  } catch (...) {
    return Status(StatusCode::kOutOfMemory, "out of memory");
  }
#else
  return status;
#endif
}

// Returns fn(), or on_failure(status) when fn throws std::bad_alloc or std::length_error (a size
// past what a container can hold), with `status` kOutOfMemory "out of memory while WHAT". The
// WebAssembly builds have exceptions too (CMakeLists.txt); a build without them gets fn(), where
// a failed allocation aborts.
template <class Fn, class OnFailure>
auto CatchAllocationFailure(const char* what, Fn&& fn, OnFailure&& on_failure) -> decltype(fn()) {
#if defined(__cpp_exceptions)
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return on_failure(OutOfMemoryStatus(what));
  } catch (const std::length_error&) {
    return on_failure(OutOfMemoryStatus(what, " (a size past what a container can hold)"));
  }
#else
  (void)what;
  (void)on_failure;
  return fn();
#endif
}

// fn() (a Status or a Result), or the kOutOfMemory error.
template <class Fn>
auto GuardAllocation(const char* what, Fn&& fn) -> decltype(fn()) {
  return CatchAllocationFailure(what, fn, [](Status status) { return status; });
}

// The same, with the kOutOfMemory error's message after "NAME: " (a file, a text's index; none
// when empty) when memory allows that too.
template <class Fn>
auto GuardAllocation(const char* what, std::string_view name, Fn&& fn) -> decltype(fn()) {
  return CatchAllocationFailure(what, fn, [&](const Status& status) {
    if (name.empty()) return CopyStatus(status);
    return CatchAllocationFailure(
        "naming an error",
        [&] { return Status(status.code(), std::string(name) + ": " + status.message()); },
        [&](const Status&) { return CopyStatus(status); });
  });
}

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_ALLOC_GUARD_H_
