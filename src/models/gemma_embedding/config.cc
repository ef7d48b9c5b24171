// Reads gemma-embedding hyperparameters with llama.cpp's keys and defaults, and checks them.
#include "models/gemma_embedding/config.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>

#include "models/hparams.h"
#include "text/vocabulary.h"
#include "util/error.h"

namespace ggufembed::gemma_embedding {

namespace {

// Sizes of the transformer: context, width, layers, heads.
Status ReadShape(const GgufFile& f, const std::string& p, Config& c) {
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
  // Every head's width times the heads (the queries' width) is at most kMaxSize: the forward pass
  // takes those products as ints.
  const int max_width = kMaxSize / c.n_head;
  GGUFEMBED_ASSIGN_OR_RETURN(
      c.head_dim, GetSize(f, p + "attention.key_length", 1, max_width, false, c.n_embd / c.n_head));
  GGUFEMBED_ASSIGN_OR_RETURN(c.head_dim_v, GetSize(f, p + "attention.value_length", 1, max_width,
                                                   false, c.n_embd / c.n_head));
  if (c.head_dim < 1 || c.head_dim_v < 1) {
    return Error(StatusCode::kInvalidFile, "%s: heads of width 0", f.name().c_str());
  }
  return OkStatus();
}

// Rotary embeddings, the sliding window and the norms' epsilon.
Status ReadPositions(const GgufFile& f, const std::string& p, Config& c) {
  GGUFEMBED_ASSIGN_OR_RETURN(
      c.n_rot, GetSize(f, p + "rope.dimension_count", 0, c.head_dim, false, c.head_dim));
  if (c.n_rot % 2 != 0) {
    return Error(StatusCode::kInvalidFile, "%s: rope.dimension_count %d is odd", f.name().c_str(),
                 c.n_rot);
  }
  GGUFEMBED_ASSIGN_OR_RETURN(c.n_swa,
                             GetSize(f, p + "attention.sliding_window", 0, kMaxSize, true, 0));
  GGUFEMBED_ASSIGN_OR_RETURN(c.sliding, GetSlidingLayers(f, p, c.n_layer, 6));  // llama.cpp's 6
  GGUFEMBED_ASSIGN_OR_RETURN(c.rms_eps, GetPositiveFloat(f, p + "attention.layer_norm_rms_epsilon",
                                                         true, 0, kMaxNormEpsilon));
  GGUFEMBED_ASSIGN_OR_RETURN(c.rope_base, GetPositiveFloat(f, p + "rope.freq_base", false, 1e4));
  GGUFEMBED_ASSIGN_OR_RETURN(c.rope_base_swa,
                             GetPositiveFloat(f, p + "rope.freq_base_swa", false, 1e4));
  // RoPE scaling changes positions' frequencies; EmbeddingGemma has none.
  GGUFEMBED_RETURN_IF_ERROR(CheckNoRopeScaling(f, p));
  return OkStatus();
}

// Pooling, the optional dense projections, the vocabulary size.
Status ReadHead(const GgufFile& f, const std::string& p, Config& c) {
  GGUFEMBED_ASSIGN_OR_RETURN(c.pooling, GetPooling(f, p, &c.warnings));

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

  GGUFEMBED_ASSIGN_OR_RETURN(c.n_vocab, VocabularySize(f));

  if (dense_2 == nullptr) {
    c.warnings.push_back(
        f.name() +
        ": no dense_2/dense_3 projections in this file, so vectors are the pooled hidden states, "
        "not the sentence-transformers embedding; convert the model with llama.cpp's "
        "--sentence-transformers-dense-modules to get them");
  }
  return OkStatus();
}

}  // namespace

Result<Config> Config::FromGguf(const GgufFile& f) {
  Config c;
  GGUFEMBED_ASSIGN_OR_RETURN(std::string_view arch, f.GetString("general.architecture"));
  c.architecture = std::string(arch);  // "gemma-embedding": LoadModel chose this reader by it
  if (const GgufKv* kv = f.FindKv("general.name"); kv && kv->value.type == GgufType::kString) {
    c.name = std::string(kv->value.AsString());
  }
  const std::string p = c.architecture + ".";
  GGUFEMBED_RETURN_IF_ERROR(ReadShape(f, p, c));
  GGUFEMBED_RETURN_IF_ERROR(ReadPositions(f, p, c));
  GGUFEMBED_RETURN_IF_ERROR(ReadHead(f, p, c));
  if (c.n_swa == 257) {
    c.warnings.push_back(f.name() +
                         ": attention.sliding_window is 257; EmbeddingGemma uses 512 (files "
                         "converted 2025-09-04..08 stored 257 by mistake), which changes "
                         "vectors of inputs longer than 129 tokens");
  }
  return c;
}

}  // namespace ggufembed::gemma_embedding
