// ggufembed: the command-line front end (dispatches to one subcommand).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
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
    {"synth", RunSynth,
     "write a synthetic gemma-embedding or gemma-embedding2 model with random weights"},
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

// Standard streams the shell closed (`>&-`) are held open on /dev/null in the direction that
// fails: otherwise the first file the command opened would take the number, and its output would
// go there, or be lost with exit status 0.
void ReserveStandardStreams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int reserved = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
    if (reserved >= 0 && reserved != fd) close(reserved);  // fd was opened meanwhile: leave it
  }
}

// `status`, or 1 with a message naming `command` when what it printed to the standard output
// could not all be written (a full disk, a closed stream): not a success with the output lost.
int FinishStandardOutput(const char* command, int status) {
  errno = 0;
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return status;
  // stdio keeps no error number for a failure before this flush: then none is given.
  const int err = errno;
  std::fprintf(stderr, "ggufembed%s%s: cannot write the standard output%s%s\n", *command ? " " : "",
               command, err != 0 ? ": " : "", err != 0 ? std::strerror(err) : "");
  return status == 0 ? kExitFailure : status;
}

}  // namespace

int ReportError(const char* command, const Status& status) {
  std::fprintf(stderr, "ggufembed %s: %s\n", command, status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

void NoteCheckTensors(const char* command, const Status& status, const std::string& model) {
  if (status.code() != StatusCode::kNotFinite) return;
  std::fprintf(stderr,
               "ggufembed %s: note: `ggufembed info --check-tensors %s` checks every weight for "
               "NaN and infinity\n",
               command, model.c_str());
}

}  // namespace ggufembed

int main(int argc, char** argv) {
  using namespace ggufembed;
  ReserveStandardStreams();
  // A write past the file size limit (ulimit -f) fails with EFBIG and is reported like a full
  // disk, instead of the signal killing the process with no message and a temporary file left.
  std::signal(SIGXFSZ, SIG_IGN);
  if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") ||
      !std::strcmp(argv[1], "-h")) {
    PrintUsage(argc < 2 ? stderr : stdout);
    return FinishStandardOutput("", argc < 2 ? kExitUsage : 0);
  }
  if (const char* target = std::getenv("GGUFEMBED_TARGET"); target && *target) {
    if (Status s = SetSimdTarget(target); !s.ok()) {
      std::fprintf(stderr, "ggufembed: GGUFEMBED_TARGET: %s\n", s.message().c_str());
      return kExitUsage;
    }
  }
  if (!std::strcmp(argv[1], "--version")) {
    if (argc > 2) {
      std::fprintf(stderr, "ggufembed: --version takes no arguments (got '%s')\n", argv[2]);
      return kExitUsage;
    }
    std::printf("ggufembed %s (SIMD target %s; supported: %s)\n", GGUFEMBED_VERSION,
                SimdTargetName(), SupportedSimdTargets().c_str());
    return FinishStandardOutput("", 0);
  }
  for (const Command& c : kCommands) {
    if (!std::strcmp(argv[1], c.name)) {
      // The library returns out_of_memory itself; this catches the command's own allocations.
      return FinishStandardOutput(
          c.name, CatchAllocationFailure(
                      "running the command", [&] { return c.run(argc, argv); },
                      [&](const Status& status) { return ReportError(c.name, status); }));
    }
  }
  std::fprintf(stderr, "ggufembed: unknown command '%s'\n\n", argv[1]);
  PrintUsage(stderr);
  return kExitUsage;
}
