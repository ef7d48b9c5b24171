// Reads gemma-embedding2 hyperparameters (llama.cpp's load_hparams + the architecture's
// load_arch_hparams) and checks them; errors name the key and the value.
#include "models/gemma_embedding2/config.h"

#include <algorithm>
#include <cinttypes>

#include "models/hparams.h"
#include "text/vocabulary.h"
#include "util/error.h"

namespace ggufembed::gemma_embedding2 {
namespace {

// Sizes shared by every layer.
Status ReadShape(const GgufFile& f, const std::string& p, Config& c) {
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_ctx_train, GetSize(f, p + "context_length", 1, kMaxSize, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_embd, GetSize(f, p + "embedding_length", 1, kMaxSize, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_embd_out,
                             GetSize(f, p + "embedding_length_out", 1, kMaxSize, false, c.n_embd));
  GGUFEMBED_ASSIGN_OR_RETURN(
      c.n_embd_per_layer, GetSize(f, p + "embedding_length_per_layer_input", 1, kMaxSize, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_layer, GetSize(f, p + "block_count", 1, 4096, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_ff, GetSize(f, p + "feed_forward_length", 1, kMaxSize, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_head, GetSize(f, p + "attention.head_count", 1, 4096, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_swa,
                             GetSize(f, p + "attention.sliding_window", 0, kMaxSize, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.rms_eps, GetPositiveFloat(f, p + "attention.layer_norm_rms_epsilon",
                                                         true, 0, kMaxNormEpsilon));
  return OkStatus();
}

// The per-layer attention shapes: KV heads, head sizes, rotated dimensions, RoPE bases.
Status ReadLayers(const GgufFile& f, const std::string& p, Config& c) {
  // llama.cpp's default period for this architecture is 6.
  GGUFEMBED_ASSIGN_OR_RETURN(const std::vector<int> sliding, GetSlidingLayers(f, p, c.n_layer, 6));
  GGUFEMBED_ASSIGN_OR_RETURN(
      const std::vector<int> kv_heads,
      GetPerLayer(f, p + "attention.head_count_kv", c.n_layer, 1, c.n_head, c.n_head));
  const int fallback = c.n_embd / c.n_head;
  // A head's width times the heads is at most kMaxSize (the forward pass takes it as an int).
  const int w = kMaxSize / c.n_head;
  GGUFEMBED_ASSIGN_OR_RETURN(const int k_full,
                             GetSize(f, p + "attention.key_length", 1, w, false, fallback));
  GGUFEMBED_ASSIGN_OR_RETURN(const int v_full,
                             GetSize(f, p + "attention.value_length", 1, w, false, fallback));
  GGUFEMBED_ASSIGN_OR_RETURN(const int k_swa,
                             GetSize(f, p + "attention.key_length_swa", 1, w, false, k_full));
  GGUFEMBED_ASSIGN_OR_RETURN(const int v_swa,
                             GetSize(f, p + "attention.value_length_swa", 1, w, false, v_full));
  GGUFEMBED_ASSIGN_OR_RETURN(const int rot_full,
                             GetSize(f, p + "rope.dimension_count", 0, k_full, false, k_full));
  // llama.cpp's default for the sliding layers is the global layers' count, which a narrower
  // sliding head cannot take (ggml asserts): refused by name rather than rotated some other way.
  GGUFEMBED_ASSIGN_OR_RETURN(const int rot_swa,
                             GetSize(f, p + "rope.dimension_count_swa", 0, k_swa, false, rot_full));
  if (rot_swa > k_swa) {
    return Error(StatusCode::kInvalidFile,
                 "%s: key '%srope.dimension_count_swa' is missing, and its default, the %d "
                 "rotated dimensions of the global layers, is more than the sliding layers' "
                 "heads (%d wide)",
                 f.name().c_str(), p.c_str(), rot_full, k_swa);
  }
  GGUFEMBED_ASSIGN_OR_RETURN(const float base_full,
                             GetPositiveFloat(f, p + "rope.freq_base", false, 1e4));
  GGUFEMBED_ASSIGN_OR_RETURN(const float base_swa,
                             GetPositiveFloat(f, p + "rope.freq_base_swa", false, 1e4));
  if (rot_full % 2 != 0 || rot_swa % 2 != 0) {
    return Error(StatusCode::kInvalidFile, "%s: rotated dimensions %d / %d must be even",
                 f.name().c_str(), rot_full, rot_swa);
  }
  for (int il = 0; il < c.n_layer; ++il) {
    const bool s = sliding[il] != 0;
    if (c.n_head % kv_heads[il] != 0) {
      return Error(StatusCode::kInvalidFile,
                   "%s: attention.head_count %d is not a multiple of attention.head_count_kv %d "
                   "(layer %d)",
                   f.name().c_str(), c.n_head, kv_heads[il], il);
    }
    c.layers.push_back(LayerShape{s, kv_heads[il], s ? k_swa : k_full, s ? v_swa : v_full,
                                  s ? rot_swa : rot_full, s ? base_swa : base_full});
  }
  return OkStatus();
}

// RoPE scaling, pooling and the vocabulary size.
Status ReadRest(const GgufFile& f, const std::string& p, Config& c) {
  GGUFEMBED_RETURN_IF_ERROR(CheckNoRopeScaling(f, p));
  GGUFEMBED_ASSIGN_OR_RETURN(c.pooling, GetPooling(f, p, &c.warnings));
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_vocab, VocabularySize(f));
  return OkStatus();
}

}  // namespace

int Config::max_head_dim() const {
  int m = 0;
  for (const LayerShape& l : layers) m = std::max(m, l.head_dim);
  return m;
}
int Config::max_head_dim_v() const {
  int m = 0;
  for (const LayerShape& l : layers) m = std::max(m, l.head_dim_v);
  return m;
}
int Config::max_q_dim() const {
  int m = 0;
  for (const LayerShape& l : layers) m = std::max(m, n_head * std::max(l.head_dim, l.head_dim_v));
  return m;
}
int Config::max_kv_dim() const {
  int m = 0;
  for (const LayerShape& l : layers)
    m = std::max(m, l.n_head_kv * std::max(l.head_dim, l.head_dim_v));
  return m;
}

Result<Config> Config::FromGguf(const GgufFile& f) {
  Config c;
  GGUFEMBED_ASSIGN_OR_RETURN(std::string_view arch, f.GetString("general.architecture"));
  c.architecture = std::string(arch);
  if (const GgufKv* kv = f.FindKv("general.name"); kv && kv->value.type == GgufType::kString) {
    c.name = std::string(kv->value.AsString());
  }
  const std::string p = c.architecture + ".";
  GGUFEMBED_RETURN_IF_ERROR(ReadShape(f, p, c));
  GGUFEMBED_RETURN_IF_ERROR(ReadLayers(f, p, c));
  GGUFEMBED_RETURN_IF_ERROR(ReadRest(f, p, c));
  return c;
}

}  // namespace ggufembed::gemma_embedding2
