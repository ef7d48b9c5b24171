// Fuzzes the GGUF reader: GgufFile::Parse, every key through every typed accessor, every tensor's
// first and last row dequantized, the tokenizer's keys, and `info` (FormatInfoText/Json).
#include <cmath>
#include <cstdint>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_info.h"
#include "gguf/tensor_values.h"
#include "text/tokenizer.h"

using namespace ggufembed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<GgufFile> f = GgufFile::Parse(FileBytes::Borrow(data, size), "fuzz.gguf");
  if (!f.ok()) return 0;
  for (const GgufKv& kv : f->kvs()) {
    if (f->FindKv(kv.key) != &kv) __builtin_trap();
    (void)f->GetUint(kv.key);
    (void)f->GetInt(kv.key);
    (void)f->GetFloat(kv.key);
    (void)f->GetBool(kv.key);
    (void)f->GetString(kv.key);
    (void)f->GetUintOr(kv.key, 1);
    (void)f->GetFloatOr(kv.key, 1);
    (void)f->GetBoolOr(kv.key, true);
    if (kv.value.is_array()) {
      (void)f->GetArray(kv.key);
      (void)f->GetStringArray(kv.key);
      (void)f->GetFloatArray(kv.key);
      (void)f->GetInt32Array(kv.key);
      if (kv.value.count > 0 && GgufTypeSize(kv.value.element_type) > 0) {
        (void)kv.value.Element(kv.value.count - 1);
      }
    }
  }
  std::vector<float> row;
  for (const GgufTensorInfo& t : f->tensors()) {
    if (f->FindTensor(t.name) == nullptr) __builtin_trap();
    // The byte size is the element count's, without wrapping (regressions/gguf/size-overflow).
    const GgmlTypeInfo& type = GetGgmlType(t.type);
    uint64_t n_bytes;
    if (__builtin_mul_overflow(static_cast<uint64_t>(t.n_elements()) / type.block_size,
                               type.type_size, &n_bytes) ||
        n_bytes != t.n_bytes) {
      __builtin_trap();
    }
    if (t.ne[0] > (int64_t{1} << 22)) continue;  // fits the file; only the buffer is bounded
    row.assign(t.ne[0], 0.0f);
    (void)DequantizeTensorRow(t, 0, row.data());
    (void)DequantizeTensorRow(t, t.n_rows() - 1, row.data());
    (void)DequantizeTensorRow(t, t.n_rows(), row.data());  // out of range: an error
  }
  (void)CheckTensorValues(*f);
  (void)Tokenizer::FromGguf(*f);
  (void)FormatInfoText(*f);
  InfoOptions all;
  all.max_array_items = 0;
  (void)FormatInfoJson(*f, all);
  return 0;
}
