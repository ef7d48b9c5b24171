// LayerSteps: what every layer of the Gemma-style forward passes does on the kernels — the scaled
// token embeddings, products on a prepared input (the attention's three at once), RMS norms, the
// post-normed residual add, and the GeGLU feed-forward block — with the buffers they share, so
// that an architecture's forward.cc holds only what is its own.
// Compiled per SIMD target inside the including forward.cc.

#include <cmath>
#include <cstddef>

#include "gguf/ggml_type.h"
#include "ggufembed/types.h"
#include "kernels/gelu.h"
#include "kernels/matrix.h"
#include "kernels/rope_tables.h"
#include "models/model.h"
#include "models/not_finite.h"
#include "util/arena.h"
#include "util/check.h"
#include "util/error.h"
#include "util/profile.h"

// Per-target include guard.
#if defined(GGUFEMBED_MODELS_LAYER_STEPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFEMBED_MODELS_LAYER_STEPS_INL_H_
#undef GGUFEMBED_MODELS_LAYER_STEPS_INL_H_
#else
#define GGUFEMBED_MODELS_LAYER_STEPS_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/attention-inl.h"
#include "kernels/matmul-inl.h"
#include "kernels/norm_rope-inl.h"
#include "kernels/vec_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {

// Whether some layer's feed-forward gate and up differ in type (then GeGLU is not fused and the
// steps carve room for `up`).
template <class Layers>
bool MixedFfn(const Layers& layers) {
  bool mixed = false;
  for (const auto& l : layers) mixed |= l.ffn_gate.type != l.ffn_up.type;
  return mixed;
}

struct LayerSteps {
  const PassTokens& pass;  // the texts of the pass
  int T;                   // tokens (pass.n_tokens)
  int d;                   // n_embd
  float eps;               // RMS norm epsilon
  OpProfile* profile;      // may be null
  float* x = nullptr;      // [T × n_embd] residual stream
  float* h = nullptr;      // [T × n_embd] normed sub-block input
  float* o = nullptr;      // [T × n_embd] sub-block output
  float* gg = nullptr;     // [T × n_ff] GELU(gate) · up
  float* up = nullptr;     // [T × n_ff] up, only when gate and up differ in type (no fused GeGLU)
  MatMulInput in{};        // a product's prepared input, tokens padded
  MatMulScratch scratch{};

  // Takes the buffers for T tokens from `a` (inside a Carve plan); `widest` is the widest input
  // of any product, `mixed_ffn` whether some layer's gate and up differ in type.
  void Carve(Arena& a, int n_ff, int widest, bool mixed_ffn) {
    x = a.Alloc<float>(uint64_t(T) * d);
    h = a.Alloc<float>(uint64_t(T) * d);
    o = a.Alloc<float>(uint64_t(T) * d);
    gg = a.Alloc<float>(uint64_t(T) * n_ff);
    up = mixed_ffn ? a.Alloc<float>(uint64_t(T) * n_ff) : nullptr;
    CarveMatMulInput(a, T, widest, LayoutOf(NativeInt8Kernel()), &in);
    CarveMatMulScratch(a, T, widest, &scratch);
  }

