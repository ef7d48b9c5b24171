// gemma-embedding2: its hyperparameters and errors, the reference forward pass against an
// independent double-precision implementation of llama.cpp's graph written here from the model
// definition, and the SIMD forward pass against the reference on every target.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "gguf/gguf.h"
#include "ggufembed/embedder.h"
#include "model_util.h"
#include "models/gemma_embedding2/config.h"
#include "models/gemma_embedding2/weights.h"
#include "test_util.h"
#include "util/fp16.h"

namespace ggufembed {
namespace {

std::string Tiny2(GgmlType type = GgmlType::kQ8_0) {
  return testing::SynthModelPath("tiny", type, true, "gemma-embedding2");
}

TEST_CASE("gemma-embedding2: per-layer attention shapes come from the file", "[embedding2]") {
  Result<GgufFile> f = GgufFile::Open(Tiny2());
  REQUIRE(f.ok());
  Result<gemma_embedding2::Config> c = gemma_embedding2::Config::FromGguf(*f);
  REQUIRE(c.ok());
  CHECK(c->n_embd == 160);
  CHECK(c->n_embd_out == 96);
  CHECK(c->n_embd_per_layer == 64);
  CHECK(c->n_swa == 16);
  REQUIRE(c->layers.size() == 5);
  for (int il = 0; il < 5; ++il) {
    const gemma_embedding2::LayerShape& s = c->layers[il];
    const bool sliding = il != 2;  // the file's bool pattern [T, T, F, T, T]
    INFO("layer " << il);
    CHECK(s.sliding == sliding);
    CHECK(s.n_head_kv == (sliding ? 2 : 1));
    CHECK(s.head_dim == (sliding ? 40 : 64));
    CHECK(s.head_dim_v == (sliding ? 40 : 64));
    CHECK(s.n_rot == (sliding ? 40 : 32));
    CHECK(s.rope_base == (sliding ? 1e4f : 1e6f));
  }
}

TEST_CASE("gemma-embedding2: metadata and tensor errors name the key or tensor", "[embedding2]") {
  Result<GgufFile> tiny = GgufFile::Open(Tiny2());
  REQUIRE(tiny.ok());
  auto load_without = [&](const std::string& what, bool tensor) {
    testing::Rewrite r;
    if (tensor) {
      r.keep_tensor = [&](const GgufTensorInfo& t) { return t.name != what; };
    } else {
      r.keep_kv = [&](const GgufKv& kv) { return kv.key != what; };
    }
    Result<GgufFile> f = testing::RewriteModel(*tiny, r, "eg2-without.gguf");
    REQUIRE(f.ok());
    return Embedder::Load(std::string(f->name())).status();
  };
  Status s = load_without("gemma-embedding2.embedding_length_per_layer_input", false);
  CHECK(s.code() == StatusCode::kInvalidFile);
  CHECK(s.message().find("embedding_length_per_layer_input") != std::string::npos);
  s = load_without("blk.3.layer_output_scale.weight", true);
  CHECK(s.code() == StatusCode::kInvalidFile);
  CHECK(s.message().find("blk.3.layer_output_scale.weight") != std::string::npos);
  s = load_without("tokenizer.ggml.merges", false);
  CHECK(s.code() == StatusCode::kInvalidFile);
  CHECK(s.message().find("tokenizer.ggml.merges") != std::string::npos);

  // Without the rotated dimensions of either kind of layer, llama.cpp's defaults (the global
  // heads' 64, for the sliding ones too) do not fit the sliding heads (40): refused, as llama.cpp
  // cannot run it. Without the sliding layers' count only, they take the global one (32).
  testing::Rewrite no_rot;
  no_rot.keep_kv = [](const GgufKv& kv) {
    return kv.key != "gemma-embedding2.rope.dimension_count" &&
           kv.key != "gemma-embedding2.rope.dimension_count_swa";
  };
  Result<GgufFile> rot = testing::RewriteModel(*tiny, no_rot, "eg2-rot.gguf");
  REQUIRE(rot.ok());
  s = Embedder::Load(std::string(rot->name())).status();
  CHECK(s.code() == StatusCode::kInvalidFile);
  CHECK(s.message() == std::string(rot->name()) +
                           ": key 'gemma-embedding2.rope.dimension_count_swa' is missing, and its "
                           "default, the 64 rotated dimensions of the global layers, is more than "
                           "the sliding layers' heads (40 wide)");
  no_rot.keep_kv = [](const GgufKv& kv) {
    return kv.key != "gemma-embedding2.rope.dimension_count_swa";
  };
  rot = testing::RewriteModel(*tiny, no_rot, "eg2-rot.gguf");
  REQUIRE(rot.ok());
  Result<gemma_embedding2::Config> c = gemma_embedding2::Config::FromGguf(*rot);
  REQUIRE(c.ok());
  for (const gemma_embedding2::LayerShape& layer : c->layers) CHECK(layer.n_rot == 32);

  // A per-layer array of the wrong length.
  testing::Rewrite r;
  r.keep_kv = [](const GgufKv& kv) { return kv.key != "gemma-embedding2.attention.head_count_kv"; };
  r.add = [](GgufWriter& w) {
    w.SetI32Array("gemma-embedding2.attention.head_count_kv", {2, 2, 1});
  };
  Result<GgufFile> f = testing::RewriteModel(*tiny, r, "eg2-kv.gguf");
  REQUIRE(f.ok());
  s = Embedder::Load(std::string(f->name())).status();
  CHECK(s.code() == StatusCode::kInvalidFile);
  CHECK(s.message().find("head_count_kv' is an array of 3") != std::string::npos);
}

TEST_CASE("a vector that is not finite is an error, never returned", "[embedding2]") {
  // output_norm weights of 3e38 overflow f32 after the final norm: infinities, then NaNs.
  Result<GgufFile> tiny = GgufFile::Open(Tiny2(GgmlType::kF32));
  REQUIRE(tiny.ok());
  testing::Rewrite r;
  r.keep_tensor = [](const GgufTensorInfo& t) { return t.name != "output_norm.weight"; };
  r.add = [](GgufWriter& w) {
    std::vector<uint8_t> bytes(160 * 4);
    const float huge = 3e38f;
    for (size_t i = 0; i < 160; ++i) std::memcpy(&bytes[4 * i], &huge, 4);
    w.AddTensor("output_norm.weight", GgmlType::kF32, {160}, std::move(bytes));
  };
  Result<GgufFile> f = testing::RewriteModel(*tiny, r, "eg2-overflow.gguf");
  REQUIRE(f.ok());
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(std::string(f->name()));
  REQUIRE(e.ok());
  for (bool reference : {false, true}) {
    EmbedOptions options;
    options.reference = reference;
    const Status s = (*e)->Embed({"hello"}, options).status();
    CHECK(s.code() == StatusCode::kNotFinite);
    CHECK(s.message().find("not finite") != std::string::npos);
  }
}

// ---------------------------------------------------------------- an independent oracle

using Vec = std::vector<double>;

// The graph of llama.cpp's src/models/gemma-embedding2.cpp in double precision, straight from
// the file's tensors: no activation rounding, exact GELU, f64 softmax.
class Graph {
 public:
  explicit Graph(const GgufFile& f) : f_(f) {}

