// The output head: pooling, projections, Matryoshka cut, normalization (see head.h).
#include "embed/head.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/matmul.h"
#include "kernels/reference.h"
#include "util/error.h"
#include "util/profile.h"

namespace ggufembed {

void Pool(Pooling pooling, const float* hidden, int n_tokens, int n, float* out) {
  switch (pooling) {
    case Pooling::kMean: {
      const float inv = 1.0f / static_cast<float>(n_tokens);
      for (int i = 0; i < n; ++i) {
        float sum = 0.0f;
        for (int t = 0; t < n_tokens; ++t) sum += hidden[size_t(t) * n + i] * inv;
        out[i] = sum;
      }
      break;
    }
    case Pooling::kCls:
      std::memcpy(out, hidden, sizeof(float) * n);
      break;
    case Pooling::kLast:
      std::memcpy(out, hidden + size_t(n_tokens - 1) * n, sizeof(float) * n);
      break;
    case Pooling::kNone:
      std::memcpy(out, hidden, sizeof(float) * n * size_t(n_tokens));
      break;
  }
}

void NormalizeL2(float* x, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += x[i] * x[i];  // f32 products, double sum
  const double norm = std::sqrt(sum);
  const float scale = norm > 0.0 ? static_cast<float>(1.0 / norm) : 0.0f;
  for (int i = 0; i < n; ++i) x[i] *= scale;
}

Status RunHead(const ModelHead& head, const float* hidden, int n_tokens, const HeadOptions& options,
               HeadWorkspace& ws, float* out, OpProfile* profile) {
  ProfileScope p(profile, Op::kPoolDense);
  const int rows = PooledRows(options.pooling, n_tokens);
  std::vector<float>* x = &ws.rows[0];  // [rows × width]
  std::vector<float>* y = &ws.rows[1];
  x->resize(std::max<size_t>(x->size(), size_t(rows) * head.n_embd));
  Pool(options.pooling, hidden, n_tokens, head.n_embd, x->data());
  int width = head.n_embd;
  for (const Matrix& m : head.projections) {
    y->resize(std::max<size_t>(y->size(), size_t(rows) * m.rows));
    if (options.reference) {
      MatMulReference(m, x->data(), rows, y->data());
    } else {
      GGUFEMBED_RETURN_IF_ERROR(MatMulRows(m, x->data(), rows, y->data(), ws.matmul));
    }
    std::swap(x, y);
    width = static_cast<int>(m.rows);
  }
  // A NaN or infinity anywhere (overflowed activations, a broken file) is an error, never a
  // vector: L2 normalization would hide an infinity as NaNs or zeros.
  for (size_t i = 0; i < size_t(rows) * width; ++i) {
    if (!std::isfinite((*x)[i])) {
      return Error(StatusCode::kNotFinite,
                   "the model computed a value that is not finite (%g at row %zu, column %zu) "
                   "in its output: a weight of the pooled output's projections is NaN or "
                   "infinite, or the activations overflowed",
                   (*x)[i], i / width, i % width);
    }
  }
  // Matryoshka: the first `dim` values of each row.
  for (int r = 0; r < rows; ++r) {
    float* row = out + size_t(r) * options.dim;
    std::copy_n(x->data() + size_t(r) * width, options.dim, row);
    if (options.normalize) NormalizeL2(row, options.dim);
  }
  return OkStatus();
}

double HeadMultiplyAdds(const ModelHead& head, int rows) {
  double total = 0;
  for (const Matrix& m : head.projections) total += double(rows) * m.rows * m.cols;
  return total;
}

}  // namespace ggufembed
