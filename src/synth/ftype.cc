// llama-quantize's per-tensor type rules for the `synth --ftype` presets (see ftype.h); the
// function names in comments are those of llama.cpp's src/llama-quant.cpp.
#include "synth/ftype.h"

#include <cctype>
#include <cstdio>

#include "synth/synth_fill.h"
#include "util/error.h"

namespace ggufembed {
namespace {

struct FtypeEntry {
  Ftype ftype;
  const char* name;
  uint32_t file_type;  // llama_ftype
  GgmlType default_type;
};

constexpr FtypeEntry kFtypes[] = {
    {Ftype::kF32, "f32", 0, GgmlType::kF32},
    {Ftype::kF16, "f16", 1, GgmlType::kF16},
    {Ftype::kBF16, "bf16", 32, GgmlType::kBF16},
    {Ftype::kQ8_0, "q8_0", 7, GgmlType::kQ8_0},
    {Ftype::kQ4_0, "q4_0", 2, GgmlType::kQ4_0},
    {Ftype::kQ4_1, "q4_1", 3, GgmlType::kQ4_1},
    {Ftype::kQ5_0, "q5_0", 8, GgmlType::kQ5_0},
    {Ftype::kQ5_1, "q5_1", 9, GgmlType::kQ5_1},
    {Ftype::kQ4_K_M, "q4_k_m", 15, GgmlType::kQ4_K},
    {Ftype::kQ5_K_M, "q5_k_m", 17, GgmlType::kQ5_K},
    {Ftype::kQ6_K, "q6_k", 18, GgmlType::kQ6_K},
    {Ftype::kQ4_0_Qat, "q4_0_qat", 2, GgmlType::kQ4_0},
};

const FtypeEntry& Entry(Ftype ftype) {
  for (const FtypeEntry& e : kFtypes) {
    if (e.ftype == ftype) return e;
  }
  return kFtypes[0];
}

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// ggml_n_dims: the dimensions up to the last one larger than 1.
int NDims(const std::vector<int64_t>& ne) {
  int n = 1;
  for (size_t i = 1; i < ne.size(); ++i) {
    if (ne[i] > 1) n = static_cast<int>(i) + 1;
  }
  return n;
}

// tensor_allows_quantization, for the names EmbeddingGemma models can have (the full list also
// excludes other architectures' tensors: RWKV time_mix_*, Mamba ssm_conv1d, vision position and
// patch embeddings, ...; none of them occurs here).
bool AllowsQuantization(const std::string& name, const std::vector<int64_t>& ne) {
  if (NDims(ne) < 2) return false;
  if (!EndsWith(name, "weight")) return false;
  if (Contains(name, "_norm.weight")) return false;
  if (Contains(name, "ffn_gate_inp.weight")) return false;
  if (Contains(name, "altup") || Contains(name, "laurel")) return false;
  if (Contains(name, "per_layer_model_proj")) return false;
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  return true;
}

enum class Category { kOutput, kTokenEmbd, kAttnV, kFfnDown, kOther };

// tensor_get_category, reduced to the categories whose rules these presets use (attn_qkv,
// attn_kv_b, attn_k, attn_q, attn_output, ffn_up and ffn_gate have rules only for other file
// types or for models with 8 experts).
Category GetCategory(const std::string& name) {
  if (name == "output.weight") return Category::kOutput;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") {
    return Category::kTokenEmbd;
  }
  if (Contains(name, "attn_qkv.weight") || Contains(name, "attn_kv_b.weight")) {
    return Category::kOther;
  }
  if (Contains(name, "attn_v.weight")) return Category::kAttnV;
  if (Contains(name, "attn_k.weight") || Contains(name, "attn_q.weight") ||
      Contains(name, "attn_output.weight") || Contains(name, "ffn_up") ||
      Contains(name, "ffn_gate")) {
    return Category::kOther;
  }
  if (Contains(name, "ffn_down")) return Category::kFfnDown;
  return Category::kOther;
}

// use_more_bits in llama_tensor_get_type_impl (C integer division and remainder).
bool UseMoreBits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

int64_t BlockSize(GgmlType type) { return GetGgmlType(type).block_size; }

// tensor_type_fallback: a type whose block does not divide the row length.
GgmlType Fallback(GgmlType type, int64_t ncols) {
  if (ncols % BlockSize(type) == 0) return type;
  GgmlType fallback;
  switch (type) {
    case GgmlType::kQ4_K:
      fallback = GgmlType::kQ5_0;
      break;
    case GgmlType::kQ5_K:
      fallback = GgmlType::kQ5_1;
      break;
    case GgmlType::kQ6_K:
      fallback = GgmlType::kQ8_0;
      break;
    default:
      // A 32-block type has no smaller block to fall back to: F16 below, as in llama.cpp since
      // de3ff81 (node-llama-cpp's; before, llama-quantize refused the tensor). Larger blocks
      // without a fallback it refuses ("no tensor type fallback is defined"); the type comes
      // back as is, and GgufWriter refuses it.
      if (BlockSize(type) > 32) return type;
      fallback = type;
  }
  return ncols % BlockSize(fallback) == 0 ? fallback : GgmlType::kF16;
}

bool IsFloat(GgmlType t) {
  return t == GgmlType::kF32 || t == GgmlType::kF16 || t == GgmlType::kBF16;
}

}  // namespace

