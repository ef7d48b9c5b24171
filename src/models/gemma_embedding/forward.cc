// The gemma-embedding forward pass on SIMD kernels, layer by layer as llama.cpp's
// src/models/gemma-embedding.cpp computes it. This file is compiled once per SIMD target
// (Highway's foreach_target); ForwardPooled dispatches to the best one once per call.
#include "models/gemma_embedding/forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/gelu.h"
#include "embed/head.h"
#include "kernels/reference.h"
#include "kernels/target.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "models/gemma_embedding/forward.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"

#include "kernels/attention-inl.h"
#include "kernels/matmul-inl.h"
#include "kernels/norm_rope-inl.h"
#include "kernels/vec_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ggufembed {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Makes the workspace's RoPE tables cover positions [0, T) (computed once, kept across calls).
void EnsureRopeTables(const ModelConfig& c, int T, ForwardWorkspace& ws) {
  if (ws.rope_positions >= T) return;
  const int half = c.n_rot / 2;
  const float bases[2] = {c.rope_base, c.rope_base_swa};
  for (int i = 0; i < 2; ++i) {
    ws.rope_cos[i].resize(size_t(T) * half);
    ws.rope_sin[i].resize(size_t(T) * half);
    for (int t = ws.rope_positions; t < T; ++t) {
      RopeCosSin(bases[i], c.n_rot, t, &ws.rope_cos[i][size_t(t) * half],
                 &ws.rope_sin[i][size_t(t) * half]);
    }
  }
  ws.rope_positions = T;
}

