// Checked reads of hyperparameter keys (see hparams.h).
#include "models/hparams.h"

#include <cinttypes>
#include <cmath>

namespace ggufembed {

Result<int> GetSize(const GgufFile& f, const std::string& key, int min, int max, bool required,
                    int fallback) {
  const GgufKv* kv = f.FindKv(key);
  if (kv == nullptr) {
    if (required) {
      return Error(StatusCode::kInvalidFile, "%s: required key '%s' is missing", f.name().c_str(),
                   key.c_str());
    }
    return fallback;
  }
  int64_t value;
  if (kv->value.is_array() && IsGgufIntegerType(kv->value.element_type) && kv->value.count > 0) {
    value = kv->value.Element(0).AsInt();
    for (uint64_t i = 1; i < kv->value.count; ++i) {
      if (kv->value.Element(i).AsInt() != value) {
        return Error(StatusCode::kUnsupported,
                     "%s: key '%s' differs between layers; per-layer values are not supported",
                     f.name().c_str(), key.c_str());
      }
    }
  } else {
    GGUFEMBED_ASSIGN_OR_RETURN(value, f.GetInt(key));
  }
  if (value < min || value > max) {
    return Error(StatusCode::kInvalidFile, "%s: key '%s' is %" PRId64 ", expected %d to %d",
                 f.name().c_str(), key.c_str(), value, min, max);
  }
  return static_cast<int>(value);
}

Result<float> GetPositiveFloat(const GgufFile& f, const std::string& key, bool required,
                               double fallback) {
  double v;
  if (required) {
    GGUFEMBED_ASSIGN_OR_RETURN(v, f.GetFloat(key));
  } else {
    GGUFEMBED_ASSIGN_OR_RETURN(v, f.GetFloatOr(key, fallback));
  }
  if (!(v > 0.0) || !std::isfinite(v)) {
    return Error(StatusCode::kInvalidFile, "%s: key '%s' is %g, expected a positive number",
                 f.name().c_str(), key.c_str(), v);
  }
  return static_cast<float>(v);
}

}  // namespace ggufembed
