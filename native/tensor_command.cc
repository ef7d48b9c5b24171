// `ggufembed tensor`: one dequantized row of a tensor, as a JSON array of floats.
#include <cstdio>
#include <vector>

#include "args.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "util/error.h"
#include "util/json.h"

namespace ggufembed {

int RunTensor(int argc, char** argv) {
  int64_t row = 0;
  std::vector<std::string> positionals;
  ArgParser args("tensor MODEL.gguf TENSOR_NAME [--row N]",
                 "Dequantizes row N (ne[0] values) of the named tensor to f32 and prints it as a\n"
                 "JSON array with 9 significant digits; a value that is not finite as the string\n"
                 "\"NaN\", \"Infinity\" or \"-Infinity\" (JSON has no such numbers).");
  args.Option("row", "r", &row, "N", "row index (default 0)", 0, INT64_MAX);
  args.Positionals(&positionals, "MODEL.gguf TENSOR_NAME");
  if (const int exit = args.ParseOrExit(argc, argv, "tensor"); exit >= 0) return exit;
  if (positionals.size() != 2) {
    return ReportError("tensor", Status(StatusCode::kInvalidArgument,
                                        "expected a model file and a tensor name (see --help)"));
  }
  Result<GgufFile> file = GgufFile::Open(positionals[0]);
  if (!file.ok()) return ReportError("tensor", file.status());
  const GgufTensorInfo* tensor = file->FindTensor(positionals[1]);
  if (tensor == nullptr) {
    return ReportError("tensor", Error(StatusCode::kInvalidArgument, "%s: no tensor named '%s'",
                                       positionals[0].c_str(), positionals[1].c_str()));
  }
  std::vector<float> values(static_cast<size_t>(tensor->ne[0]));
  if (Status s = DequantizeTensorRow(*tensor, row, values.data()); !s.ok()) {
    // The row check names the tensor already; a type without a dequantizer does not.
    const bool named = s.code() == StatusCode::kInvalidArgument;
    return ReportError("tensor", named
                                     ? s
                                     : Status(s.code(), positionals[0] + ": tensor '" +
                                                            positionals[1] + "': " + s.message()));
  }
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    AppendJsonNamedNumber(out, values[i], 9);
  }
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace ggufembed
