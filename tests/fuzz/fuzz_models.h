// Models for the fuzz harnesses: synthetic presets as bytes, and micro models (one layer, 32
// wide, a vocabulary of 128 or 320 pieces; 12-25 KB) small enough that mutations reach the weights
// and an embedding costs microseconds.
#ifndef GGUFEMBED_TESTS_FUZZ_FUZZ_MODELS_H_
#define GGUFEMBED_TESTS_FUZZ_FUZZ_MODELS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gguf/ggml_type.h"
#include "synth/synth_model.h"

namespace ggufembed::fuzz {

// The bytes of WriteSynthModel(options); aborts if it fails (harness start-up only).
std::vector<uint8_t> SynthModelBytes(const SynthOptions& options);

struct MicroOptions {
  GgmlType weight_type = GgmlType::kQ8_0;
  std::string tokenizer = "llama";  // or "gemma4" (BPE merges)
  bool dense = false;               // dense_2 / dense_3 (32 -> 64 -> 32)
  // The 256 <0xXX> byte tokens (vocabulary 320: any UTF-8 text embeds); without them the
  // vocabulary is 128 pieces (specials, whitespace, ASCII) and the file a third as large.
  bool byte_tokens = true;
  uint64_t seed = 1;
};

// A gemma-embedding model of one layer: 32 wide, 2 heads sharing 1 KV head of 16, FFN 32,
// context 64, window 8, vocabulary 320 or 128 (specials, the byte tokens or not, then the first
// pieces of MakeSynthVocab). 12 KB in Q8_0 without byte tokens or dense layers.
std::vector<uint8_t> MicroModelBytes(const MicroOptions& options);

// Reads bytes from the front of a fuzz input.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  uint8_t Byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  // Bytes up to the next `stop` (consumed, not returned) or the end.
  std::string Until(uint8_t stop);
  std::string Rest() {
    std::string s(reinterpret_cast<const char*>(p_), n_);
    p_ += n_;
    n_ = 0;
    return s;
  }
  size_t size() const { return n_; }

 private:
  const uint8_t* p_;
  size_t n_;
};

}  // namespace ggufembed::fuzz

#endif  // GGUFEMBED_TESTS_FUZZ_FUZZ_MODELS_H_