Status ForwardPooledImpl(const ModelConfig& c, const ModelWeights& w, const int32_t* tokens,
                         int T, Pooling pooling, ForwardWorkspace& ws, float* out,
                         OpProfile* profile) {
  const int d = c.n_embd, ff = c.n_ff;
  const int q_dim = c.n_head * c.head_dim, kv_dim = c.n_head_kv * c.head_dim;
  const int v_dim = c.n_head_kv * c.head_dim_v, o_dim = c.n_head * c.head_dim_v;
  const int rows = PooledRows(pooling, T);
  const int widest = std::max({d, o_dim, ff, c.dense_dim});
  const size_t attention_floats =
      AttentionScratchFloats(T, c.n_head, c.n_head_kv, c.head_dim, c.head_dim_v);
  // Files whose gate and up matrices have different types need the up products on their own.
  bool mixed_ffn = false;
  for (const LayerWeights& l : w.layers) mixed_ffn |= l.ffn_gate.type != l.ffn_up.type;
  const size_t up_floats = mixed_ffn ? size_t(T) * ff : 0;

  // Every buffer of this pass, from one arena sized here.
  const int P = PaddedTokens(T);
  const size_t in_blocks = size_t(widest / 32) * P;
  const size_t bytes = 3 * Arena::Bytes<float>(size_t(T) * d) + Arena::Bytes<float>(size_t(T) * q_dim) +
                       Arena::Bytes<float>(size_t(T) * kv_dim) + Arena::Bytes<float>(size_t(T) * v_dim) +
                       Arena::Bytes<float>(size_t(T) * o_dim) + Arena::Bytes<float>(size_t(T) * ff) +
                       Arena::Bytes<int16_t>(size_t(widest) * P) + 2 * Arena::Bytes<float>(in_blocks) +
                       Arena::Bytes<int32_t>(in_blocks) + Arena::Bytes<float>(size_t(widest) * P) +
                       Arena::Bytes<uint8_t>(MatMulScratchBytes(widest)) +
                       Arena::Bytes<float>(attention_floats) +
                       2 * Arena::Bytes<float>(size_t(rows) * std::max(d, c.dense_dim)) +
                       Arena::Bytes<float>(up_floats);
  GGUFEMBED_RETURN_IF_ERROR(ws.arena.Reset(bytes));
  Arena& arena = ws.arena;
  float* x = arena.Alloc<float>(size_t(T) * d);       // [T × n_embd] residual stream
  float* h = arena.Alloc<float>(size_t(T) * d);       // [T × n_embd] normed sub-block input
  float* o = arena.Alloc<float>(size_t(T) * d);       // [T × n_embd] sub-block output
  float* q = arena.Alloc<float>(size_t(T) * q_dim);   // [T × n_head·head_dim] queries
  float* k = arena.Alloc<float>(size_t(T) * kv_dim);  // [T × n_head_kv·head_dim] keys
  float* v = arena.Alloc<float>(size_t(T) * v_dim);   // [T × n_head_kv·head_dim_v] values
  float* att = arena.Alloc<float>(size_t(T) * o_dim);  // [T × n_head·head_dim_v] heads concatenated
  float* gg = arena.Alloc<float>(size_t(T) * ff);     // [T × n_ff] GeLU(gate) · up
  MatMulInput in{};  // a matrix product's prepared input, tokens padded to P
  in.layout = LayoutOf(NativeInt8Kernel());
  in.q = arena.Alloc<int16_t>(size_t(widest) * P);
  in.d = arena.Alloc<float>(in_blocks);
  in.s = arena.Alloc<float>(in_blocks);
  in.bias = arena.Alloc<int32_t>(in_blocks);
  in.xt = arena.Alloc<float>(size_t(widest) * P);
  uint8_t* scratch = arena.Alloc<uint8_t>(MatMulScratchBytes(widest));
  float* attention_scratch = arena.Alloc<float>(attention_floats);
  float* pooled = arena.Alloc<float>(size_t(rows) * d);          // [rows × n_embd]
  float* wide = arena.Alloc<float>(size_t(rows) * std::max(d, c.dense_dim));  // [rows × dense_dim]
  float* up = arena.Alloc<float>(up_floats);          // [T × n_ff] when gate and up differ in type

  // Prepares `src` [n × cols] for products with `weights` (quantized or rounded as ggml does).
  auto prepare = [&](const Matrix& weights, const float* src, int n, int cols) {
    ProfileScope p(profile, Op::kMatMul);
    in.n_tokens = n;
    in.cols = cols;
    PrepareMatMulInput(weights.type, src, &in);
  };
  // dst [n × weights.rows] = the prepared input times weightsᵀ.
  auto matmul = [&](const Matrix& weights, float* dst, Op op = Op::kMatMul) {
    ProfileScope p(profile, op);
    MatMul(weights, in, scratch, dst, static_cast<size_t>(weights.rows));
  };

  // The sub-block output `o` normed with `norm` and added to the residual stream.
  auto post_norm_residual = [&](const float* norm) {
    ProfileScope p(profile, Op::kNormRope);
    RmsNormRows(o, norm, T, d, d, c.rms_eps, o);
    AddInPlace(x, o, size_t(T) * d);
  };

  {
    ProfileScope p(profile, Op::kOther);
    EnsureRopeTables(c, T, ws);
    // Token embeddings, scaled by sqrt(n_embd).
    const float embd_scale = std::sqrt(static_cast<float>(d));
    for (int t = 0; t < T; ++t) {
      (void)DequantizeRow(w.token_embd.type, w.token_embd.Row(tokens[t]), x + size_t(t) * d, d);
    }
    ScaleInPlace(x, embd_scale, size_t(T) * d);
  }
  const float q_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  for (int il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[il];
    const int table = c.IsSlidingLayer(il) ? 1 : 0;
    const int half_window = c.IsSlidingLayer(il) ? c.n_swa / 2 : -1;

    // Attention: pre-norm, projections, per-head Q/K norms, RoPE, scaled softmax attention.
    {
      ProfileScope p(profile, Op::kNormRope);
      RmsNormRows(x, l.attn_norm, T, d, d, c.rms_eps, h);
    }
    prepare(l.attn_q, h, T, d);
    matmul(l.attn_q, q);
    if (l.attn_k.type != l.attn_q.type) prepare(l.attn_k, h, T, d);
    matmul(l.attn_k, k);
    if (l.attn_v.type != l.attn_k.type) prepare(l.attn_v, h, T, d);
    matmul(l.attn_v, v);
    {
      ProfileScope p(profile, Op::kNormRope);
      RmsNormRows(q, l.attn_q_norm, T * c.n_head, c.head_dim, c.head_dim, c.rms_eps, q);
      RmsNormRows(k, l.attn_k_norm, T * c.n_head_kv, c.head_dim, c.head_dim, c.rms_eps, k);
      RopeRows(q, T, c.n_head, c.head_dim, c.n_rot, ws.rope_cos[table].data(),
               ws.rope_sin[table].data());
      RopeRows(k, T, c.n_head_kv, c.head_dim, c.n_rot, ws.rope_cos[table].data(),
               ws.rope_sin[table].data());
      ScaleInPlace(q, q_scale, size_t(T) * q_dim);
    }
    {
      ProfileScope p(profile, Op::kAttention);
      Attention(q, k, v, T, c.n_head, c.n_head_kv, c.head_dim, c.head_dim_v, half_window,
                attention_scratch, att);
    }
    prepare(l.attn_output, att, T, o_dim);
    matmul(l.attn_output, o);
    post_norm_residual(l.post_attention_norm);

    // Feed-forward: pre-norm, GeGLU (GELU on the gate times up), down, post-norm, residual.
    {
      ProfileScope p(profile, Op::kNormRope);
      RmsNormRows(x, l.ffn_norm, T, d, d, c.rms_eps, h);
    }
    prepare(l.ffn_gate, h, T, d);
    if (l.ffn_up.type != l.ffn_gate.type) {  // no shared input: two plain products
      matmul(l.ffn_gate, gg);
      prepare(l.ffn_up, h, T, d);
      matmul(l.ffn_up, up);
      ProfileScope p(profile, Op::kGeGLU);
      for (size_t i = 0; i < size_t(T) * ff; ++i) gg[i] = GeluF16(gg[i]) * up[i];
    } else {
      ProfileScope p(profile, Op::kGeGLU);
      MatMulGeGLU(l.ffn_gate, l.ffn_up, in, scratch, gg, static_cast<size_t>(ff));
    }
    prepare(l.ffn_down, gg, T, ff);
    matmul(l.ffn_down, o);
    post_norm_residual(l.post_ffw_norm);
  }

  {
    ProfileScope p(profile, Op::kPoolDense);
    RmsNormRows(x, w.output_norm, T, d, d, c.rms_eps, h);
    Pool(pooling, h, T, d, pooled);
  }
  if (w.has_dense) {  // sentence-transformers Dense layers: n_embd -> dense_dim -> n_embd
    prepare(w.dense_2, pooled, rows, d);
    matmul(w.dense_2, wide, Op::kPoolDense);
    prepare(w.dense_3, wide, rows, c.dense_dim);
    matmul(w.dense_3, pooled, Op::kPoolDense);
  }
  std::memcpy(out, pooled, sizeof(float) * size_t(rows) * d);
  return OkStatus();
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufembed
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufembed {

HWY_EXPORT(ForwardPooledImpl);

const char* OpName(Op op) {
  switch (op) {
    case Op::kMatMul: return "matmul";
    case Op::kAttention: return "attention";
    case Op::kNormRope: return "norms+rope";
    case Op::kGeGLU: return "geglu";
    case Op::kPoolDense: return "pooling+dense";
    case Op::kOther: return "other";
    case Op::kCount: break;
  }
  return "?";
}

Status ForwardPooled(const ModelConfig& config, const ModelWeights& weights,
                     const int32_t* tokens, int n_tokens, Pooling pooling,
                     ForwardWorkspace& workspace, float* out, OpProfile* profile) {
  return HWY_DYNAMIC_DISPATCH(ForwardPooledImpl)(config, weights, tokens, n_tokens, pooling,
                                                 workspace, out, profile);
}

const char* ForwardTargetName() { return SimdTargetName(); }

Status SetForwardTarget(std::string_view name) {
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
  hwy::SetSupportedTargetsForTest(0);  // back to what the CPU supports
  const int64_t supported = hwy::SupportedTargets() & HWY_TARGETS;
  if (wanted != 0 && (supported & wanted) == 0) {
    return Error(StatusCode::kUnsupported,
                 "SIMD target '%.*s' is not available on this CPU or not compiled in",
                 static_cast<int>(name.size()), name.data());
  }
  hwy::SetSupportedTargetsForTest(wanted != 0 ? (supported & wanted) : 0);
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  return OkStatus();
#endif
}

}  // namespace ggufembed
#endif  // HWY_ONCE