  // Prepares `src` [T × cols] into `into` for products with `weights` (quantized or rounded as
  // ggml does).
  void Prepare(const Matrix& weights, const float* src, int cols, MatMulInput& into) {
    ProfileScope p(profile, Op::kMatMul);
    into.n_tokens = T;
    into.cols = cols;
    PrepareMatMulInput(weights.type, src, &into);
  }
  void Prepare(const Matrix& weights, const float* src, int cols) {
    Prepare(weights, src, cols, in);
  }
  // dst [T × weights.rows] = the prepared input `from` times weightsᵀ.
  void Product(const Matrix& weights, float* dst, const MatMulInput& from) {
    ProfileScope p(profile, Op::kMatMul);
    MatMul(weights, from, scratch, dst, static_cast<size_t>(weights.rows));
  }
  void Product(const Matrix& weights, float* dst) { Product(weights, dst, in); }
  // x = the rows of `token_embd` for the pass's tokens, times sqrt(n_embd) (f32, as ggml_scale);
  // a NaN or infinity in them is an error naming the tensor's row.
  Status EmbedTokens(const Matrix& token_embd, const char* tensor) {
    ProfileScope p(profile, Op::kOther);
    for (int t = 0; t < T; ++t) {
      GGUFEMBED_DCHECK_OK(  // the type was checked at load
          DequantizeRow(token_embd.type, token_embd.Row(pass.ids[t]), x + size_t(t) * d, d));
    }
    GGUFEMBED_RETURN_IF_ERROR(CheckEmbeddings(tensor));
    ScaleInPlace(x, std::sqrt(static_cast<float>(d)), size_t(T) * d);
    return OkStatus();
  }
  // q, k, v [T × rows of each] = h times the attention's projections: h prepared for `wq`, and
  // again for `wk` and `wv` unless the type before theirs shares its prepared input.
  void ProjectQkv(const Matrix& wq, const Matrix& wk, const Matrix& wv, float* q, float* k,
                  float* v) {
    Prepare(wq, h, d);
    Product(wq, q);
    if (!SharesActivations(wk.type, wq.type)) Prepare(wk, h, d);
    Product(wk, k);
    if (!SharesActivations(wv.type, wk.type)) Prepare(wv, h, d);
    Product(wv, v);
  }
  // `rows` rows of n values of `src` normed into `dst` (may alias; `weight` null: no weight).
  void Norm(const float* src, const float* weight, int rows, int n, float* dst) {
    ProfileScope p(profile, Op::kNormRope);
    RmsNormRows(src, weight, rows, n, n, eps, dst);
  }
  // RoPE on `x` [T × n_heads·head_dim], each text from position 0.
  void Rope(float* x, int n_heads, int head_dim, int n_rot, const RopeTables::Table& rope) {
    ProfileScope p(profile, Op::kNormRope);
    const size_t row = size_t(n_heads) * head_dim;
    pass.ForEachText([&](int first, int length) {
      RopeRows(x + first * row, length, n_heads, head_dim, n_rot, rope.cos, rope.sin);
    });
  }
  // out [T × n_head·head_dim_v]: attention text by text, each text seeing only itself (within
  // `half_window` tokens, or all of it when negative).
  void Attend(const float* q, const float* k, const float* v, int n_head, int n_head_kv,
              int head_dim, int head_dim_v, int half_window, const AttentionScratch& scratch,
              float* out) {
    ProfileScope p(profile, Op::kAttention);
    const size_t q_row = size_t(n_head) * head_dim, k_row = size_t(n_head_kv) * head_dim;
    const size_t v_row = size_t(n_head_kv) * head_dim_v, o_row = size_t(n_head) * head_dim_v;
    pass.ForEachText([&](int first, int length) {
      Attention(q + first * q_row, k + first * k_row, v + first * v_row, length, n_head, n_head_kv,
                head_dim, head_dim_v, half_window, scratch, out + first * o_row);
    });
  }
  // An error if the token embeddings just read into `x` from `tensor` hold a NaN or an infinity.
  Status CheckEmbeddings(const char* tensor) const {
    if (HWY_LIKELY(AllFiniteVec(x, size_t(T) * d))) return OkStatus();
    return NotFiniteEmbedding(x, T, d, pass.ids, tensor);
  }
  // An error if the residual stream holds a NaN or an infinity after `block` of layer `layer`:
  // checked after every block (a scan of T × n_embd values), so the error names where one first
  // appears.
  Status CheckFinite(int layer, const char* block) const {
    if (HWY_LIKELY(AllFiniteVec(x, size_t(T) * d))) return OkStatus();
    return NotFiniteActivations(x, T, d, layer, block);
  }
  // An error if the pass's output y [T × cols], the product of `tensor`, holds a NaN or an
  // infinity (NotFiniteOutput).
  Status CheckOutput(const float* y, int cols, const char* tensor, const char* why) const {
    if (HWY_LIKELY(AllFiniteVec(y, size_t(T) * cols))) return OkStatus();
    return NotFiniteOutput(y, T, cols, tensor, why);
  }
  // The sub-block output `o` normed with `norm` and added to the residual stream.
  void PostNormResidual(const float* norm) {
    Norm(o, norm, T, d, o);
    ProfileScope p(profile, Op::kNormRope);
    AddInPlace(x, o, size_t(T) * d);
  }
  // Feed-forward: pre-norm, GeGLU (GELU on the gate times up, fused into the products when gate
  // and up share a type), down, post-norm, residual.
  void FeedForward(const float* pre_norm, const Matrix& gate, const Matrix& up_w,
                   const Matrix& down, const float* post_norm) {
    const int ff = static_cast<int>(gate.rows);
    Norm(x, pre_norm, T, d, h);
    Prepare(gate, h, d);
    if (up_w.type != gate.type) {  // no shared input: two plain products
      Product(gate, gg);
      Prepare(up_w, h, d);
      Product(up_w, up);
      ProfileScope p(profile, Op::kGeGLU);
      GeGluInPlace(gg, up, size_t(T) * ff, GeluTable());
    } else {
      ProfileScope p(profile, Op::kGeGLU);
      MatMulGeGLU(gate, up_w, in, scratch, gg, static_cast<size_t>(ff));
    }
    Prepare(down, gg, ff);
    Product(down, o);
    PostNormResidual(post_norm);
  }
};

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard
