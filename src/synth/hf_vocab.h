// Reads a Hugging Face tokenizer.json (byte-fallback BPE, as Gemma's) into GGUF vocabulary arrays.
#ifndef GGUFEMBED_SYNTH_HF_VOCAB_H_
#define GGUFEMBED_SYNTH_HF_VOCAB_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ggufembed/status.h"
#include "synth/synth_vocab.h"

namespace ggufembed {

// The GGUF tokenizer model to produce (`tokenizer.ggml.model`).
enum class HfVocabModel {
  // "gemma4": BPE as llama.cpp's converter writes it for Gemma 4 (Gemma4Model.set_vocab through
  // gguf-py's LlamaHfVocab): every score -1000, and the merges.
  kGemma4,
  // "llama": SentencePiece, as EmbeddingGemma v1 GGUFs carry it: scores derived from the merge
  // ranks (see ReadHfTokenizerJson), no merges.
  kLlama,
};

// "gemma4" or "llama".
const char* HfVocabModelName(HfVocabModel model);

struct HfVocab {
  std::string model;  // tokenizer.ggml.model: "gemma4" or "llama"
  // tokens (ids 0..N-1), scores and types (TokenType), as MakeSynthVocab gives them.
  SynthVocab vocab;
  // tokenizer.ggml.merges: "left right" in file order ("gemma4" only; empty for "llama").
  std::vector<std::string> merges;
  // Ids of the added tokens "<bos>", "<eos>", "<unk>" and "<pad>"; -1 when absent.
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
};

// Reads `path`, a tokenizer.json with `model.type` "BPE", `model.byte_fallback` true,
// `model.vocab` {piece: id}, `model.merges` (["a b", ...] or [["a", "b"], ...]) and
// `added_tokens` [{id, content, special}, ...]. The tokens are the pieces in id order: there are
// (largest id + 1) of them over the vocab and the added tokens, and a missing id is an error, as
// are two tokens with one id or one text, an added token whose text differs from the vocab's
// piece of its id, and a merge whose parts or result are not tokens. Types: BYTE for "<0xXX>",
// else CONTROL for added tokens marked special, USER_DEFINED for the other added tokens, NORMAL
// for the rest. Errors are kIoError (reading) or kInvalidArgument / kUnsupported naming the file
// and the JSON path of the problem ("model.merges[12]").
//
// The SentencePiece scores of kLlama are an approximation: the real ones live in Gemma's
// tokenizer.model, which is not available offline. A piece produced by merge rank r scores -r
// (the first merge that produces it), so SentencePiece, which merges the highest-scoring pair
// first, picks the merges BPE's rank order picks in the common case; it can differ where a
// piece is produced by several merges of different ranks. Added tokens score 0; byte pieces and
// pieces no merge produces (single characters) score -1e9, below every merge.
Result<HfVocab> ReadHfTokenizerJson(const std::string& path, HfVocabModel model);

// The same from the text of a tokenizer.json; `name` prefixes the error messages.
Result<HfVocab> HfVocabFromJson(std::string_view json, HfVocabModel model, const std::string& name);

}  // namespace ggufembed

#endif  // GGUFEMBED_SYNTH_HF_VOCAB_H_
