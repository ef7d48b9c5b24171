// The CLI subcommands; each parses its own arguments and returns the process exit code.
#ifndef GGUFEMBED_NATIVE_COMMANDS_H_
#define GGUFEMBED_NATIVE_COMMANDS_H_

#include <string>

#include "ggufembed/status.h"

namespace ggufembed {

// Exit codes: 0 success, 1 the work failed (bad model file, I/O), 2 bad command line.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Prints "ggufembed COMMAND: MESSAGE" to stderr and returns the exit code for `status`.
int ReportError(const char* command, const Status& status);

// After a not_finite error of embedding with `model`: says how to find which weight, if any, is
// NaN or infinite (the library's message cannot name a command).
void NoteCheckTensors(const char* command, const Status& status, const std::string& model);

int RunBench(int argc, char** argv);
int RunEmbed(int argc, char** argv);
int RunInfo(int argc, char** argv);
int RunSynth(int argc, char** argv);
int RunTensor(int argc, char** argv);
int RunTokenize(int argc, char** argv);

}  // namespace ggufembed

#endif  // GGUFEMBED_NATIVE_COMMANDS_H_
