// Reads gemma-embedding hyperparameters with llama.cpp's keys and defaults, and checks them.
#include "models/gemma_embedding/config.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>

namespace ggufembed {
namespace {

constexpr int kMaxSize = 1 << 24;  // any dimension or count above this is a corrupt file

// An integer key that may also be a per-layer array whose entries are all equal.
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

}  // namespace

const char* PoolingName(Pooling pooling) {
  switch (pooling) {
    case Pooling::kNone: return "none";
    case Pooling::kMean: return "mean";
    case Pooling::kCls: return "cls";
    case Pooling::kLast: return "last";
  }
  return "none";
}

Result<Pooling> ParsePooling(std::string_view name) {
  for (Pooling p : {Pooling::kNone, Pooling::kMean, Pooling::kCls, Pooling::kLast}) {
    if (name == PoolingName(p)) return p;
  }
  return Error(StatusCode::kInvalidArgument, "pooling '%.*s' is not one of mean, cls, last, none",
               static_cast<int>(name.size()), name.data());
}

Result<ModelConfig> ModelConfig::FromGguf(const GgufFile& f) {
  ModelConfig c;
  GGUFEMBED_ASSIGN_OR_RETURN(std::string_view arch, f.GetString("general.architecture"));
  c.architecture = std::string(arch);
  if (c.architecture != "gemma-embedding") {
    return Error(StatusCode::kUnsupported,
                 "%s: architecture '%s' is not supported (supported: gemma-embedding)",
                 f.name().c_str(), c.architecture.c_str());
  }
  if (const GgufKv* kv = f.FindKv("general.name"); kv && kv->value.type == GgufType::kString) {
    c.name = std::string(kv->value.AsString());
  }
  const std::string p = c.architecture + ".";
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_ctx_train, GetSize(f, p + "context_length", 1, kMaxSize, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_embd, GetSize(f, p + "embedding_length", 1, kMaxSize, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_layer, GetSize(f, p + "block_count", 1, 4096, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_ff, GetSize(f, p + "feed_forward_length", 1, kMaxSize, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_head, GetSize(f, p + "attention.head_count", 1, 4096, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(
      c.n_head_kv, GetSize(f, p + "attention.head_count_kv", 1, c.n_head, false, c.n_head));
  if (c.n_head % c.n_head_kv != 0) {
    return Error(StatusCode::kInvalidFile,
                 "%s: attention.head_count %d is not a multiple of attention.head_count_kv %d",
                 f.name().c_str(), c.n_head, c.n_head_kv);
  }
  GGUFEMBED_ASSIGN_OR_RETURN(c.head_dim, GetSize(f, p + "attention.key_length", 1, kMaxSize,
                                                 false, c.n_embd / c.n_head));
  GGUFEMBED_ASSIGN_OR_RETURN(c.head_dim_v, GetSize(f, p + "attention.value_length", 1, kMaxSize,
                                                   false, c.n_embd / c.n_head));
  if (c.head_dim < 1 || c.head_dim_v < 1) {
    return Error(StatusCode::kInvalidFile, "%s: heads of width 0", f.name().c_str());
  }
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_rot, GetSize(f, p + "rope.dimension_count", 0, c.head_dim, false,
                                              c.head_dim));
  if (c.n_rot % 2 != 0) {
    return Error(StatusCode::kInvalidFile, "%s: rope.dimension_count %d is odd",
                 f.name().c_str(), c.n_rot);
  }
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_swa, GetSize(f, p + "attention.sliding_window", 0, kMaxSize,
                                              true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.swa_pattern, GetSize(f, p + "attention.sliding_window_pattern", 0,
                                                    4096, false, 6));
  GGUFEMBED_ASSIGN_OR_RETURN(c.rms_eps,
                             GetPositiveFloat(f, p + "attention.layer_norm_rms_epsilon", true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.rope_base, GetPositiveFloat(f, p + "rope.freq_base", false, 1e4));
  GGUFEMBED_ASSIGN_OR_RETURN(c.rope_base_swa,
                             GetPositiveFloat(f, p + "rope.freq_base_swa", false, 1e4));
  // RoPE scaling changes positions' frequencies; EmbeddingGemma has none.
  if (const GgufKv* kv = f.FindKv(p + "rope.scaling.type")) {
    const std::string_view type =
        kv->value.type == GgufType::kString ? kv->value.AsString() : std::string_view("?");
    if (type != "none") {
      return Error(StatusCode::kUnsupported, "%s: rope.scaling.type '%.*s' is not supported",
                   f.name().c_str(), static_cast<int>(type.size()), type.data());
    }
  }
  GGUFEMBED_ASSIGN_OR_RETURN(double factor, f.GetFloatOr(p + "rope.scaling.factor", 0.0));
  if (factor != 0.0 && factor != 1.0) {
    return Error(StatusCode::kUnsupported, "%s: rope.scaling.factor %g is not supported",
                 f.name().c_str(), factor);
  }
  GGUFEMBED_ASSIGN_OR_RETURN(int pooling, GetSize(f, p + "pooling_type", 0, 4, false, 1));
  if (pooling == 4) {
    return Error(StatusCode::kUnsupported,
                 "%s: pooling_type 4 (rank, a reranker head) is not supported", f.name().c_str());
  }
  c.pooling = static_cast<Pooling>(pooling);

  const GgufTensorInfo* dense_2 = f.FindTensor("dense_2.weight");
  const GgufTensorInfo* dense_3 = f.FindTensor("dense_3.weight");
  if ((dense_2 == nullptr) != (dense_3 == nullptr)) {
    return Error(StatusCode::kInvalidFile, "%s: '%s' is present without '%s'", f.name().c_str(),
                 dense_2 ? "dense_2.weight" : "dense_3.weight",
                 dense_2 ? "dense_3.weight" : "dense_2.weight");
  }
  c.dense_dim = dense_2 ? static_cast<int>(std::min<int64_t>(dense_2->ne[1], kMaxSize + 1)) : 0;
  // The converter's feature sizes, when written, must agree with the model width.
  for (const char* key : {"dense_2_feat_in", "dense_3_feat_out"}) {
    GGUFEMBED_ASSIGN_OR_RETURN(uint64_t v, f.GetUintOr(p + key, 0));
    if (v != 0 && v != static_cast<uint64_t>(c.n_embd)) {
      return Error(StatusCode::kInvalidFile, "%s: %s%s is %" PRIu64 ", expected %d",
                   f.name().c_str(), p.c_str(), key, v, c.n_embd);
    }
  }

  GGUFEMBED_ASSIGN_OR_RETURN(GgufValue tokens, f.GetArray("tokenizer.ggml.tokens"));
  if (tokens.count == 0 || tokens.count > static_cast<uint64_t>(kMaxSize)) {
    return Error(StatusCode::kInvalidFile, "%s: tokenizer.ggml.tokens has %" PRIu64 " entries",
                 f.name().c_str(), tokens.count);
  }
  c.n_vocab = static_cast<int>(tokens.count);

  if (dense_2 == nullptr) {
    c.warnings.push_back(
        f.name() +
        ": no dense_2/dense_3 projections in this file, so vectors are the pooled hidden states, "
        "not the sentence-transformers embedding; convert the model with llama.cpp's "
        "--sentence-transformers-dense-modules to get them");
  }
  if (c.n_swa == 257) {
    c.warnings.push_back(f.name() +
                         ": attention.sliding_window is 257; EmbeddingGemma uses 512 (files "
                         "converted 2025-09-04..08 stored 257 by mistake), which changes "
                         "vectors of inputs longer than 129 tokens");
  }
  return c;
}

}  // namespace ggufembed
