// Status and Result<T>: how every fallible engine function reports an error (no exceptions, no
// aborts).
#ifndef GGUFEMBED_STATUS_H_
#define GGUFEMBED_STATUS_H_

#include <string>
#include <utility>
#include <variant>

namespace ggufembed {

// Error classes, stable across the C and JS APIs (their numeric values are part of the C API).
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // a wrong option or argument from the caller
  kInvalidFile = 2,      // a malformed or truncated GGUF file
  kUnsupported = 3,      // a well-formed file this engine cannot run (type, architecture)
  kIoError = 4,          // the file system said no
  kInputTooLong = 5,     // more tokens than the model's context
  kOutOfMemory = 6,
  kInternal = 7,
  kNotFinite = 8,  // NaN or infinity in the model's weights or computation (a broken file,
                   // f16 activations that overflowed)
};

// Returns "invalid_argument", "invalid_file", ... (the names the JS package uses).
const char* StatusCodeName(StatusCode code);

// An error code and a message that names the file, item and offset or limit involved.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }

// Either a value or an error Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  // The error; an OK status when `ok()`. From a temporary the error is moved, not copied.
  Status status() const& { return ok() ? Status() : std::get<Status>(state_); }
  Status status() && { return ok() ? Status() : std::get<Status>(std::move(state_)); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_STATUS_H_
