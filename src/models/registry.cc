// The registry of architectures: the built-in ones, one line each, and those added at run time.
#include <deque>
#include <mutex>

#include "models/gemma_embedding/model.h"
#include "models/gemma_embedding2/model.h"
#include "models/model.h"
#include "util/error.h"

namespace ggufembed {
namespace {

// A deque: entries never move, so FindArchitecture's pointers stay valid as others are added.
std::deque<Architecture>& Registry() {
  static std::deque<Architecture> registry = {
      gemma_embedding::kArchitecture,
      gemma_embedding2::kArchitecture,
  };
  return registry;
}

std::mutex& RegistryMutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

const Architecture* FindArchitecture(std::string_view name) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  for (const Architecture& a : Registry()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string ArchitectureNames() {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  std::string names;
  for (const Architecture& a : Registry()) {
    if (!names.empty()) names += ", ";
    names += a.name;
  }
  return names;
}

Status RegisterArchitecture(const Architecture& architecture) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  for (const Architecture& a : Registry()) {
    if (a.name == architecture.name) {
      return Error(StatusCode::kInvalidArgument, "architecture '%.*s' is already registered",
                   static_cast<int>(a.name.size()), a.name.data());
    }
  }
  Registry().push_back(architecture);
  return OkStatus();
}

Result<std::unique_ptr<Model>> LoadModel(const GgufFile& file) {
  // A model cut by llama-gguf-split: the first part holds the metadata and some tensors (it
  // would fail on a tensor in another part), the others only tensors and the split keys (they
  // would fail on the architecture), so this comes first.
  GGUFEMBED_ASSIGN_OR_RETURN(const uint64_t parts, file.GetUintOr("split.count", 1));
  if (parts > 1) {
    GGUFEMBED_ASSIGN_OR_RETURN(const uint64_t part, file.GetUintOr("split.no", 0));
    return Error(StatusCode::kUnsupported,
                 "%s: this is one part (split.no %llu) of a GGUF split into %llu "
                 "(split.count); merge the parts into one file first (llama-gguf-split --merge "
                 "FIRST_PART OUT.gguf)",
                 file.name().c_str(), static_cast<unsigned long long>(part),
                 static_cast<unsigned long long>(parts));
  }
  GGUFEMBED_ASSIGN_OR_RETURN(std::string_view name, file.GetString("general.architecture"));
  const Architecture* architecture = FindArchitecture(name);
  if (name == "clip") {  // llama.cpp's converter writes image/audio encoders as "clip" mmproj files
    return Error(
        StatusCode::kUnsupported,
        "%s: this is a multimodal projector (mmproj: image, video or audio encoder), not a "
        "text model; ggufembed embeds text: load the model's text GGUF instead",
        file.name().c_str());
  }
  if (architecture == nullptr) {
    return Error(StatusCode::kUnsupported, "%s: architecture %s is not supported (supported: %s)",
                 file.name().c_str(), Quote(name).c_str(), ArchitectureNames().c_str());
  }
  return architecture->load(file);
}

}  // namespace ggufembed
