// Fuzzes model loading plus one embedding from the model's bytes (Embedder::LoadFromMemory, then
// a fixed short ASCII text); seeds are one-layer micro models (make_seeds.cc) whose vocabulary
// has no byte tokens, to keep them small. kNotFinite is a correct result, not a finding.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ggufembed/embedder.h"

using namespace ggufembed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<std::unique_ptr<Embedder>> e = Embedder::LoadFromMemory(data, size, "fuzz.gguf");
  if (!e.ok()) return 0;
  EmbedOptions options;
  options.truncate = true;
  Result<std::vector<Embedding>> v = (*e)->Embed({"Hello world, <eos> how are you?"}, options);
  if (!v.ok()) return 0;
  for (const Embedding& x : *v) {
    if (x.values.size() != static_cast<size_t>(x.rows) * x.dim) __builtin_trap();
    for (float f : x.values) {
      if (!std::isfinite(f)) __builtin_trap();  // a vector is always finite
    }
  }
  return 0;
}
