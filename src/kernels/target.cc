// Reports the Highway target chosen by dynamic dispatch (compiled once per target).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/target.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {

const char* TargetNameImpl() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "kernels/target.h"

namespace ggufembed {

HWY_EXPORT(TargetNameImpl);

const char* SimdTargetName() { return HWY_DYNAMIC_DISPATCH(TargetNameImpl)(); }

std::string SupportedSimdTargets() {
  std::string out;
  // HWY_SUPPORTED_TARGETS avoids hwy::SupportedTargets(), which has no wasm implementation
  // without libhwy.
  for (int64_t bits = HWY_TARGETS & HWY_SUPPORTED_TARGETS; bits != 0; bits &= bits - 1) {
    if (!out.empty()) out += ' ';
    out += hwy::TargetName(bits & -bits);
  }
  return out;
}

}  // namespace ggufembed
#endif  // HWY_ONCE
