// Checked reads of hyperparameter keys (see hparams.h).
#include "models/hparams.h"

#include <cinttypes>
#include <cmath>

#include "gguf/gguf.h"
#include "util/error.h"

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

Result<std::vector<int>> GetPerLayer(const GgufFile& f, const std::string& key, int n_layer,
                                     int min, int max, int fallback) {
  std::vector<int> values(static_cast<size_t>(n_layer), fallback);
  const GgufKv* kv = f.FindKv(key);
  if (kv == nullptr) return values;
  if (!kv->value.is_array()) {
    GGUFEMBED_ASSIGN_OR_RETURN(const int v, GetSize(f, key, min, max, true, 0));
    values.assign(values.size(), v);
    return values;
  }
  const bool integers =
      IsGgufIntegerType(kv->value.element_type) || kv->value.element_type == GgufType::kBool;
  if (!integers || kv->value.count != static_cast<uint64_t>(n_layer)) {
    return Error(StatusCode::kInvalidFile,
                 "%s: key '%s' is an array of %" PRIu64 " %s, expected %d integers (one per layer)",
                 f.name().c_str(), key.c_str(), kv->value.count,
                 GgufTypeName(kv->value.element_type), n_layer);
  }
  for (int il = 0; il < n_layer; ++il) {
    const GgufValue e = kv->value.Element(static_cast<uint64_t>(il));
    const int64_t v = e.type == GgufType::kBool ? (e.AsBool() ? 1 : 0) : e.AsInt();
    if (v < min || v > max) {
      return Error(StatusCode::kInvalidFile,
                   "%s: key '%s' is %" PRId64 " for layer %d, expected %d to %d", f.name().c_str(),
                   key.c_str(), v, il, min, max);
    }
    values[static_cast<size_t>(il)] = static_cast<int>(v);
  }
  return values;
}

Result<float> GetPositiveFloat(const GgufFile& f, const std::string& key, bool required,
                               double fallback, double max) {
  double v;
  if (required) {
    GGUFEMBED_ASSIGN_OR_RETURN(v, f.GetFloat(key));
  } else {
    GGUFEMBED_ASSIGN_OR_RETURN(v, f.GetFloatOr(key, fallback));
  }
  // As the float it becomes: an f64 of 1e300 would not fit (max is at most FLT_MAX), one of
  // 1e-300 would be zero.
  if (!(v > 0.0) || !(v <= max)) {
    return Error(StatusCode::kInvalidFile,
                 "%s: key '%s' is %g, expected a positive number up to %g", f.name().c_str(),
                 key.c_str(), v, max);
  }
  if (static_cast<float>(v) == 0.0f) {
    return Error(StatusCode::kInvalidFile, "%s: key '%s' is %g, which is 0 as a 32-bit float",
                 f.name().c_str(), key.c_str(), v);
  }
  return static_cast<float>(v);
}

Result<std::vector<int>> GetSlidingLayers(const GgufFile& f, const std::string& p, int n_layer,
                                          int default_period) {
  const std::string key = p + "attention.sliding_window_pattern";
  const GgufKv* kv = f.FindKv(key);
  if (kv != nullptr && kv->value.is_array()) return GetPerLayer(f, key, n_layer, 0, 1, 0);
  GGUFEMBED_ASSIGN_OR_RETURN(const int period, GetSize(f, key, 0, 4096, false, default_period));
  std::vector<int> sliding(static_cast<size_t>(n_layer));
  for (int il = 0; il < n_layer; ++il) sliding[il] = period == 0 || il % period < period - 1;
  return sliding;
}

Status CheckNoRopeScaling(const GgufFile& f, const std::string& p) {
  if (const GgufKv* kv = f.FindKv(p + "rope.scaling.type")) {
    const std::string_view type =
        kv->value.type == GgufType::kString ? kv->value.AsString() : std::string_view("?");
    if (type != "none" && type != "linear") {
      return Error(StatusCode::kUnsupported, "%s: rope.scaling.type %s is not supported",
                   f.name().c_str(), Quote(type).c_str());
    }
  }
  GGUFEMBED_ASSIGN_OR_RETURN(double factor, f.GetFloatOr(p + "rope.scaling.factor", 0.0));
  if (factor != 0.0 && factor != 1.0) {
    return Error(StatusCode::kUnsupported, "%s: rope.scaling.factor %g is not supported",
                 f.name().c_str(), factor);
  }
  return OkStatus();
}

Result<Pooling> GetPooling(const GgufFile& f, const std::string& p,
                           std::vector<std::string>* warnings) {
  // llama.cpp's converter writes the key from the model's sentence-transformers Pooling module;
  // a file without one (a model saved without those files) gets no pooling in llama.cpp, whose
  // default is none. EmbeddingGemma is trained with mean pooling, so mean it is, said once.
  if (f.FindKv(p + "pooling_type") == nullptr) {
    warnings->push_back(f.name() +
                        ": pooling_type is missing; using mean pooling, EmbeddingGemma's "
                        "(llama.cpp would not pool this file: give it --pooling mean for these "
                        "vectors)");
  }
  GGUFEMBED_ASSIGN_OR_RETURN(int pooling, GetSize(f, p + "pooling_type", 0, 4, false, 1));
  if (pooling == 4) {
    return Error(StatusCode::kUnsupported,
                 "%s: pooling_type 4 (rank, a reranker head) is not supported", f.name().c_str());
  }
  return static_cast<Pooling>(pooling);
}

}  // namespace ggufembed
