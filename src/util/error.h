// Building and passing on errors inside the engine: printf-style messages, error Statuses, and
// the early-return macros. Not part of the API (include/ggufembed/status.h is).
#ifndef GGUFEMBED_UTIL_ERROR_H_
#define GGUFEMBED_UTIL_ERROR_H_

#include <cstdarg>
#include <string>
#include <utility>

#include "ggufembed/status.h"

namespace ggufembed {

// printf-style formatting into a std::string.
std::string StrFormat(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string StrFormatV(const char* format, va_list args);

// Builds an error Status with a printf-style message.
Status Error(StatusCode code, const char* format, ...) __attribute__((format(printf, 2, 3)));

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

#endif  // GGUFEMBED_UTIL_ERROR_H_
