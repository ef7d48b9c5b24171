// Fuzzes the CLI argument parser (native/args.cc) with the `embed` command's flags on an argv
// made of the input split at NUL bytes.
#include <cstdint>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"

using namespace ggufembed;

// main.cc's, which ParseOrExit calls (main.cc is not linked here).
int ggufembed::ReportError(const char*, const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> words(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      words.emplace_back();
    } else {
      words.back() += static_cast<char>(data[i]);
    }
  }
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  std::string model, prompt, title, prompt_text, format, pooling, input_format, input, output, ids,
      on_error;
  int64_t dim = 0, threads = 0, pack_tokens = 256;
  bool no_normalize = false, truncate = false, no_parse_special = false, quiet = false;
  bool reference = false, check_tensors = false;
  std::vector<std::string> texts;
  ArgParser args("embed -m MODEL.gguf [options] [TEXT ...]", "Embeds each TEXT.");
  args.Option("model", "m", &model, "FILE", "the GGUF model (required)");
  args.Option("prompt", "p", &prompt, "NAME", "task prompt");
  args.Option("title", nullptr, &title, "TEXT", "document title");
  args.Option("prompt-text", nullptr, &prompt_text, "TEXT", "prepend this text");
  args.Option("dim", "d", &dim, "N", "Matryoshka", 0, 1 << 24);
  args.Flag("no-normalize", nullptr, &no_normalize, "do not L2-normalize");
  args.Flag("truncate", nullptr, &truncate, "cut long texts");
  args.Option("pooling", nullptr, &pooling, "P", "mean, cls, last or none");
  args.Flag("no-parse-special", nullptr, &no_parse_special, "plain special-token text");
  args.Option("input-format", nullptr, &input_format, "F", "text or jsonl");
  args.Option("input", "i", &input, "FILE", "input");
  args.Option("output", "o", &output, "FILE", "output");
  args.Option("format", "f", &format, "F", "format");
  args.Option("ids", nullptr, &ids, "FILE", "ids file");
  args.Option("on-error", nullptr, &on_error, "MODE", "fail or record");
  args.Option("threads", "t", &threads, "N", "threads", 0, 4096);
  args.Option("pack-tokens", nullptr, &pack_tokens, "N", "packing", 0, 1 << 20);
  args.Flag("reference", nullptr, &reference, "reference pass");
  args.Flag("check-tensors", nullptr, &check_tensors, "check weights");
  args.Flag("quiet", "q", &quiet, "quiet");
  args.Positionals(&texts, "TEXT");
  const Status s = args.Parse(static_cast<int>(words.size()), argv.data(), 1);
  if (s.ok()) {
    if (dim < 0 || dim > (1 << 24) || threads < 0 || threads > 4096) __builtin_trap();
    if (args.help_requested()) (void)args.Help();
  }
  return 0;
}
