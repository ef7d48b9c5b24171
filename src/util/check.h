// GGUFEMBED_DCHECK: states an invariant that other code established (a size computed elsewhere,
// a type checked at load). Checked in debug and sanitizer builds, where a violation is a bug in
// the engine and stops the process with the condition and place; compiled out otherwise. Never
// for conditions that input can cause: those are Status errors.
#ifndef GGUFEMBED_UTIL_CHECK_H_
#define GGUFEMBED_UTIL_CHECK_H_

#include <cstdio>
#include <cstdlib>

#if !defined(NDEBUG) || defined(GGUFEMBED_DCHECKS)
#define GGUFEMBED_DCHECK_IS_ON 1
#else
#define GGUFEMBED_DCHECK_IS_ON 0
#endif

namespace ggufembed::internal {
[[noreturn]] inline void DcheckFailed(const char* condition, const char* detail, const char* file,
                                      int line) {
  std::fprintf(stderr, "%s:%d: internal invariant failed: %s%s%s\n", file, line, condition,
               detail[0] ? ": " : "", detail);
  std::abort();
}
}  // namespace ggufembed::internal

#if GGUFEMBED_DCHECK_IS_ON
#define GGUFEMBED_DCHECK(condition)                                                            \
  do {                                                                                         \
    if (!(condition)) ::ggufembed::internal::DcheckFailed(#condition, "", __FILE__, __LINE__); \
  } while (0)
// For a Status that cannot be an error here (e.g. dequantizing a type checked at load).
#define GGUFEMBED_DCHECK_OK(expr)                                                            \
  do {                                                                                       \
    const ::ggufembed::Status _dcheck_status = (expr);                                       \
    if (!_dcheck_status.ok()) {                                                              \
      ::ggufembed::internal::DcheckFailed(#expr, _dcheck_status.message().c_str(), __FILE__, \
                                          __LINE__);                                         \
    }                                                                                        \
  } while (0)
#else
#define GGUFEMBED_DCHECK(condition) \
  do {                              \
  } while (0)
#define GGUFEMBED_DCHECK_OK(expr) static_cast<void>(expr)
#endif

#endif  // GGUFEMBED_UTIL_CHECK_H_
