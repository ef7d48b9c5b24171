// A small declarative command-line parser for the CLI subcommands: options, flags, help text.
#ifndef GGUFEMBED_NATIVE_ARGS_H_
#define GGUFEMBED_NATIVE_ARGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ggufembed/status.h"

namespace ggufembed {

class ArgParser {
 public:
  // `usage` is the synopsis after "ggufembed"; `description` a paragraph shown by --help.
  ArgParser(std::string usage, std::string description);

  // `--name` (and `-short` when given) sets `*out` to true.
  void Flag(const char* name, const char* short_name, bool* out, const char* help);
  // `--name VALUE`, `--name=VALUE` (and `-short VALUE`).
  void Option(const char* name, const char* short_name, std::string* out, const char* metavar,
              const char* help);
  // The same for an integer in [min, max].
  void Option(const char* name, const char* short_name, int64_t* out, const char* metavar,
              const char* help, int64_t min, int64_t max);
  // Positional arguments; without this call, any positional argument is an error.
  void Positionals(std::vector<std::string>* out, const char* metavar);

  // Parses argv[first..argc). Unknown options, missing values and malformed numbers are
  // kInvalidArgument errors naming the option. `-h`/`--help` sets help_requested().
  Status Parse(int argc, char** argv, int first);
  bool help_requested() const { return help_requested_; }
  std::string Help() const;

  // Parses the arguments of subcommand `command` (argv[2..]). Returns -1 when the command should
  // go on; otherwise the exit code after printing --help (0) or the usage error (2).
  int ParseOrExit(int argc, char** argv, const char* command);

 private:
  struct Spec {
    std::string name, short_name, metavar, help;
    bool* flag = nullptr;
    std::string* text = nullptr;
    int64_t* integer = nullptr;
    int64_t min = 0, max = 0;
  };
  const Spec* Find(const std::string& arg) const;

  std::string usage_, description_;
  std::vector<Spec> specs_;
  std::vector<std::string>* positionals_ = nullptr;
  std::string positional_metavar_;
  bool help_requested_ = false;
};

}  // namespace ggufembed

#endif  // GGUFEMBED_NATIVE_ARGS_H_
