// Models for the fuzz harnesses (see fuzz_models.h), written with the synth code.
#include "fuzz_models.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "synth/gguf_writer.h"
#include "synth/synth_fill.h"
#include "synth/synth_tokenizer.h"
#include "synth/synth_vocab.h"

namespace ggufembed::fuzz {

namespace {
[[noreturn]] void Die(const Status& s) {
  std::fprintf(stderr, "fuzz model: %s\n", s.message().c_str());
  std::abort();
}
}  // namespace

std::string Input::Until(uint8_t stop) {
  size_t i = 0;
  while (i < n_ && p_[i] != stop) ++i;
  std::string s(reinterpret_cast<const char*>(p_), i);
  const size_t used = i < n_ ? i + 1 : i;
  p_ += used;
  n_ -= used;
  return s;
}

std::vector<uint8_t> SynthModelBytes(const SynthOptions& options) {
  char path[] = "/tmp/ggufembed-fuzz-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) std::abort();
  close(fd);
  if (Status s = WriteSynthModel(options, path); !s.ok()) Die(s);
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  std::remove(path);
  return bytes;
}

std::vector<uint8_t> MicroModelBytes(const MicroOptions& options) {
  constexpr uint32_t kEmbd = 32, kHead = 2, kHeadKv = 1, kHeadDim = 16, kFf = 32, kDense = 64;
  Result<SynthTokenizer> t = MakeSynthTokenizer(options.tokenizer, 512, "");
  if (!t.ok()) Die(t.status());
  SynthVocab& v = t->vocab;
  if (!options.byte_tokens) {  // ids 5..260; the special ids before them stay as they are
    const auto first = kSynthFirstByteId, last = kSynthFirstByteId + 256;
    v.tokens.erase(v.tokens.begin() + first, v.tokens.begin() + last);
    v.scores.erase(v.scores.begin() + first, v.scores.begin() + last);
    v.types.erase(v.types.begin() + first, v.types.begin() + last);
  }
  const int64_t kVocab = options.byte_tokens ? 320 : 128;
  v.tokens.resize(kVocab);
  v.scores.resize(kVocab);
  v.types.resize(kVocab);
  if (!t->merges.empty()) t->merges = MakeSynthMerges(t->vocab);

  const GgmlType wt = options.weight_type;
  const std::string p = "gemma-embedding.";
  GgufWriter w;
  w.SetString("general.architecture", "gemma-embedding");
  w.SetString("general.name", "fuzz micro");
  w.SetU32("general.file_type", FileType(wt));
  w.SetU32(p + "context_length", 64);
  w.SetU32(p + "embedding_length", kEmbd);
  w.SetU32(p + "block_count", 1);
  w.SetU32(p + "feed_forward_length", kFf);
  w.SetU32(p + "attention.head_count", kHead);
  w.SetU32(p + "attention.head_count_kv", kHeadKv);
  w.SetU32(p + "attention.key_length", kHeadDim);
  w.SetU32(p + "attention.value_length", kHeadDim);
  w.SetF32(p + "attention.layer_norm_rms_epsilon", 1e-6f);
  w.SetU32(p + "attention.sliding_window", 8);
  w.SetF32(p + "rope.freq_base", 1e6f);
  w.SetF32(p + "rope.freq_base_swa", 1e4f);
  w.SetU32(p + "pooling_type", 1);
  if (options.dense) {
    w.SetU32(p + "dense_2_feat_in", kEmbd);
    w.SetU32(p + "dense_2_feat_out", kDense);
    w.SetU32(p + "dense_3_feat_in", kDense);
    w.SetU32(p + "dense_3_feat_out", kEmbd);
  }
  WriteSynthTokenizer(*t, w);

  const uint64_t seed = options.seed;
  auto matrix = [&](const std::string& name, int64_t in, int64_t out) {
    w.AddTensor(name, wt, {in, out}, MatrixFill(TensorSeed(seed, name), wt, in, 1 / std::sqrt(in)));
  };
  auto norm = [&](const std::string& name, int64_t n) {
    w.AddTensor(name, GgmlType::kF32, {n}, VectorFill(TensorSeed(seed, name), 1.0f, 0.05f));
  };
  const int64_t d = kEmbd, q = kHead * kHeadDim, kv = kHeadKv * kHeadDim;
  matrix("token_embd.weight", d, kVocab);
  norm("blk.0.attn_norm.weight", d);
  matrix("blk.0.attn_q.weight", d, q);
  matrix("blk.0.attn_k.weight", d, kv);
  matrix("blk.0.attn_v.weight", d, kv);
  norm("blk.0.attn_q_norm.weight", kHeadDim);
  norm("blk.0.attn_k_norm.weight", kHeadDim);
  matrix("blk.0.attn_output.weight", q, d);
  norm("blk.0.post_attention_norm.weight", d);
  norm("blk.0.ffn_norm.weight", d);
  matrix("blk.0.ffn_gate.weight", d, kFf);
  matrix("blk.0.ffn_up.weight", d, kFf);
  matrix("blk.0.ffn_down.weight", kFf, d);
  norm("blk.0.post_ffw_norm.weight", d);
  norm("output_norm.weight", d);
  if (options.dense) {
    matrix("dense_2.weight", d, kDense);
    matrix("dense_3.weight", kDense, d);
  }
  Result<std::vector<uint8_t>> bytes = w.WriteToBuffer();
  if (!bytes.ok()) Die(bytes.status());
  return std::move(*bytes);
}

}  // namespace ggufembed::fuzz
