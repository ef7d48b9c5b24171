// llama-quantize's file types (`--ftype` presets of `synth`): the type each tensor of an
// EmbeddingGemma model gets, following src/llama-quant.cpp's rules without an importance matrix.
#ifndef GGUFEMBED_SYNTH_FTYPE_H_
#define GGUFEMBED_SYNTH_FTYPE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/ggml_type.h"
#include "ggufembed/status.h"

namespace ggufembed {

enum class Ftype {
  kF32,
  kF16,
  kBF16,
  kQ8_0,
  kQ4_0,
  kQ4_1,
  kQ5_0,
  kQ5_1,
  kQ4_K_M,
  kQ5_K_M,
  kQ6_K,
  // ggml-org's recipe for QAT Q4_0 models (llama.cpp examples/model-conversion/Makefile:
  // `llama-quantize --token-embedding-type Q8_0 --output-tensor-type Q8_0 ... Q4_0`): token
  // embeddings and output.weight Q8_0, every other matrix Q4_0. The layout of Google's
  // embeddinggemma-300m-qat-q4_0 GGUF is inferred from that recipe, not read from the file.
  kQ4_0_Qat,
};

// The preset for a name as llama-quantize spells it, in any case ("q4_k_m", "Q4_K_M", "q5_1"), or
// "q4_0_qat"; kInvalidArgument listing the presets otherwise.
Result<Ftype> ParseFtype(const std::string& name);

// "q4_k_m": the lower-case name ParseFtype reads.
const char* FtypeName(Ftype ftype);

// The preset's llama_ftype (llama.h), written as general.file_type: F32 0, F16 1, Q4_0 2 (also
// the QAT preset, quantized as Q4_0), Q8_0 7, Q4_K_M 15, Q5_K_M 17, Q6_K 18, BF16 32.
uint32_t FtypeFileType(Ftype ftype);

// The preset's default matrix type (llama_ftype_get_default_type): Q4_K for Q4_K_M, ...
GgmlType FtypeDefaultType(Ftype ftype);

// The type llama-quantize gives tensor `name` of shape `ne` (ne[0] the row length) when it makes
// a file of `ftype` from a converted one, as src/llama-quant.cpp decides it:
//  - tensors it does not quantize keep the converter's type: 1-D tensors (norms, scales) F32;
//    names not ending in "weight", "*_norm.weight", per_layer_model_proj (and a few other
//    architectures' names) the converter's matrix type, taken to be F16 (the default of ggml-org's
//    examples/model-conversion scripts; the converter's own `auto` would pick BF16 for Gemma's
//    bf16 checkpoints) for the quantized presets and the preset's own type for
//    f32/f16/bf16 (the converter writes those directly);
//  - f32/f16/bf16: every other tensor the preset's type;
//  - otherwise the default type, then the rules: output.weight, and token_embd.weight when the
//    model has no output.weight (`has_output` false: tied embeddings), Q6_K unless the type is
//    Q8_0 (Q8_0 if ne[0] is not a multiple of the default type's block); attn_v.weight and
//    ffn_down.weight Q6_K for Q4_K_M/Q5_K_M in use_more_bits layers (the first and last eighth
//    and every third layer between); any other name (dense_2, inp_gate, proj, ...) keeps the
//    default type; then the fallbacks when ne[0] is not a multiple of 256: Q4_K -> Q5_0, Q5_K ->
//    Q5_1, Q6_K -> Q8_0 (F16 if ne[0] is not a multiple of 32 either), and a 32-block type
//    (Q4_0 with ne[0] % 32 != 0) -> F16, as llama.cpp de3ff81 does.
//  - q4_0_qat: token_embd.weight and output.weight Q8_0 whatever their shape (the overrides skip
//    every rule), the rest as q4_0.
// `layer` is the tensor's block index (-1 outside blocks) and `n_layer` the block count: the
// counters llama-quantize uses for attn_v and ffn_down equal the layer for models with one of
// each per block, as both architectures have.
GgmlType FtypeTensorType(Ftype ftype, const std::string& name, const std::vector<int64_t>& ne,
                         int layer, int n_layer, bool has_output);

// The types of a synthetic model's tensors: one type for every matrix (SynthOptions::weight_type)
// or a preset's choice (SynthOptions::ftype).
class SynthTensorTypes {
 public:
  // `ftype_name` empty: every matrix `weight_type`; otherwise a name for ParseFtype.
  static Result<SynthTensorTypes> Make(const std::string& ftype_name, GgmlType weight_type,
                                       int n_layer, bool has_output);
  // The type of matrix `name` with rows of `in` values and `out` rows; the layer is read from
  // a "blk.N." prefix.
  GgmlType Matrix(const std::string& name, int64_t in, int64_t out) const;
  // general.file_type.
  uint32_t file_type() const;

 private:
  bool has_ftype_ = false;
  Ftype ftype_ = Ftype::kQ8_0;
  GgmlType weight_type_ = GgmlType::kQ8_0;
  int n_layer_ = 0;
  bool has_output_ = false;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_SYNTH_FTYPE_H_
