// `ggufembed synth`: writes a synthetic gemma-embedding or gemma-embedding2 GGUF (random weights,
// real layout).
#include <chrono>
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "synth/ftype.h"
#include "synth/synth_model.h"
#include "util/error.h"

namespace ggufembed {

int RunSynth(int argc, char** argv) {
  std::string arch = "gemma-embedding", preset = "tiny", wtype, ftype, output, tokenizer, vocab;
  bool no_dense = false, outliers = false;
  int64_t seed = 1;
  ArgParser args(
      "synth [--arch A] [--preset P] [--wtype T | --ftype NAME] [--no-dense] [--outliers] "
      "[--seed N] -o FILE",
      "Writes an embedding GGUF with random weights, laid out exactly like llama.cpp's converter\n"
      "writes EmbeddingGemma (--arch gemma-embedding: presets tiny, 300m; SentencePiece\n"
      "vocabulary) or EmbeddingGemma 2 (--arch gemma-embedding2: presets tiny, 270m, micro;\n"
      "gemma4 BPE vocabulary with merges): all metadata keys, tensor names and shapes, F32 norms.\n"
      "300m and 270m have the real models' shapes; tiny is small and shaped differently on\n"
      "purpose; micro (two layers of 32) is the fuzzers' seed. --ftype gives each tensor the type\n"
      "llama-quantize would (without an importance matrix), quantized bit for bit like ggml.");
  args.Option("arch", "a", &arch, "A", "gemma-embedding (default) or gemma-embedding2");
  args.Option("preset", "p", &preset, "NAME", "tiny (default), 300m, 270m or micro");
  args.Option("tokenizer", nullptr, &tokenizer, "T",
              "llama (SentencePiece) or gemma4 (BPE); default: the architecture's");
  args.Option("vocab", nullptr, &vocab, "FILE",
              "a Hugging Face tokenizer.json to take the real vocabulary from");
  args.Option("wtype", "t", &wtype, "TYPE", "matrix type: q8_0 (default), f16, bf16 or f32");
  args.Option(
      "ftype", nullptr, &ftype, "NAME",
      "llama-quantize's types: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k_m q5_k_m q6_k q4_0_qat");
  args.Flag("no-dense", nullptr, &no_dense, "leave out the dense_2/dense_3 projections");
  args.Flag("outliers", nullptr, &outliers,
            "gemma-embedding: a trained model's outlier channels (norms 40x on a few)");
  args.Option("seed", "s", &seed, "N", "random seed (default 1)", 0, INT64_MAX);
  args.Option("output", "o", &output, "FILE", "where to write the model (required)");
  if (const int exit = args.ParseOrExit(argc, argv, "synth"); exit >= 0) return exit;
  if (output.empty()) {
    return ReportError("synth", Status(StatusCode::kInvalidArgument, "missing -o FILE"));
  }
  if (output == "-") {  // not a file named "-": the model is written to a file and renamed over
    return ReportError("synth", Status(StatusCode::kInvalidArgument,
                                       "-o -: synth writes a file, not the standard output"));
  }
  if (!ftype.empty() && !wtype.empty()) {
    return ReportError("synth", Status(StatusCode::kInvalidArgument,
                                       "--ftype and --wtype cannot be used together"));
  }
  if (!ftype.empty()) {
    if (Result<Ftype> f = ParseFtype(ftype); !f.ok()) return ReportError("synth", f.status());
  }
  if (wtype.empty()) wtype = "q8_0";
  SynthOptions options;
  options.arch = arch;
  options.ftype = ftype;
  options.tokenizer = tokenizer;
  options.vocab_json = vocab;
  options.preset = preset;
  options.dense = !no_dense;
  options.outliers = outliers;
  options.seed = static_cast<uint64_t>(seed);
  if (wtype == "q8_0") {
    options.weight_type = GgmlType::kQ8_0;
  } else if (wtype == "f16") {
    options.weight_type = GgmlType::kF16;
  } else if (wtype == "bf16") {
    options.weight_type = GgmlType::kBF16;
  } else if (wtype == "f32") {
    options.weight_type = GgmlType::kF32;
  } else {
    return ReportError("synth",
                       Error(StatusCode::kInvalidArgument,
                             "--wtype '%s' is not one of q8_0, f16, bf16, f32", wtype.c_str()));
  }
  const auto start = std::chrono::steady_clock::now();
  if (Status s = WriteSynthModel(options, output); !s.ok()) return ReportError("synth", s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "wrote %s (preset %s, %s%s%s) in %.1f s\n", output.c_str(), preset.c_str(),
               ftype.empty() ? wtype.c_str() : ftype.c_str(), no_dense ? ", no dense" : "",
               outliers ? ", outliers" : "", seconds);
  return 0;
}

}  // namespace ggufembed
