// `ggufembed embed`: texts (arguments, or one per line on stdin) to vectors in several formats.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "args.h"
#include "commands.h"
#include "ggufembed/embedder.h"
#include "text/prompts.h"
#include "util/json.h"

namespace ggufembed {
namespace {

enum class Format { kJson, kJsonPlus, kJsonl, kRaw, kSimilarity };

Result<Format> ParseFormat(const std::string& s) {
  if (s == "json") return Format::kJson;
  if (s == "json+") return Format::kJsonPlus;
  if (s == "jsonl") return Format::kJsonl;
  if (s == "raw") return Format::kRaw;
  if (s == "similarity") return Format::kSimilarity;
  return Error(StatusCode::kInvalidArgument,
               "--format '%s' is not one of json, json+, jsonl, raw, similarity", s.c_str());
}

// Cosine similarity of two vectors (normalized or not).
float Cosine(const float* a, const float* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return aa > 0 && bb > 0 ? static_cast<float>(ab / std::sqrt(aa * bb)) : 0.0f;
}

void AppendVector(std::string& out, const float* v, int n) {
  out += '[';
  for (int i = 0; i < n; ++i) {
    if (i) out += ',';
    AppendJsonFloat(out, v[i]);
  }
  out += ']';
}

// {"index":i,"tokens":n,"truncated":b,"embedding":[...]}; pooling none: one array per token.
std::string ResultJson(size_t index, const Embedding& e) {
  std::string out = StrFormat("{\"index\":%zu,\"tokens\":%d,\"truncated\":%s", index, e.n_tokens,
                              e.truncated ? "true" : "false");
  if (e.truncated) out += StrFormat(",\"input_tokens\":%d", e.n_input_tokens);
  out += ",\"embedding\":";
  if (e.rows == 1) {
    AppendVector(out, e.values.data(), e.dim);
  } else {
    out += '[';
    for (int r = 0; r < e.rows; ++r) {
      if (r) out += ',';
      AppendVector(out, &e.values[size_t(r) * e.dim], e.dim);
    }
    out += ']';
  }
  return out + "}";
}

// A one-line progress bar on stderr, redrawn at most ten times a second.
class Progress {
 public:
  Progress(size_t total, bool enabled) : total_(total), enabled_(enabled) {}
  void Update(size_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const int width = 30, filled = static_cast<int>(width * done / total_);
    std::fprintf(stderr, "\r[%s%s] %zu/%zu texts, %.1f texts/s ",
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(width - filled), '.').c_str(), done, total_,
                 seconds > 0 ? done / seconds : 0.0);
    if (done == total_) std::fputc('\n', stderr);
  }

