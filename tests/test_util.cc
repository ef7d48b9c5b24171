// Scratch directory for tests: a fresh $TMPDIR (or /tmp)/ggufembed-test-XXXXXX per process.
#include "test_util.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace ggufembed::testing {

std::string TempPath(const std::string& name) {
  // mkdtemp, not the process id: under Emscripten getpid() is the same in every process, and
  // tests run in parallel.
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ggufembed-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return std::string(tmp && *tmp ? tmp : "/tmp");
    // Removed when the test process ends (some tests write 300 MB models here).
    static const std::string created = pattern;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(created, ignored);
    });
    return pattern;
  }();
  return dir + "/" + name;
}

}  // namespace ggufembed::testing
