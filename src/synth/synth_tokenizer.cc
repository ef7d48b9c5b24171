// The tokenizer keys of synthetic models (see synth_tokenizer.h).
#include "synth/synth_tokenizer.h"

#include "synth/hf_vocab.h"
#include "util/error.h"

namespace ggufembed {

Result<SynthTokenizer> MakeSynthTokenizer(const std::string& model, uint32_t n_vocab,
                                          const std::string& vocab_json) {
  if (model != "llama" && model != "gemma4") {
    return Error(StatusCode::kInvalidArgument, "tokenizer '%s' is not one of llama, gemma4",
                 model.c_str());
  }
  SynthTokenizer t{model, {}, {}, kSynthBosId, kSynthEosId, kSynthUnkId, kSynthPadId, kSynthMaskId};
  if (vocab_json.empty()) {
    t.vocab = MakeSynthVocab(n_vocab);
    if (model == "gemma4") t.merges = MakeSynthMerges(t.vocab);
    return t;
  }
  GGUFEMBED_ASSIGN_OR_RETURN(
      HfVocab hf, ReadHfTokenizerJson(vocab_json, model == "gemma4" ? HfVocabModel::kGemma4
                                                                    : HfVocabModel::kLlama));
  t.vocab = std::move(hf.vocab);
  t.merges = std::move(hf.merges);
  t.bos_id = hf.bos_id;
  t.eos_id = hf.eos_id;
  t.unk_id = hf.unk_id;
  t.pad_id = hf.pad_id;
  t.mask_id = -1;
  return t;
}

void WriteSynthTokenizer(const SynthTokenizer& t, GgufWriter& w) {
  const bool bpe = t.model == "gemma4";
  w.SetString("tokenizer.ggml.model", t.model);
  if (!bpe) w.SetString("tokenizer.ggml.pre", "default");
  w.SetStringArray("tokenizer.ggml.tokens", t.vocab.tokens);
  w.SetF32Array("tokenizer.ggml.scores",
                bpe ? std::vector<float>(t.vocab.tokens.size(), -1000.0f) : t.vocab.scores);
  w.SetI32Array("tokenizer.ggml.token_type", t.vocab.types);
  if (bpe) w.SetStringArray("tokenizer.ggml.merges", t.merges);
  const std::pair<const char*, int32_t> ids[] = {{"bos", t.bos_id},
                                                 {"eos", t.eos_id},
                                                 {"unknown", t.unk_id},
                                                 {"padding", t.pad_id},
                                                 {"mask", t.mask_id}};
  for (const auto& [name, id] : ids) {
    if (id >= 0) w.SetU32(std::string("tokenizer.ggml.") + name + "_token_id", uint32_t(id));
  }
  w.SetBool("tokenizer.ggml.add_bos_token", true);
  w.SetBool("tokenizer.ggml.add_eos_token", true);
  w.SetBool("tokenizer.ggml.add_space_prefix", false);
}

}  // namespace ggufembed
