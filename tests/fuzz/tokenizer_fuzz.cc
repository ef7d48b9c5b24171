// Fuzzes both tokenizers (SentencePiece of synth "tiny", gemma4 BPE of EmbeddingGemma 2 "tiny")
// on arbitrary bytes as text; the first byte picks the tokenizer, add_special and parse_special.
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_models.h"
#include "gguf/gguf.h"
#include "text/tokenizer.h"

using namespace ggufembed;

namespace {
struct Fixed {
  std::vector<uint8_t> bytes;
  GgufFile file;
  Tokenizer tokenizer;
};

Fixed* Load(const std::string& arch) {
  SynthOptions o;
  o.arch = arch;
  o.preset = "tiny";
  std::vector<uint8_t> bytes = fuzz::SynthModelBytes(o);
  Result<GgufFile> f = GgufFile::Parse(FileBytes::Copy(bytes.data(), bytes.size()), arch);
  if (!f.ok()) __builtin_trap();
  Result<Tokenizer> t = Tokenizer::FromGguf(*f);
  if (!t.ok()) __builtin_trap();
  return new Fixed{std::move(bytes), std::move(*f), std::move(*t)};
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixed* const spm = Load("gemma-embedding");
  static Fixed* const bpe = Load("gemma-embedding2");
  static TokenizerScratch scratch;
  static std::vector<int32_t> ids;
  fuzz::Input in(data, size);
  const uint8_t mode = in.Byte();
  const Tokenizer& t = (mode & 1) ? bpe->tokenizer : spm->tokenizer;
  const bool add_special = mode & 2, parse_special = mode & 4;
  const std::string text = in.Rest();
  const Status s = t.EncodeInto(text, add_special, parse_special, scratch, &ids);
  if (!s.ok()) return 0;
  for (int32_t id : ids) {
    if (id < 0 || id >= t.n_vocab()) __builtin_trap();
  }
  if (mode & 8) {  // the allocating entry point gives the same ids
    Result<std::vector<int32_t>> again = t.Encode(text, add_special, parse_special);
    if (!again.ok() || *again != ids) __builtin_trap();
  }
  return 0;
}
