// Human-readable and JSON dumps of a GGUF file's header, metadata and tensor table (like
// gguf-dump).
#ifndef GGUFEMBED_GGUF_GGUF_INFO_H_
#define GGUFEMBED_GGUF_GGUF_INFO_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "gguf/gguf.h"

namespace ggufembed {

struct InfoOptions {
  // Arrays longer than this are summarized by their first `max_array_items` elements;
  // 0 prints every element.
  uint64_t max_array_items = 8;
  // When set, the dump goes out through `write` in pieces of about a megabyte as it is made, and
  // the returned string holds only what is left: a full array of billions of elements (a hostile
  // file's) never sits whole in memory.
  std::function<void(std::string_view)> write;
};

// A table in the style of gguf-dump: header line, numbered key/value pairs with their types, then
// the tensors with type, shape (ne order), offset in the data section and size in bytes.
std::string FormatInfoText(const GgufFile& file, const InfoOptions& options = {});

// The same as one JSON object:
// {"file","version","file_size","alignment","data_offset",
//  "metadata":[{"key","type","value"} | {"key","type":"arr","element_type","count","values"}],
//  "tensors":[{"name","type","shape","offset","bytes"}]}
// where "values" holds the first `max_array_items` elements (all when 0).
std::string FormatInfoJson(const GgufFile& file, const InfoOptions& options = {});

}  // namespace ggufembed

#endif  // GGUFEMBED_GGUF_GGUF_INFO_H_
