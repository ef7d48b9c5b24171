// `ggufembed info`: metadata and tensor table of a GGUF file, like gguf-dump.
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "gguf/gguf_info.h"
#include "gguf/tensor_values.h"

namespace ggufembed {

int RunInfo(int argc, char** argv) {
  bool json = false, full = false, check = false;
  std::vector<std::string> files;
  ArgParser args("info MODEL.gguf [--json] [--full-arrays] [--check-tensors]",
                 "Prints the GGUF header, every metadata key with its type and value (arrays\n"
                 "summarized by their first 8 elements) and the tensor table: name, type, shape\n"
                 "(ne order, ne[0] contiguous), offset in the data section and size in bytes.");
  args.Flag("json", nullptr, &json, "print one JSON object instead of a table");
  args.Flag("full-arrays", nullptr, &full, "print arrays in full (e.g. the whole vocabulary)");
  args.Flag("check-tensors", nullptr, &check,
            "then read every tensor's values: exit status 1 naming the first NaN or infinity");
  args.Positionals(&files, "MODEL.gguf");
  if (const int exit = args.ParseOrExit(argc, argv, "info"); exit >= 0) return exit;
  if (files.size() != 1) {
    return ReportError("info", Status(StatusCode::kInvalidArgument,
                                      "expected exactly one model file (see --help)"));
  }
  Result<GgufFile> file = GgufFile::Open(files[0]);
  if (!file.ok()) return ReportError("info", file.status());
  InfoOptions options;
  if (full) options.max_array_items = 0;
  options.write = [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
  };
  const std::string out =
      json ? FormatInfoJson(*file, options) + "\n" : FormatInfoText(*file, options);
  options.write(out);
  if (check) {
    std::fflush(stdout);
    if (Status s = CheckTensorValues(*file); !s.ok()) return ReportError("info", s);
  }
  return 0;
}

}  // namespace ggufembed
