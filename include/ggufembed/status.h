// Status and Result<T>: how every fallible engine function reports an error (no exceptions, no
// aborts).
#ifndef GGUFEMBED_STATUS_H_
#define GGUFEMBED_STATUS_H_

#include <cstdarg>
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

// printf-style formatting into a std::string.
std::string StrFormat(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string StrFormatV(const char* format, va_list args);

// Builds an error Status with a printf-style message.
Status Error(StatusCode code, const char* format, ...) __attribute__((format(printf, 2, 3)));

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

// Returns early from the enclosing function when `expr` (a Status) is an error.
#define GGUFEMBED_RETURN_IF_ERROR(expr)   \
  do {                                    \
    ::ggufembed::Status _status = (expr); \
    if (!_status.ok()) return _status;    \
  } while (0)

#define GGUFEMBED_CONCAT_INNER(a, b) a##b
#define GGUFEMBED_CONCAT(a, b) GGUFEMBED_CONCAT_INNER(a, b)

// `GGUFEMBED_ASSIGN_OR_RETURN(auto x, F());` assigns the value of a Result or returns its error.
#define GGUFEMBED_ASSIGN_OR_RETURN(lhs, expr) \
  GGUFEMBED_ASSIGN_OR_RETURN_IMPL(GGUFEMBED_CONCAT(_result_, __LINE__), lhs, expr)
#define GGUFEMBED_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return std::move(tmp).status();        \
  lhs = std::move(tmp).value()

#endif  // GGUFEMBED_STATUS_H_
