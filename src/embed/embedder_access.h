// The engine's own ways to build an Embedder that the public API does not offer: from file
// bytes it adopts (the C API and so the WebAssembly bindings hand over malloc'ed buffers).
#ifndef GGUFEMBED_EMBED_EMBEDDER_ACCESS_H_
#define GGUFEMBED_EMBED_EMBEDDER_ACCESS_H_

#include <memory>
#include <string>

#include "gguf/file_bytes.h"
#include "ggufembed/embedder.h"

namespace ggufembed::internal {

struct EmbedderAccess {
  // Loads a model from `bytes`, which the embedder keeps alive; `name` is used in messages.
  static Result<std::unique_ptr<Embedder>> Load(std::shared_ptr<const FileBytes> bytes,
                                                std::string name);
};

}  // namespace ggufembed::internal

#endif  // GGUFEMBED_EMBED_EMBEDDER_ACCESS_H_