  Vec Tensor(const std::string& name) const {
    const GgufTensorInfo* t = f_.FindTensor(name);
    REQUIRE(t != nullptr);
    std::vector<float> row(static_cast<size_t>(t->ne[0]));
    Vec out;
    for (int64_t r = 0; r < (t->n_dims > 1 ? t->ne[1] : 1); ++r) {
      REQUIRE(DequantizeTensorRow(*t, r, row.data()).ok());
      out.insert(out.end(), row.begin(), row.end());
    }
    return out;
  }
  // y = W x for W stored [out][in].
  static Vec Mul(const Vec& w, const Vec& x, size_t offset_rows = 0, size_t rows = 0) {
    const size_t in = x.size(), out = rows ? rows : w.size() / in;
    Vec y(out, 0.0);
    for (size_t o = 0; o < out; ++o) {
      for (size_t i = 0; i < in; ++i) y[o] += w[(offset_rows + o) * in + i] * x[i];
    }
    return y;
  }
  static void RmsNorm(double* x, size_t n, const double* w) {
    double ss = 0;
    for (size_t i = 0; i < n; ++i) ss += x[i] * x[i];
    const double s = 1.0 / std::sqrt(ss / n + 1e-6);
    for (size_t i = 0; i < n; ++i) x[i] = x[i] * s * (w ? w[i] : 1.0);
  }
  static double Gelu(double x) {
    return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * x * (1.0 + 0.044715 * x * x)));
  }
  static void Rope(double* x, int n_rot, int pos, double base) {
    for (int i = 0; i < n_rot / 2; ++i) {
      const double theta = pos * std::pow(base, -2.0 * i / n_rot);
      const double a = x[i], b = x[i + n_rot / 2];
      x[i] = a * std::cos(theta) - b * std::sin(theta);
      x[i + n_rot / 2] = a * std::sin(theta) + b * std::cos(theta);
    }
  }