Result<Ftype> ParseFtype(const std::string& name) {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const FtypeEntry& e : kFtypes) {
    if (lower == e.name) return e.ftype;
  }
  return Error(StatusCode::kInvalidArgument,
               "unknown ftype '%s' (expected f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_m, "
               "q5_k_m, q6_k or q4_0_qat)",
               name.c_str());
}

const char* FtypeName(Ftype ftype) { return Entry(ftype).name; }

uint32_t FtypeFileType(Ftype ftype) { return Entry(ftype).file_type; }

GgmlType FtypeDefaultType(Ftype ftype) { return Entry(ftype).default_type; }

GgmlType FtypeTensorType(Ftype ftype, const std::string& name, const std::vector<int64_t>& ne,
                         int layer, int n_layer, bool has_output) {
  const GgmlType default_type = FtypeDefaultType(ftype);
  // llama_tensor_get_type: tensors it may not quantize keep the type they have.
  if (!AllowsQuantization(name, ne)) {
    if (NDims(ne) < 2) return GgmlType::kF32;
    return IsFloat(default_type) ? default_type : GgmlType::kF16;
  }
  const Category category = GetCategory(name);
  // --token-embedding-type / --output-tensor-type win before any rule or fallback.
  if (ftype == Ftype::kQ4_0_Qat &&
      (category == Category::kTokenEmbd || category == Category::kOutput)) {
    return GgmlType::kQ8_0;
  }
  if (IsFloat(default_type)) return default_type;  // rules only for quantized default types
  const int64_t ncols = ne[0];
  GgmlType type = default_type;
  // llama_tensor_get_type_impl.
  if (category == Category::kOutput || (!has_output && category == Category::kTokenEmbd)) {
    if (ncols % BlockSize(type) != 0) {
      type = GgmlType::kQ8_0;
    } else if (type != GgmlType::kQ8_0) {
      type = GgmlType::kQ6_K;
    }
  } else if (category == Category::kAttnV || category == Category::kFfnDown) {
    if ((ftype == Ftype::kQ4_K_M || ftype == Ftype::kQ5_K_M) && UseMoreBits(layer, n_layer)) {
      type = GgmlType::kQ6_K;
    }
  }
  return Fallback(type, ncols);
}

Result<SynthTensorTypes> SynthTensorTypes::Make(const std::string& ftype_name, GgmlType weight_type,
                                                int n_layer, bool has_output) {
  SynthTensorTypes t;
  t.weight_type_ = weight_type;
  t.n_layer_ = n_layer;
  t.has_output_ = has_output;
  if (!ftype_name.empty()) {
    GGUFEMBED_ASSIGN_OR_RETURN(t.ftype_, ParseFtype(ftype_name));
    t.has_ftype_ = true;
  }
  return t;
}

GgmlType SynthTensorTypes::Matrix(const std::string& name, int64_t in, int64_t out) const {
  if (!has_ftype_) return weight_type_;
  int layer = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) layer = -1;
  return FtypeTensorType(ftype_, name, {in, out}, layer, n_layer_, has_output_);
}

uint32_t SynthTensorTypes::file_type() const {
  return has_ftype_ ? FtypeFileType(ftype_) : FileType(weight_type_);
}

}  // namespace ggufembed
