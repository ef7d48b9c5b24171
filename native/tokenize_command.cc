// `ggufembed tokenize`: the token ids of a text, as the model's tokenizer produces them.
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "ggufembed/embedder.h"
#include "util/error.h"
#include "util/json.h"

namespace ggufembed {

int RunTokenize(int argc, char** argv) {
  std::string model;
  bool no_special = false, pieces = false;
  std::vector<std::string> texts;
  ArgParser args("tokenize -m MODEL.gguf [--no-special] [--pieces] TEXT",
                 "Prints the token ids of TEXT as a JSON array: with BOS/EOS as the file asks and\n"
                 "special-token text (like <eos>) turned into those tokens, exactly what `embed`\n"
                 "feeds the model (without a prompt).");
  args.Option("model", "m", &model, "FILE", "the GGUF model (required)");
  args.Flag("no-special", nullptr, &no_special,
            "no BOS/EOS and special-token text stays text (llama.cpp's tokenizer tests use this)");
  args.Flag("pieces", nullptr, &pieces, "print {\"id\", \"piece\"} objects instead of bare ids");
  args.Positionals(&texts, "TEXT");
  if (const int exit = args.ParseOrExit(argc, argv, "tokenize"); exit >= 0) return exit;
  if (model.empty()) {
    return ReportError("tokenize", Status(StatusCode::kInvalidArgument, "missing -m MODEL.gguf"));
  }
  if (texts.size() != 1) {
    return ReportError(
        "tokenize", Status(StatusCode::kInvalidArgument, "expected exactly one TEXT (quote it)"));
  }
  Result<std::unique_ptr<Embedder>> embedder = Embedder::Load(model);
  if (!embedder.ok()) return ReportError("tokenize", embedder.status());
  Result<std::vector<int32_t>> ids = (*embedder)->Tokenize(texts[0], !no_special, !no_special);
  if (!ids.ok()) {  // a text that cannot be tokenized fails the work, as in `embed`: exit 1
    ReportError("tokenize", ids.status());
    return kExitFailure;
  }
  std::string out = "[";
  for (size_t i = 0; i < ids->size(); ++i) {
    const int32_t id = (*ids)[i];
    if (i) out += pieces ? ", " : ",";
    if (pieces) {
      out += StrFormat("{\"id\":%d,\"piece\":", id);
      AppendJsonString(out, (*embedder)->TokenPiece(id));
      out += "}";
    } else {
      out += std::to_string(id);
    }
  }
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace ggufembed