 private:
  size_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

// Texts are labelled by their first characters in the similarity table.
std::string Label(const std::string& text) {
  std::string label;
  for (char c : text) {
    if (label.size() >= 24) {
      label += "...";
      break;
    }
    label += (c == '\n' || c == '\t') ? ' ' : c;
  }
  return label;
}

// The output of the json, json+ and similarity formats, which need every result.
std::string Summary(Format format, const std::string& model, const std::vector<std::string>& texts,
                    const std::vector<Embedding>& results, bool normalized) {
  // Similarity of the first row of each result (the pooled vector).
  const size_t n = results.size();
  std::vector<float> sim(n * n);
  for (size_t a = 0; a < n; ++a) {
    for (size_t b = 0; b < n; ++b) {
      sim[a * n + b] = Cosine(results[a].values.data(), results[b].values.data(), results[a].dim);
    }
  }
  std::string out;
  if (format == Format::kSimilarity) {
    out += "cosine similarity:\n";
    for (size_t a = 0; a < n; ++a) {
      out += StrFormat("%-28s", Label(texts[a]).c_str());
      for (size_t b = 0; b < n; ++b) out += StrFormat(" %6.3f", sim[a * n + b]);
      out += '\n';
    }
  } else {
    out = "{\"model\":";
    AppendJsonString(out, model);
    out += StrFormat(",\"dim\":%d,\"normalized\":%s,\"data\":[", results.front().dim,
                     normalized ? "true" : "false");
    for (size_t i = 0; i < n; ++i) out += (i ? "," : "") + ResultJson(i, results[i]);
    out += "]";
    if (format == Format::kJsonPlus) {
      out += ",\"similarity\":[";
      for (size_t a = 0; a < n; ++a) {
        AppendVector(out += (a ? "," : ""), &sim[a * n], static_cast<int>(n));
      }
      out += "]";
    }
    out += "}\n";
  }
  return out;
}

// One result in the jsonl or raw format, written as soon as it is ready.
std::string StreamedResult(Format format, size_t index, const Embedding& e) {
  if (format == Format::kJsonl) return ResultJson(index, e) + "\n";
  std::string lines;
  for (int row = 0; row < e.rows; ++row) {
    for (int j = 0; j < e.dim; ++j) {
      lines += StrFormat(j ? " %.9g" : "%.9g", e.values[size_t(row) * e.dim + j]);
    }
    lines += '\n';
  }
  return lines;
}

// The lines of `in`, without their line ends (CRLF files included).
std::vector<std::string> ReadLines(std::istream& in) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

// The command line of `embed`.
struct EmbedFlags {
  std::string model, prompt, title, prompt_text, format = "json", pooling;
  int64_t dim = 0;
  bool no_normalize = false, truncate = false, no_parse_special = false, quiet = false;
  bool reference = false;
  std::vector<std::string> texts;
};

void DeclareFlags(ArgParser& args, EmbedFlags* f) {
  args.Option("model", "m", &f->model, "FILE", "the GGUF model (required)");
  args.Option("prompt", "p", &f->prompt, "NAME", "prepend EmbeddingGemma's prompt for this task");
  args.Option("title", nullptr, &f->title, "TEXT", "document title for --prompt document");
  args.Option("prompt-text", nullptr, &f->prompt_text, "TEXT", "prepend this text instead");
  args.Option("dim", "d", &f->dim, "N", "keep the first N components (Matryoshka)", 0, 1 << 24);
  args.Flag("no-normalize", nullptr, &f->no_normalize, "do not L2-normalize");
  args.Flag("truncate", nullptr, &f->truncate,
            "cut texts longer than the context instead of failing");
  args.Option("pooling", nullptr, &f->pooling, "P",
              "mean, cls, last or none (default: the file's)");
  args.Flag("no-parse-special", nullptr, &f->no_parse_special,
            "treat special-token text like <eos> as plain text");
  args.Option("format", "f", &f->format, "F",
              "json (default), json+ (with a cosine-similarity matrix), jsonl, raw, similarity");
  args.Flag("reference", nullptr, &f->reference,
            "run the scalar reference forward pass (the same vectors, many times slower)");
  args.Flag("quiet", "q", &f->quiet, "do not print notes about the model");
  args.Positionals(&f->texts, "TEXT");
}

Result<EmbedOptions> ToOptions(const EmbedFlags& f) {
  EmbedOptions options;
  options.prompt = f.prompt;
  options.title = f.title;
  options.prompt_text = f.prompt_text;
  options.dim = static_cast<int>(f.dim);
  options.normalize = !f.no_normalize;
  options.truncate = f.truncate;
  options.parse_special = !f.no_parse_special;
  options.reference = f.reference;
  if (!f.pooling.empty()) {
    GGUFEMBED_ASSIGN_OR_RETURN(options.pooling, ParsePooling(f.pooling));
  }
  return options;
}

}  // namespace

int RunEmbed(int argc, char** argv) {
  EmbedFlags flags;
  std::string prompts;
  for (const std::string& n : PromptNames()) prompts += (prompts.empty() ? "" : ", ") + n;
  ArgParser args(
      "embed -m MODEL.gguf [options] [TEXT ...]",
      "Embeds each TEXT, or each line of standard input when no TEXT is given. Vectors are\n"
      "pooled as the file says (mean for EmbeddingGemma), projected by the dense layers when\n"
      "present, cut to --dim and L2-normalized. Texts that spell special tokens (<eos>) get\n"
      "those tokens. Task prompts: " +
          prompts + ".");
  DeclareFlags(args, &flags);
  if (const int exit = args.ParseOrExit(argc, argv, "embed"); exit >= 0) return exit;
  if (flags.model.empty()) {
    return ReportError("embed", Status(StatusCode::kInvalidArgument, "missing -m MODEL.gguf"));
  }
  Result<Format> format = ParseFormat(flags.format);
  if (!format.ok()) return ReportError("embed", format.status());
  Result<EmbedOptions> parsed = ToOptions(flags);
  if (!parsed.ok()) return ReportError("embed", parsed.status());
  const EmbedOptions& options = *parsed;
  const std::string& model = flags.model;
  std::vector<std::string>& texts = flags.texts;
  const bool from_stdin = texts.empty();
  if (from_stdin) {
    texts = ReadLines(std::cin);
    if (texts.empty()) {
      return ReportError("embed", Status(StatusCode::kInvalidArgument,
                                         "no TEXT arguments and nothing on standard input"));
    }
  }

  Result<std::unique_ptr<Embedder>> embedder = Embedder::Load(model);
  if (!embedder.ok()) return ReportError("embed", embedder.status());
  if (!flags.quiet) {
    for (const std::string& w : (*embedder)->warnings()) {
      std::fprintf(stderr, "ggufembed embed: note: %s\n", w.c_str());
    }
  }
  // Check the options once, before any output.
  if (Status check = (*embedder)->CheckOptions(options); !check.ok()) {
    return ReportError("embed", check);
  }

  Progress progress(texts.size(), texts.size() > 1 && isatty(STDERR_FILENO));
  std::vector<Embedding> results;
  for (size_t i = 0; i < texts.size(); ++i) {
    Result<std::vector<Embedding>> r = (*embedder)->Embed({texts[i]}, options);
    if (!r.ok()) {
      const std::string where =
          from_stdin ? StrFormat("line %zu", i + 1) : StrFormat("text %zu", i + 1);
      // A text that cannot be embedded is a failure of the work, not of the command line.
      ReportError("embed", Status(r.status().code(), where + ": " + r.status().message()));
      return kExitFailure;
    }
    Embedding& e = r->front();
    if (*format == Format::kJsonl || *format == Format::kRaw) {
      const std::string out = StreamedResult(*format, i, e);
      std::fwrite(out.data(), 1, out.size(), stdout);
    } else {
      results.push_back(std::move(e));
    }
    progress.Update(i + 1);
  }
  if (*format == Format::kJsonl || *format == Format::kRaw) return 0;

  const std::string out = Summary(*format, model, texts, results, options.normalize);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace ggufembed
