// TensorBinder (see tensor_binder.h).
#include "models/tensor_binder.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>

#include "gguf/gguf.h"
#include "util/error.h"

namespace ggufembed {

Result<const GgufTensorInfo*> TensorBinder::Find(const std::string& name, std::vector<int64_t> ne) {
  const GgufTensorInfo* t = file_.FindTensor(name);
  if (t == nullptr) {
    return Error(StatusCode::kInvalidFile, "%s: tensor '%s' is missing", file_.name().c_str(),
                 name.c_str());
  }
  bool same = t->n_dims == ne.size();
  for (size_t i = 0; same && i < ne.size(); ++i) same = t->ne[i] == ne[i];
  if (!same) {
    return Error(StatusCode::kInvalidFile, "%s: tensor '%s' has shape %s, expected %s",
                 file_.name().c_str(), name.c_str(),
                 ShapeText(t->ne, static_cast<int>(t->n_dims)).c_str(),
                 ShapeText(ne.data(), static_cast<int>(ne.size())).c_str());
  }
  used_.insert(t->name);
  return t;
}

Result<Matrix> TensorBinder::BindMatrix(const std::string& name, int64_t cols, int64_t rows) {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name, {cols, rows}));
  if (!GetGgmlType(t->type).dequantizable) {
    return Error(StatusCode::kUnsupported,
                 "%s: tensor '%s' has type %s, which is not supported (supported: F32, F16, "
                 "BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)",
                 file_.name().c_str(), name.c_str(), GetGgmlType(t->type).name);
  }
  Matrix m{t->name, t->type, t->data, rows, cols, t->row_bytes()};
  if (m.type == GgmlType::kBF16) {
    kept_->bf16_ranges.push_back(std::make_unique<std::atomic<Bf16Range>>(Bf16Range::kUnknown));
    m.bf16_range = kept_->bf16_ranges.back().get();
  }
  return m;
}

Result<const float*> TensorBinder::BindNorm(const std::string& name, int64_t n) {
  GGUFEMBED_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Find(name, {n}));
  const float* v;
  if (t->type == GgmlType::kF32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0) {
    v = reinterpret_cast<const float*>(t->data);
  } else if (t->type == GgmlType::kF32 || t->type == GgmlType::kF16 || t->type == GgmlType::kBF16) {
    // Half-precision norms are widened; F32 ones at an odd offset (a file whose general.alignment
    // is 1 or 2) copied, since reading them in place would be a misaligned load.
    kept_->norms.push_back(std::make_unique<float[]>(static_cast<size_t>(n)));
    GGUFEMBED_RETURN_IF_ERROR(DequantizeRow(t->type, t->data, kept_->norms.back().get(), n));
    v = kept_->norms.back().get();
  } else {
    return Error(StatusCode::kUnsupported,
                 "%s: norm tensor '%s' has type %s (supported: F32, F16, BF16)",
                 file_.name().c_str(), name.c_str(), GetGgmlType(t->type).name);
  }
  // Norm weights are small and scale every value of their block: checked here, where the error
  // can name them (a NaN in a matrix is found by the forward pass, or by --check-tensors).
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      return Error(StatusCode::kNotFinite,
                   "%s: norm tensor '%s' holds a value that is not finite (%g at index %" PRId64
                   "): the model file is broken",
                   file_.name().c_str(), name.c_str(), v[i], i);
    }
  }
  return v;
}

Status TensorBinder::CheckAllUsed(std::string_view architecture,
                                  const std::vector<std::string_view>& ignored) const {
  for (const GgufTensorInfo& t : file_.tensors()) {
    if (used_.count(t.name) || std::find(ignored.begin(), ignored.end(), t.name) != ignored.end()) {
      continue;
    }
    return Error(StatusCode::kUnsupported,
                 "%s: tensor %s is not part of a %.*s model; refusing to ignore it",
                 file_.name().c_str(), Quote(t.name).c_str(), static_cast<int>(architecture.size()),
                 architecture.data());
  }
  return OkStatus();
}

}  // namespace ggufembed
