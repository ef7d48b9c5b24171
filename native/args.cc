// ArgParser implementation.
#include "args.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "util/error.h"

namespace ggufembed {

ArgParser::ArgParser(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {}

void ArgParser::Flag(const char* name, const char* short_name, bool* out, const char* help) {
  Spec s{name, short_name ? short_name : "", "", help};
  s.flag = out;
  specs_.push_back(s);
}

void ArgParser::Option(const char* name, const char* short_name, std::string* out,
                       const char* metavar, const char* help) {
  Spec s{name, short_name ? short_name : "", metavar, help};
  s.text = out;
  specs_.push_back(s);
}

void ArgParser::Option(const char* name, const char* short_name, int64_t* out, const char* metavar,
                       const char* help, int64_t min, int64_t max) {
  Spec s{name, short_name ? short_name : "", metavar, help};
  s.integer = out;
  s.min = min;
  s.max = max;
  specs_.push_back(s);
}

void ArgParser::Positionals(std::vector<std::string>* out, const char* metavar) {
  positionals_ = out;
  positional_metavar_ = metavar;
}

const ArgParser::Spec* ArgParser::Find(const std::string& arg) const {
  for (const Spec& s : specs_) {
    if (arg == "--" + s.name || (!s.short_name.empty() && arg == "-" + s.short_name)) return &s;
  }
  return nullptr;
}

Status ArgParser::Parse(int argc, char** argv, int first) {
  bool only_positionals = false;
  std::vector<const Spec*> given;  // options with a value: a second one would silently win
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_positionals || arg.size() < 2 || arg[0] != '-') {
      if (positionals_ == nullptr) {
        return Error(StatusCode::kInvalidArgument, "unexpected argument '%s'", arg.c_str());
      }
      positionals_->push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      continue;
    }
    std::string value;
    bool has_value = false;
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const Spec* spec = Find(arg);
    if (spec == nullptr) {
      return Error(StatusCode::kInvalidArgument, "unknown option '%s' (see --help)", arg.c_str());
    }
    if (spec->flag != nullptr) {
      if (has_value) {
        return Error(StatusCode::kInvalidArgument, "option '%s' takes no value", arg.c_str());
      }
      *spec->flag = true;
      continue;
    }
    if (std::find(given.begin(), given.end(), spec) != given.end()) {
      return Error(StatusCode::kInvalidArgument, "option '%s' is given twice", arg.c_str());
    }
    given.push_back(spec);
    if (!has_value) {
      if (i + 1 >= argc) {
        return Error(StatusCode::kInvalidArgument, "option '%s' needs a value (%s)", arg.c_str(),
                     spec->metavar.c_str());
      }
      value = argv[++i];
    }
    if (spec->text != nullptr) {
      // Empty would read as not given (-p "" as no prompt, -f "" as json): refused instead.
      if (value.empty()) {
        return Error(StatusCode::kInvalidArgument, "option '%s' needs a value, not an empty one",
                     arg.c_str());
      }
      *spec->text = value;
      continue;
    }
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(value.c_str(), &end, 10);
    // strtoll skips leading whitespace; the option's value is taken as written (" 5" like "5 ").
    if (value.empty() || std::isspace(static_cast<unsigned char>(value[0])) || *end != '\0' ||
        errno == ERANGE) {
      return Error(StatusCode::kInvalidArgument, "option '%s' expects an integer, got '%s'",
                   arg.c_str(), value.c_str());
    }
    if (v < spec->min || v > spec->max) {
      return Error(StatusCode::kInvalidArgument,
                   "option '%s' is %lld, must be between %" PRId64 " and %" PRId64, arg.c_str(), v,
                   spec->min, spec->max);
    }
    *spec->integer = v;
  }
  return OkStatus();
}

int ArgParser::ParseOrExit(int argc, char** argv, const char* command) {
  const Status status = Parse(argc, argv, 2);
  if (!status.ok()) return ReportError(command, status);
  if (help_requested_) {
    std::fputs(Help().c_str(), stdout);
    return 0;
  }
  return -1;
}

std::string ArgParser::Help() const {
  std::string out = "usage: ggufembed " + usage_ + "\n\n" + description_ + "\n";
  if (!specs_.empty()) out += "\noptions:\n";
  for (const Spec& s : specs_) {
    std::string left = "  ";
    left += s.short_name.empty() ? "    " : "-" + s.short_name + ", ";
    left += "--" + s.name;
    if (!s.metavar.empty()) left += " " + s.metavar;
    if (left.size() < 28) left.resize(28, ' ');
    out += left + " " + s.help + "\n";
  }
  out += "  -h, --help                 show this help\n";
  return out;
}

}  // namespace ggufembed
