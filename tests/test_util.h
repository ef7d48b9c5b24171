// Test helpers: data paths and scratch files.
#ifndef GGUFEMBED_TESTS_TEST_UTIL_H_
#define GGUFEMBED_TESTS_TEST_UTIL_H_

#include <string>

namespace ggufembed::testing {

// tests/data in the source tree.
inline std::string DataPath(const std::string& relative) {
  return std::string(GGUFEMBED_TEST_DATA_DIR) + "/" + relative;
}

// A path for a scratch file, unique to this test process.
std::string TempPath(const std::string& name);

}  // namespace ggufembed::testing

#endif  // GGUFEMBED_TESTS_TEST_UTIL_H_