  // [T][n_embd_out]
  // With `per_layer_inputs` false the per-layer input branch is left out (a control showing
  // the comparison notices a missing part of the graph).
  std::vector<Vec> Run(const gemma_embedding2::Config& c, const std::vector<int32_t>& ids,
                       bool per_layer_inputs = true) const {
    const size_t T = ids.size(), d = c.n_embd, pl = c.n_embd_per_layer;
    const Vec embd = Tensor("token_embd.weight"), plp = Tensor("per_layer_model_proj.weight");
    const Vec pln = Tensor("per_layer_proj_norm.weight");
    std::vector<Vec> x(T), x0(T);
    for (size_t t = 0; t < T; ++t) {
      x[t].assign(embd.begin() + ids[t] * d, embd.begin() + (ids[t] + 1) * d);
      for (double& v : x[t]) v *= std::sqrt(double(d));
      x0[t] = x[t];
    }
    for (int il = 0; il < c.n_layer; ++il) {
      const std::string b = "blk." + std::to_string(il) + ".";
      Layer(c, c.layers[il], b, x);
      // Per-layer input.
      const Vec gate = Tensor(b + "inp_gate.weight"), proj = Tensor(b + "proj.weight");
      const Vec post = Tensor(b + "post_norm.weight"),
                scale = Tensor(b + "layer_output_scale.weight");
      for (size_t t = 0; t < T; ++t) {
        Vec p = Mul(plp, x0[t], il * pl, pl);
        for (double& v : p) v /= std::sqrt(double(d));
        RmsNorm(p.data(), pl, pln.data());
        Vec g = Mul(gate, x[t]);
        for (size_t i = 0; i < pl; ++i) g[i] = Gelu(g[i]) * p[i];
        Vec o = Mul(proj, g);
        RmsNorm(o.data(), d, post.data());
        if (!per_layer_inputs) o.assign(d, 0.0);
        for (size_t i = 0; i < d; ++i) x[t][i] = (x[t][i] + o[i]) * scale[0];
      }
    }
    const Vec norm = Tensor("output_norm.weight"), out = Tensor("output.weight");
    std::vector<Vec> y(T);
    for (size_t t = 0; t < T; ++t) {
      RmsNorm(x[t].data(), d, norm.data());
      y[t] = Mul(out, x[t]);
    }
    return y;
  }

 private:
  void Layer(const gemma_embedding2::Config& c, const gemma_embedding2::LayerShape& s,
             const std::string& b, std::vector<Vec>& x) const {
    const size_t T = x.size(), d = c.n_embd, hd = s.head_dim, nh = c.n_head, nkv = s.n_head_kv;
    const Vec an = Tensor(b + "attn_norm.weight"), wq = Tensor(b + "attn_q.weight");
    const Vec wk = Tensor(b + "attn_k.weight"), wv = Tensor(b + "attn_v.weight");
    const Vec qn = Tensor(b + "attn_q_norm.weight"), kn = Tensor(b + "attn_k_norm.weight");
    const Vec wo = Tensor(b + "attn_output.weight"), pan = Tensor(b + "post_attention_norm.weight");
    std::vector<Vec> q(T), k(T), v(T);
    for (size_t t = 0; t < T; ++t) {
      Vec h = x[t];
      RmsNorm(h.data(), d, an.data());
      q[t] = Mul(wq, h), k[t] = Mul(wk, h), v[t] = Mul(wv, h);
      for (size_t hh = 0; hh < nh; ++hh) {
        RmsNorm(&q[t][hh * hd], hd, qn.data());
        Rope(&q[t][hh * hd], s.n_rot, int(t), s.rope_base);
      }
      for (size_t hh = 0; hh < nkv; ++hh) {
        RmsNorm(&k[t][hh * hd], hd, kn.data());
        Rope(&k[t][hh * hd], s.n_rot, int(t), s.rope_base);
        RmsNorm(&v[t][hh * hd], hd, nullptr);
      }
    }
    const int half = s.sliding ? c.n_swa / 2 : int(T);
    std::vector<Vec> attn_out(T);
    for (size_t t = 0; t < T; ++t) {
      Vec a(nh * hd, 0.0);
      for (size_t hh = 0; hh < nh; ++hh) {
        const size_t g = hh / (nh / nkv);
        Vec w(T, 0.0);
        double max = -1e300, sum = 0;
        for (size_t u = 0; u < T; ++u) {
          if (std::abs(int(t) - int(u)) > half) continue;
          for (size_t i = 0; i < hd; ++i) w[u] += q[t][hh * hd + i] * k[u][g * hd + i];
          max = std::max(max, w[u]);
        }
        for (size_t u = 0; u < T; ++u) {
          w[u] = std::abs(int(t) - int(u)) > half ? 0.0 : std::exp(w[u] - max);
          sum += w[u];
        }
        for (size_t u = 0; u < T; ++u) {
          for (size_t i = 0; i < hd; ++i) a[hh * hd + i] += w[u] / sum * v[u][g * hd + i];
        }
      }
      attn_out[t] = Mul(wo, a);
      RmsNorm(attn_out[t].data(), d, pan.data());
      for (size_t i = 0; i < d; ++i) x[t][i] += attn_out[t][i];
    }
    const Vec fn = Tensor(b + "ffn_norm.weight"), wg = Tensor(b + "ffn_gate.weight");
    const Vec wu = Tensor(b + "ffn_up.weight"), wd = Tensor(b + "ffn_down.weight");
    const Vec pfn = Tensor(b + "post_ffw_norm.weight");
    for (size_t t = 0; t < T; ++t) {
      Vec h = x[t];
      RmsNorm(h.data(), d, fn.data());
      Vec g = Mul(wg, h);
      const Vec u = Mul(wu, h);
      for (size_t i = 0; i < g.size(); ++i) g[i] = Gelu(g[i]) * u[i];
      Vec o = Mul(wd, g);
      RmsNorm(o.data(), d, pfn.data());
      for (size_t i = 0; i < d; ++i) x[t][i] += o[i];
    }
  }

