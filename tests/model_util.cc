// Synthetic model files for tests, and rewriting them with changes.
#include "model_util.h"

#include <cstring>
#include <map>

#include "test_util.h"
#include "util/error.h"

namespace ggufembed::testing {

std::string SynthModelPath(const std::string& preset, GgmlType type, bool dense,
                           const std::string& arch) {
  static std::map<std::string, std::string>* made = new std::map<std::string, std::string>;
  const std::string name =
      arch + "-" + preset + "-" + GetGgmlType(type).name + (dense ? "" : "-nodense");
  auto it = made->find(name);
  if (it != made->end()) return it->second;
  SynthOptions options;
  options.arch = arch;
  options.preset = preset;
  options.weight_type = type;
  options.dense = dense;
  const std::string path = TempPath(name + ".gguf");
  const Status s = WriteSynthModel(options, path);
  if (!s.ok()) return "write failed: " + s.message();
  (*made)[name] = path;
  return path;
}

void CopyTensor(GgufWriter& w, const GgufTensorInfo& t, const std::string& name,
                std::vector<int64_t> ne) {
  const uint8_t* data = t.data;
  w.AddTensor(name, t.type, ne, [data](uint8_t* dst, uint64_t n) { std::memcpy(dst, data, n); });
}

Result<GgufFile> RewriteModel(const GgufFile& src, const Rewrite& rewrite,
                              const std::string& name) {
  GgufWriter w;
  for (const GgufKv& kv : src.kvs()) {
    if (rewrite.keep_kv(kv)) w.SetValue(std::string(kv.key), kv.value);
  }
  for (const GgufTensorInfo& t : src.tensors()) {
    if (!rewrite.keep_tensor(t)) continue;
    CopyTensor(w, t, std::string(t.name), std::vector<int64_t>(t.ne, t.ne + t.n_dims));
  }
  if (rewrite.add) rewrite.add(w);
  const std::string path = TempPath(name);
  GGUFEMBED_RETURN_IF_ERROR(w.WriteFile(path));
  return GgufFile::Open(path);
}

}  // namespace ggufembed::testing
