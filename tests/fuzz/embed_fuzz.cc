// Fuzzes the embedder on a fixed micro model (one layer, dense projections) with fuzzed texts and
// options: byte 0 flags, byte 1 prompt, byte 2 dim, byte 3 pooling, then title NUL text.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_models.h"
#include "ggufembed/embedder.h"
#include "text/prompts.h"

using namespace ggufembed;

namespace {
const Embedder& Model() {
  static const std::vector<uint8_t>* const bytes = [] {
    fuzz::MicroOptions o;
    o.dense = true;
    return new std::vector<uint8_t>(fuzz::MicroModelBytes(o));
  }();
  static const Embedder* const e = [] {
    Result<std::unique_ptr<Embedder>> r =
        Embedder::LoadFromMemory(bytes->data(), bytes->size(), "micro.gguf");
    if (!r.ok()) __builtin_trap();
    return r->release();
  }();
  return *e;
}

void CheckFinite(const float* v, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) __builtin_trap();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Embedder& e = Model();
  fuzz::Input in(data, size);
  const uint8_t flags = in.Byte();
  const uint8_t prompt = in.Byte();
  const uint8_t dim = in.Byte();
  const uint8_t pooling = in.Byte();
  EmbedOptions o;
  o.normalize = flags & 1;
  o.truncate = flags & 2;
  o.parse_special = flags & 4;
  const std::vector<std::string>& names = PromptNames();
  if (prompt < names.size()) {
    o.prompt = names[prompt];
  } else if (prompt == 0xFF) {
    o.prompt = "no-such-prompt";
  }
  o.dim = dim < 0xF0 ? dim % 40 : -static_cast<int>(dim & 0xF);  // 33..39 and negatives: errors
  if (pooling & 4) o.pooling = static_cast<Pooling>(pooling & 3);
  if (flags & 8) o.title = in.Until(0);
  if (flags & 16) o.prompt_text = in.Until(0);
  const std::string text = in.Rest();
  if (flags & 32) {  // a packed batch of the text and its halves
    const std::vector<std::string> texts = {text, text.substr(0, text.size() / 2), "x"};
    BatchOptions batch;
    batch.threads = 1;
    batch.pack_tokens = (flags & 64) ? 64 : 0;
    Result<std::vector<Embedding>> v = e.Embed(texts, o, batch);
    if (v.ok()) {
      for (const Embedding& x : *v) CheckFinite(x.values.data(), x.values.size());
    }
    return 0;
  }
  static std::vector<float> out(64 * 32);  // context × width: room for pooling none
  EmbeddingInfo info;
  if (e.EmbedInto(text, o, out.data(), out.size(), &info).ok()) {
    if (static_cast<size_t>(info.rows) * info.dim > out.size()) __builtin_trap();
    CheckFinite(out.data(), static_cast<size_t>(info.rows) * info.dim);
  }
  return 0;
}
