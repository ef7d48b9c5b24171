// The C++ API from a user's side: built against include/ggufembed/ alone (the engine's own
// headers are not on this program's include path). Embeds a query and two documents with task
// prompts and prints their cosine similarities.
//
// Usage: embed_example MODEL.gguf
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "ggufembed/embedder.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
    return 2;
  }
  ggufembed::Result<std::unique_ptr<ggufembed::Embedder>> embedder =
      ggufembed::Embedder::Load(argv[1]);
  if (!embedder.ok()) {
    std::fprintf(stderr, "%s\n", embedder.status().message().c_str());
    return 1;
  }
  const ggufembed::ModelInfo& info = (*embedder)->info();
  std::printf("%s: %d dimensions, %d tokens of context, SIMD target %s\n",
              info.architecture.c_str(), info.dim, info.context_length,
              ggufembed::SimdTargetName());

  ggufembed::EmbedOptions query;
  query.prompt = "query";
  ggufembed::EmbedOptions document;
  document.prompt = "document";
  auto q = (*embedder)->Embed({"Which planet is known as the red planet?"}, query);
  auto d = (*embedder)->Embed(
      {"Mars is often called the red planet.", "The Pacific is the largest ocean on Earth."},
      document);
  if (!q.ok() || !d.ok()) {
    std::fprintf(stderr, "%s\n", (q.ok() ? d.status() : q.status()).message().c_str());
    return 1;
  }
  for (const ggufembed::Embedding& doc : *d) {
    double dot = 0;  // the vectors are L2-normalized: the dot product is the cosine
    for (int i = 0; i < doc.dim; ++i) dot += double(q->front().values[i]) * doc.values[i];
    std::printf("cosine %.4f (%d tokens)\n", dot, doc.n_tokens);
  }
  return 0;
}
