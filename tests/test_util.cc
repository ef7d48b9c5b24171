// Scratch directory for tests: $TMPDIR (or /tmp)/ggufembed-test-PID, created on first use.
#include "test_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace ggufembed::testing {

std::string TempPath(const std::string& name) {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string d = std::string(tmp && *tmp ? tmp : "/tmp") + "/ggufembed-test-" +
                    std::to_string(getpid());
    mkdir(d.c_str(), 0700);
    return d;
  }();
  return dir + "/" + name;
}

}  // namespace ggufembed::testing