  const GgufFile& f_;
};

double Cosine(const float* a, const Vec& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    ab += a[i] * b[i];
    aa += double(a[i]) * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

TEST_CASE("gemma-embedding2: the reference follows llama.cpp's graph", "[embedding2]") {
  const std::string path = Tiny2(GgmlType::kF32);  // f32 weights: activations stay f32
  Result<GgufFile> f = GgufFile::Open(path);
  REQUIRE(f.ok());
  Result<gemma_embedding2::Config> c = gemma_embedding2::Config::FromGguf(*f);
  REQUIRE(c.ok());
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(path);
  REQUIRE(e.ok());
  // 30 tokens: past the ±8 window of the sliding layers.
  const std::string text = "the quick brown fox jumps over the lazy dog and the cat sleeps on";
  Result<std::vector<int32_t>> ids = (*e)->Tokenize(text, true, true);
  REQUIRE(ids.ok());
  REQUIRE(ids->size() > 20);
  const std::vector<Vec> want = Graph(*f).Run(*c, *ids);
  const std::vector<Vec> control = Graph(*f).Run(*c, *ids, false);
  EmbedOptions options;
  options.reference = true;
  options.pooling = Pooling::kNone;
  options.normalize = false;
  Result<std::vector<Embedding>> got = (*e)->Embed({text}, options);
  REQUIRE(got.ok());
  REQUIRE(got->front().rows == int(ids->size()));
  REQUIRE(got->front().dim == 96);
  double min = 1, control_min = 1, max_length = 0;
  for (size_t t = 0; t < want.size(); ++t) {
    const float* row = &got->front().values[t * 96];
    min = std::min(min, Cosine(row, want[t]));
    control_min = std::min(control_min, Cosine(row, control[t]));
    // Cosine does not see a row's length (a scale after the last norm, say): compared apart.
    double got_sq = 0, want_sq = 0;
    for (int i = 0; i < 96; ++i) {
      got_sq += double(row[i]) * row[i];
      want_sq += want[t][i] * want[t][i];
    }
    max_length = std::max(max_length, std::abs(std::sqrt(got_sq / want_sq) - 1));
  }
  INFO("minimum per-token cosine " << min << ", without per-layer inputs " << control_min
                                   << ", largest length difference " << max_length);
  // The reference rounds K/V (and Q under 64 tokens) to f16 and takes GELU from an f16 table,
  // as llama.cpp does; everything else is f32.
  CHECK(min > 0.99999);
  CHECK(max_length < 1e-3);
  CHECK(control_min < 0.99);
}

// Every layer multiplies its own rows of the bf16 per_layer_model_proj; a value that is not tame
// (1e-30) in the last layer's rows alone must be found by that layer's products, not vouched for
// by the first layer's: each layer's view checks its own rows (no shared Bf16Range), and the
// SIMD forward pass gives the reference's bits on every target, twice (the second time with
// every matrix's range learnt).
TEST_CASE("gemma-embedding2: a wild bf16 value in one layer's rows of the per-layer projection",
          "[embedding2]") {
  Result<GgufFile> src = GgufFile::Open(Tiny2(GgmlType::kBF16));
  REQUIRE(src.ok());
  {
    Result<gemma_embedding2::Config> c = gemma_embedding2::Config::FromGguf(*src);
    REQUIRE(c.ok());
    Result<gemma_embedding2::Weights> w = gemma_embedding2::Weights::FromGguf(*src, *c);
    REQUIRE(w.ok());
    REQUIRE(w->per_layer_model_proj.bf16_range != nullptr);
    for (int il = 0; il < c->n_layer; ++il) {
      REQUIRE(w->PerLayerProj(il, c->n_embd_per_layer).bf16_range == nullptr);
    }
  }
  const GgufTensorInfo* t = src->FindTensor("per_layer_model_proj.weight");
  REQUIRE(t != nullptr);
  REQUIRE(t->type == GgmlType::kBF16);
  testing::Rewrite r;
  r.keep_tensor = [](const GgufTensorInfo& x) { return x.name != "per_layer_model_proj.weight"; };
  r.add = [&](GgufWriter& w) {
    std::vector<uint8_t> bytes(t->data, t->data + t->n_bytes);
    const uint16_t wild = F32ToBf16(1e-30f);
    std::memcpy(bytes.data() + (t->n_rows() - 1) * t->row_bytes() + 6, &wild, 2);
    w.AddTensor(std::string(t->name), t->type, {t->ne[0], t->ne[1]}, std::move(bytes));
  };
  Result<GgufFile> f = testing::RewriteModel(*src, r, "tiny2-bf16-wild-last-layer.gguf");
  REQUIRE(f.ok());
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(std::string(f->name()));
  REQUIRE(e.ok());
  EmbedOptions reference, fast;
  reference.reference = true;
  reference.pooling = fast.pooling = Pooling::kNone;
  const std::vector<std::string> texts = {"a", "Hello, world! A few more words for the pass."};
  Result<std::vector<Embedding>> want = (*e)->Embed(texts, reference);
  REQUIRE(want.ok());
  for (const std::string& target : testing::SimdTargetNames()) {
    const Status s = SetSimdTarget(target);
    if (s.code() == StatusCode::kUnsupported) continue;  // not this CPU's
    REQUIRE(s.ok());
    for (int pass = 0; pass < 2; ++pass) {  // the second with every range learnt
      Result<std::vector<Embedding>> got = (*e)->Embed(texts, fast);
      REQUIRE(got.ok());
      for (size_t i = 0; i < texts.size(); ++i) {
        INFO("target " << target << ", pass " << pass << ", text " << i);
        REQUIRE((*got)[i].values.size() == (*want)[i].values.size());
        REQUIRE(std::memcmp((*got)[i].values.data(), (*want)[i].values.data(),
                            (*want)[i].values.size() * sizeof(float)) == 0);
      }
    }
  }
  REQUIRE(SetSimdTarget("best").ok());
}

TEST_CASE("gemma-embedding2: the SIMD forward pass equals the reference on every target",
          "[embedding2]") {
  const std::string long_text =
      "Sliding windows with per-layer head sizes, partial rotations and grouped queries: a text "
      "long enough that the tiny model sees more than sixty-four tokens and its window.";
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kF16, GgmlType::kBF16, GgmlType::kF32}) {
    Result<std::unique_ptr<Embedder>> e = Embedder::Load(Tiny2(type));
    REQUIRE(e.ok());
    EmbedOptions reference, fast;
    reference.reference = true;
    reference.pooling = fast.pooling = Pooling::kNone;
    const std::vector<std::string> texts = {"a", "Hello, world!", long_text};
    Result<std::vector<Embedding>> want = (*e)->Embed(texts, reference);
    REQUIRE(want.ok());
    REQUIRE((*want)[2].n_tokens >= 64);
    const std::vector<std::string> targets = testing::SimdTargetNames();
    for (const std::string& target : targets) {
      const Status s = SetSimdTarget(target);
      if (s.code() == StatusCode::kUnsupported) continue;  // not this CPU's
      REQUIRE(s.ok());
      Result<std::vector<Embedding>> got = (*e)->Embed(texts, fast);
      REQUIRE(got.ok());
      for (size_t i = 0; i < texts.size(); ++i) {
        INFO(GetGgmlType(type).name << " target " << target << ", text " << i);
        REQUIRE((*got)[i].values.size() == (*want)[i].values.size());
        REQUIRE(std::memcmp((*got)[i].values.data(), (*want)[i].values.data(),
                            (*want)[i].values.size() * sizeof(float)) == 0);
      }
    }
    REQUIRE(SetSimdTarget("best").ok());
  }
}

}  // namespace
}  // namespace ggufembed
