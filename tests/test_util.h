// Test helpers: data paths and scratch files.
#ifndef GGUFEMBED_TESTS_TEST_UTIL_H_
#define GGUFEMBED_TESTS_TEST_UTIL_H_

#include <string>
#include <vector>

namespace ggufembed::testing {

// tests/data in the source tree.
inline std::string DataPath(const std::string& relative) {
  return std::string(GGUFEMBED_TEST_DATA_DIR) + "/" + relative;
}

// A path for a scratch file, unique to this test process.
std::string TempPath(const std::string& name);

// The SIMD target names SetSimdTarget takes in this build, each a different target: natively the
// four named ones ("best" is always one of them, and every test runs on it by default), "best"
// alone in WebAssembly. SetSimdTarget answers kUnsupported for the ones this CPU lacks.
inline std::vector<std::string> SimdTargetNames() {
#if defined(__EMSCRIPTEN__)
  return {"best"};
#else
  return {"avx512vnni", "avx512", "avx2", "scalar"};
#endif
}

}  // namespace ggufembed::testing

#endif  // GGUFEMBED_TESTS_TEST_UTIL_H_
