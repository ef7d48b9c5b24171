// The engine's own ways to build an Embedder that the public API does not offer: from file
// bytes it adopts (the C API and so the WebAssembly bindings hand over malloc'ed buffers), and
// from bytes without the token embeddings, whose rows the bindings bring in as texts need them.
#ifndef GGUFEMBED_EMBED_EMBEDDER_ACCESS_H_
#define GGUFEMBED_EMBED_EMBEDDER_ACCESS_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gguf/file_bytes.h"
#include "gguf/gguf.h"
#include "ggufembed/embedder.h"

namespace ggufembed::internal {

struct EmbedderAccess {
  // Loads a model from `bytes`, which the embedder keeps alive; `name` is used in messages.
  static Result<std::unique_ptr<Embedder>> Load(std::shared_ptr<const FileBytes> bytes,
                                                std::string name);

  // The same for bytes whose [absent_begin, absent_end), which must be exactly the data of
  // token_embd.weight and no other tensor's, are not filled in yet. In WebAssembly the model is
  // copied into the heap, and the table is most of it (214 of 333 MB for the 300m Q8_0 model) while
  // a text needs a few of its rows: the bindings leave it out, list the rows the texts of a call
  // lack (AbsentTokenRows), write them in place and mark them (MarkTokenRows). A text whose rows
  // are not marked fails with kInternal naming the row, never embedding bytes that are not there.
  static Result<std::unique_ptr<Embedder>> LoadWithoutTokenRows(
      std::shared_ptr<const FileBytes> bytes, std::string name, uint64_t absent_begin,
      uint64_t absent_end);
  // The distinct token ids, ascending, of `texts` tokenized as Embed would with `options`, whose
  // rows are not marked; texts that Embed would refuse are skipped (Embed reports them).
  static Result<std::vector<int32_t>> AbsentTokenRows(const Embedder& embedder,
                                                      std::span<const std::string> texts,
                                                      const EmbedOptions& options);
  // Marks rows as filled in; not while another call embeds with this embedder.
  static Status MarkTokenRows(Embedder& embedder, std::span<const int32_t> ids);

  // The model and tokenizer of a parsed file, which the embedder keeps.
  static Result<std::unique_ptr<Embedder>> FromParsed(GgufFile file);
};

}  // namespace ggufembed::internal

#endif  // GGUFEMBED_EMBED_EMBEDDER_ACCESS_H_
