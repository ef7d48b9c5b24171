// The SIMD target of the kernels: which one runtime dispatch picks, and forcing one
// (GGUFEMBED_TARGET, bench --target, tests) through Highway's DisableTargets. Compiled once per
// target; natively AVX-512 VNNI, AVX-512, AVX2 and scalar, in WebAssembly SIMD128 alone.
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
#include <atomic>

#include "ggufembed/simd.h"
#include "util/error.h"

namespace ggufembed {

HWY_EXPORT(TargetNameImpl);

namespace {
// The targets of this build the CPU has, as SetSimdTarget found them before forcing one (0 until
// then). hwy::SupportedTargets() leaves out the targets a forced one disabled, and also sets
// dispatch up for all of the CPU's until the next DisableTargets: called after a forced target,
// it would undo the forcing.
std::atomic<int64_t> cpu_targets{0};
}  // namespace

const char* SimdTargetName() { return HWY_DYNAMIC_DISPATCH(TargetNameImpl)(); }

std::string SupportedSimdTargets() {
  std::string out;
  int64_t bits = cpu_targets.load(std::memory_order_relaxed);
  // HWY_SUPPORTED_TARGETS avoids hwy::SupportedTargets(), which has no wasm implementation
  // without libhwy. Before any forcing it also sets dispatch up as dispatch itself would.
  if (bits == 0) bits = HWY_TARGETS & HWY_SUPPORTED_TARGETS;
  for (; bits != 0; bits &= bits - 1) {
    if (!out.empty()) out += ' ';
    out += hwy::TargetName(bits & -bits);
  }
  return out;
}

Status SetSimdTarget(std::string_view name) {
  int64_t wanted;
  if (name == "best") {
    wanted = 0;
  } else if (name == "avx512vnni") {
    wanted = HWY_AVX3_DL;
  } else if (name == "avx512") {
    wanted = HWY_AVX3;
  } else if (name == "avx2") {
    wanted = HWY_AVX2;
  } else if (name == "scalar") {
    wanted = HWY_SCALAR | HWY_EMU128;
  } else {
    return Error(StatusCode::kInvalidArgument,
                 "SIMD target '%.*s' is not one of best, avx512vnni, avx512, avx2, scalar",
                 static_cast<int>(name.size()), name.data());
  }
#if defined(__EMSCRIPTEN__)
  if (wanted != 0) {
    return Error(StatusCode::kUnsupported,
                 "SIMD target '%.*s' does not exist in WebAssembly (only best: SIMD128)",
                 static_cast<int>(name.size()), name.data());
  }
  return OkStatus();
#else
  hwy::DisableTargets(0);  // back to what the CPU supports
  const int64_t cpu = hwy::SupportedTargets() & HWY_TARGETS;
  cpu_targets.store(cpu, std::memory_order_relaxed);
  if (wanted != 0 && (cpu & wanted) == 0) {
    return Error(StatusCode::kUnsupported,
                 "SIMD target '%.*s' is not available on this CPU or not compiled in",
                 static_cast<int>(name.size()), name.data());
  }
  // Everything else off: dispatch then picks `wanted` (scalar stays as Highway's fallback).
  if (wanted != 0) hwy::DisableTargets(~wanted);
  return OkStatus();
#endif
}

}  // namespace ggufembed

#endif  // HWY_ONCE
