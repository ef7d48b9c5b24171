// ggufembed: the command-line front end (dispatches to one subcommand).
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "commands.h"
#include "ggufembed/embedder.h"
#include "util/alloc_guard.h"

namespace ggufembed {
namespace {

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"embed", RunEmbed,
     "embed texts (arguments or stdin lines) as JSON, JSONL, raw or a similarity table"},
    {"bench", RunBench, "time the single-thread forward pass, with a per-operation profile"},
    {"tokenize", RunTokenize, "print a text's token ids"},
    {"info", RunInfo, "print a GGUF file's metadata and tensor table (text or --json)"},
    {"tensor", RunTensor, "print one dequantized row of a tensor as JSON"},
    {"synth", RunSynth, "write a synthetic gemma-embedding model with random weights"},
};

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: ggufembed COMMAND [options]   (ggufembed COMMAND --help for details)\n\n"
               "commands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-9s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\n  --version  print the version and the SIMD target in use\n"
               "\nenvironment:\n"
               "  GGUFEMBED_TARGET  best (default), avx512vnni, avx512, avx2 or scalar: the SIMD\n"
               "                    code the forward pass runs (results are the same bits)\n");
}

}  // namespace

int ReportError(const char* command, const Status& status) {
  std::fprintf(stderr, "ggufembed %s: %s\n", command, status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

}  // namespace ggufembed

int main(int argc, char** argv) {
  using namespace ggufembed;
  if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") ||
      !std::strcmp(argv[1], "-h")) {
    PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : 0;
  }
  if (const char* target = std::getenv("GGUFEMBED_TARGET"); target && *target) {
    if (Status s = SetSimdTarget(target); !s.ok()) {
      std::fprintf(stderr, "ggufembed: GGUFEMBED_TARGET: %s\n", s.message().c_str());
      return kExitUsage;
    }
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("ggufembed %s (SIMD target %s; supported: %s)\n", GGUFEMBED_VERSION,
                SimdTargetName(), SupportedSimdTargets().c_str());
    return 0;
  }
  for (const Command& c : kCommands) {
    if (!std::strcmp(argv[1], c.name)) {
      // The library returns out_of_memory itself; this catches the command's own allocations.
      return CatchAllocationFailure(
          "running the command", [&] { return c.run(argc, argv); },
          [&](const Status& status) { return ReportError(c.name, status); });
    }
  }
  std::fprintf(stderr, "ggufembed: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return kExitUsage;
}
