// The tokenizer of a synthetic model: a synthetic vocabulary or Gemma's real one (from a Hugging
// Face tokenizer.json), written as SentencePiece ("llama") or BPE ("gemma4") GGUF keys.
#ifndef GGUFEMBED_SYNTH_SYNTH_TOKENIZER_H_
#define GGUFEMBED_SYNTH_SYNTH_TOKENIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ggufembed/status.h"
#include "synth/gguf_writer.h"
#include "synth/synth_vocab.h"

namespace ggufembed {

struct SynthTokenizer {
  std::string model;                                // tokenizer.ggml.model: "llama" or "gemma4"
  SynthVocab vocab;                                 // tokens, scores ("llama"), types
  std::vector<std::string> merges;                  // "gemma4"
  int32_t bos_id, eos_id, unk_id, pad_id, mask_id;  // -1 when absent
};

// `model` "llama" or "gemma4"; with `vocab_json` empty, MakeSynthVocab(n_vocab) (and its merges
// for gemma4), else the vocabulary of that tokenizer.json (ReadHfTokenizerJson).
Result<SynthTokenizer> MakeSynthTokenizer(const std::string& model, uint32_t n_vocab,
                                          const std::string& vocab_json);

// Writes every tokenizer.ggml.* key as llama.cpp's converter does for that model (BOS and EOS
// added, no space prefix).
void WriteSynthTokenizer(const SynthTokenizer& t, GgufWriter& w);

}  // namespace ggufembed

#endif  // GGUFEMBED_SYNTH_SYNTH_TOKENIZER_H_
