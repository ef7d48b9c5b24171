// ProfileScope: adds the time a block takes to an OpProfile (ggufembed bench prints it).
#ifndef GGUFEMBED_UTIL_PROFILE_H_
#define GGUFEMBED_UTIL_PROFILE_H_

#include <chrono>

#include "ggufembed/types.h"

namespace ggufembed {

// Adds the time from construction to destruction to `profile` (when not null) under `op`.
class ProfileScope {
 public:
  ProfileScope(OpProfile* profile, Op op) : profile_(profile), op_(op) {
    if (profile_) start_ = std::chrono::steady_clock::now();
  }
  ~ProfileScope() {
    if (profile_) {
      profile_->seconds[static_cast<int>(op_)] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  OpProfile* profile_;
  Op op_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_PROFILE_H_
