// `ggufembed embed`: texts (arguments, lines, or JSONL records with ids) to vectors in several
// formats, streamed in input order from a pool of threads.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "args.h"
#include "commands.h"
#include "gguf/gguf.h"
#include "gguf/tensor_values.h"
#include "ggufembed/embedder.h"
#include "records.h"
#include "text/prompts.h"
#include "util/alloc_guard.h"
#include "util/error.h"
#include "util/json.h"

namespace ggufembed {
namespace {

enum class Format { kJson, kJsonPlus, kJsonl, kRaw, kSimilarity, kF32, kNpy };

Result<Format> ParseFormat(const std::string& s) {
  if (s == "json") return Format::kJson;
  if (s == "json+") return Format::kJsonPlus;
  if (s == "jsonl") return Format::kJsonl;
  if (s == "raw") return Format::kRaw;
  if (s == "similarity") return Format::kSimilarity;
  if (s == "f32") return Format::kF32;
  if (s == "npy") return Format::kNpy;
  return Error(StatusCode::kInvalidArgument,
               "--format '%s' is not one of json, json+, jsonl, raw, similarity, f32, npy",
               s.c_str());
}

// Formats that print every result together at the end.
bool Collects(Format f) {
  return f == Format::kJson || f == Format::kJsonPlus || f == Format::kSimilarity;
}
bool Binary(Format f) { return f == Format::kF32 || f == Format::kNpy; }

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

// {"<key>":<value>,"tokens":n,"truncated":b,"embedding":[...]}: key "index" (text input) or
// "id" (JSONL input, the record's id as JSON); pooling none: one array per token.
std::string ResultJson(std::string_view key, std::string_view value_json, const Embedding& e) {
  std::string out = "{";
  AppendJsonString(out, key);
  out += ':';
  out += value_json;
  out += StrFormat(",\"tokens\":%d,\"truncated\":%s", e.n_tokens, e.truncated ? "true" : "false");
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
std::string ResultJson(size_t index, const Embedding& e) {
  return ResultJson("index", std::to_string(index), e);
}

// A one-line progress report on stderr, redrawn at most ten times a second: records, records/s,
// and the ETA when the input's size is known.
class Progress {
 public:
  Progress(bool enabled, uint64_t input_bytes) : enabled_(enabled), input_bytes_(input_bytes) {}
  // `bytes_done`: of the input lines whose records are written (reading runs a chunk ahead of
  // them, so the bytes read would say the end is near long before it is).
  void Update(size_t done, uint64_t bytes_done, bool last = false) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!last && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? done / seconds : 0.0;
    std::string eta;
    if (input_bytes_ > 0 && bytes_done > 0 && !last) {
      const double left = seconds * (double(input_bytes_) / double(bytes_done) - 1.0);
      eta = StrFormat(", ETA %.0f s", std::max(0.0, left));
    }
    std::fprintf(stderr, "\r%zu records, %.1f records/s%s   ", done, rate, eta.c_str());
    if (last) std::fputc('\n', stderr);
  }

 private:
  bool enabled_;
  uint64_t input_bytes_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

// Texts are labelled by their first characters in the similarity table: whole UTF-8
// characters (texts are valid UTF-8), control characters (a newline, a terminal's escape) as
// spaces.
std::string Label(const std::string& text) {
  std::string label;
  for (char c : text) {
    const auto byte = static_cast<uint8_t>(c);
    if (label.size() >= 24 && (byte & 0xC0) != 0x80) {  // not inside a character
      label += "...";
      break;
    }
    label += byte < 0x20 || byte == 0x7F ? ' ' : c;
  }
  return label;
}

// The most texts json+ and similarity take: their n × n table (4096² floats are 64 MiB; as text
// about 120 MB) is for a handful of texts, not a corpus.
constexpr size_t kMaxSimilarityTexts = 4096;

// The output of the json, json+ and similarity formats, which need every result; `dim` is the
// vectors' size (an empty input has no vector to tell it). `ids`: the records' ids as JSON (JSONL
// input: each result keyed "id", as in jsonl), or empty (text input: keyed "index").
std::string Summary(Format format, const std::string& model, const std::vector<std::string>& texts,
                    const std::vector<std::string>& ids, const std::vector<Embedding>& results,
                    int dim, bool normalized) {
  // Similarity of the first row of each result (the pooled vector), for the formats that print it.
  const size_t n = results.size();
  std::vector<float> sim;
  if (format != Format::kJson) {
    sim.resize(n * n);
    for (size_t a = 0; a < n; ++a) {
      for (size_t b = 0; b < n; ++b) {
        sim[a * n + b] = Cosine(results[a].values.data(), results[b].values.data(), dim);
      }
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
    out +=
        StrFormat(",\"dim\":%d,\"normalized\":%s,\"data\":[", dim, normalized ? "true" : "false");
    for (size_t i = 0; i < n; ++i) {
      if (i) out += ',';
      out += ids.empty() ? ResultJson(i, results[i]) : ResultJson("id", ids[i], results[i]);
    }
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
// `token_rows` (pooling none): raw ends each text's rows, one per token, with an empty line, so
// that the texts can be told apart.
std::string StreamedResult(Format format, size_t index, const Embedding& e, bool token_rows) {
  if (format == Format::kJsonl) return ResultJson(index, e) + "\n";
  std::string lines;
  for (int row = 0; row < e.rows; ++row) {
    for (int j = 0; j < e.dim; ++j) {
      lines += StrFormat(j ? " %.9g" : "%.9g", e.values[size_t(row) * e.dim + j]);
    }
    lines += '\n';
  }
  if (token_rows) lines += '\n';
  return lines;
}

// The command line of `embed`.
struct EmbedFlags {
  std::string model, prompt, title, prompt_text, format, pooling;  // format: json, jsonl for JSONL
  std::string input_format = "text", input, output, ids, on_error = "fail";
  int64_t dim = 0, threads = 0, pack_tokens = BatchOptions{}.pack_tokens;
  int64_t max_line_bytes = static_cast<int64_t>(kDefaultMaxLineBytes);
  bool no_normalize = false, truncate = false, no_parse_special = false, quiet = false;
  bool reference = false, check_tensors = false;
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
  args.Option("input-format", nullptr, &f->input_format, "F",
              "text (default: one text per line) or jsonl ({\"id\":…,\"text\":…} per line, "
              "optional \"title\" and \"prompt\")");
  args.Option("input", "i", &f->input, "FILE", "read texts or records from FILE (default: stdin)");
  args.Option("max-line-bytes", nullptr, &f->max_line_bytes, "N",
              "an input line (text or record) longer than N bytes is not read but an error "
              "(default 8 MiB)",
              1, int64_t{1} << 40);
  args.Option("output", "o", &f->output, "FILE", "write to FILE (default: stdout)");
  args.Option("format", "f", &f->format, "F",
              "json (default; jsonl for jsonl input), json+ (with a cosine-similarity matrix), "
              "jsonl, raw, similarity, f32 (little-endian float32 rows), npy");
  args.Option("ids", nullptr, &f->ids, "FILE",
              "with f32/npy: write each record's id, row, tokens (or error) to FILE as JSONL");
  args.Option("on-error", nullptr, &f->on_error, "MODE",
              "fail (default: stop at the first text that cannot be embedded) or record (write "
              "its error in its place and go on; jsonl, raw, f32 and npy)");
  args.Option("threads", "t", &f->threads, "N",
              "passes run at once, one per thread (default, or 0: the cores this process may use)",
              0, 4096);
  args.Option("pack-tokens", nullptr, &f->pack_tokens, "N",
              "texts shorter than N tokens share passes of up to N tokens (default 256; 0: "
              "every text alone); the vectors are the same bits",
              0, 1 << 20);
  args.Flag("reference", nullptr, &f->reference,
            "run the scalar reference forward pass (the same vectors, many times slower)");
  args.Flag("check-tensors", nullptr, &f->check_tensors,
            "read every weight first and refuse a model holding NaN or infinity (without it, "
            "one is found when a text meets it)");
  args.Flag("quiet", "q", &f->quiet, "do not print notes about the model or progress");
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

// The regular file an output or input is, to tell two names of one file from two files: its
// device and inode, or for a file not there yet its directory's real path and its name (through
// a dangling symlink, the file it would create). Nothing for a terminal, a pipe or a device such
// as /dev/null, in which two writers cannot overwrite each other.
struct FileKey {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string planned;  // "" for an existing file
  bool operator==(const FileKey&) const = default;
};

std::optional<FileKey> KeyOf(const std::string& path, int links = 0) {
  if (path.empty() || links > 8) return std::nullopt;
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return std::nullopt;
    return FileKey{st.st_dev, st.st_ino, ""};
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "./" : path.substr(0, slash + 1);
  char target[PATH_MAX];
  if (const ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1); n > 0) {
    target[n] = '\0';
    return KeyOf(target[0] == '/' ? std::string(target) : dir + target, links + 1);
  }
  char real[PATH_MAX];
  if (realpath(dir.c_str(), real) == nullptr) return std::nullopt;  // opening it will say why
  return FileKey{0, 0, std::string(real) + "/" + path.substr(slash + 1)};
}

std::optional<FileKey> KeyOf(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileKey{st.st_dev, st.st_ino, ""};
}

// Where results go: stdout or a file, plus the ids file of the binary formats. Each record is
// handed to the kernel whole, in one write() (looping only if the kernel takes part of it), so a
// killed run leaves complete records and at most the beginning of the last one; for f32/npy the
// row goes out before its ids line, so every ids line's row is complete (the npy header's row
// count is rewritten after each row).
class Output {
 public:
  // Opens -o and --ids without emptying them: Begin() does that once the first record has been
  // read, so a run that ends before (an empty or unreadable input) leaves a file as it was, and
  // removes one it created. `dim`: the rows' size, for an npy header before the first row.
  Status Open(const EmbedFlags& f, Format format, int dim) {
    format_ = format;
    dim_ = dim;
    for (auto [path, fd, name, created] : {std::tuple{&f.output, &out_, &out_name_, &created_out_},
                                           std::tuple{&f.ids, &ids_, &ids_name_, &created_ids_}}) {
      if (path->empty()) continue;
      *fd = open(path->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      *created = *fd >= 0;
      // An existing file, or a symbolic link (O_EXCL does not follow it; this creates its target).
      if (*fd < 0 && errno == EEXIST)
        *fd = open(path->c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
      if (*fd < 0) {
        return Error(StatusCode::kIoError, "cannot write %s: %s", path->c_str(),
                     std::strerror(errno));
      }
      *name = *path;
    }
    // Refused before any work, not at the first row (it failed there with "Illegal seek").
    if (format == Format::kNpy && lseek(out_, 0, SEEK_CUR) < 0) {
      return Error(StatusCode::kInvalidArgument,
                   "--format npy needs -o FILE to be a file it can seek in (the header is "
                   "rewritten as rows go out), not a pipe: %s",
                   f.output.c_str());
    }
    return OkStatus();
  }
  // Empties the files (as O_TRUNC would have; a FIFO or device has nothing to empty) and writes
  // the npy header. Idempotent.
  Status Begin() {
    if (begun_) return OkStatus();
    begun_ = true;
    for (auto [fd, name] : {std::pair{out_, &out_name_}, std::pair{ids_, &ids_name_}}) {
      struct stat st;
      if (fd < 0 || fd == STDOUT_FILENO || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (ftruncate(fd, 0) != 0) {
        return Error(StatusCode::kIoError, "cannot write %s: %s", name->c_str(),
                     std::strerror(errno));
      }
    }
    // The header holds the row count, rewritten as rows go out; padded to a fixed size so it
    // can be.
    return format_ == Format::kNpy ? WriteNpyHeader(0, dim_) : OkStatus();
  }
  ~Output() {
    if (out_ != STDOUT_FILENO) close(out_);
    if (ids_ >= 0) close(ids_);
    if (begun_) return;
    if (created_out_) unlink(out_name_.c_str());
    if (created_ids_) unlink(ids_name_.c_str());
  }
  Status Write(std::string_view bytes) { return WriteAll(out_, out_name_, bytes); }
  Status WriteIds(std::string_view line) {
    return ids_ < 0 ? OkStatus() : WriteAll(ids_, ids_name_, line);
  }
  // NumPy's .npy v1.0 header for float32 rows of `dim` values, little-endian, C order, at the
  // start of the file.
  Status WriteNpyHeader(size_t rows, int dim) {
    std::string dict =
        StrFormat("{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %d), }", rows, dim);
    constexpr size_t kHeader = 128;  // magic, version, length, dict, padding, newline
    dict.resize(kHeader - 10 - 1, ' ');
    dict += '\n';
    std::string header("\x93NUMPY\x01\x00", 8);
    header += static_cast<char>((kHeader - 10) & 0xFF);
    header += static_cast<char>((kHeader - 10) >> 8);
    header += dict;
    if (pwrite(out_, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) {
      return Error(StatusCode::kIoError, "cannot write %s: %s", out_name_.c_str(),
                   std::strerror(errno));
    }
    if (rows == 0 && lseek(out_, kHeader, SEEK_SET) < 0) {
      return Error(StatusCode::kIoError, "cannot write %s: %s", out_name_.c_str(),
                   std::strerror(errno));
    }
    return OkStatus();
  }

 private:
  static Status WriteAll(int fd, const std::string& name, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = write(fd, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return Error(StatusCode::kIoError, "cannot write %s: %s", name.c_str(),
                     std::strerror(n < 0 ? errno : EIO));
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return OkStatus();
  }

  int out_ = STDOUT_FILENO;
  int ids_ = -1;
  std::string out_name_ = "the output", ids_name_;
  bool created_out_ = false, created_ids_ = false, begun_ = false;
  Format format_ = Format::kJson;
  int dim_ = 0;
};

// One input text: where it came from, what to call it in the output, and how to embed it.
struct Item {
  std::string where;    // "line 3", "text 2": for messages
  std::string id_json;  // the output's "id" (JSONL input) — empty for text input
  std::string text;
  EmbedOptions options;
  Status error;        // a record that could not even be read
  uint64_t bytes = 0;  // of its input line, newline included (for the progress line's ETA)
};

// What the flags ask for, once they are checked against each other.
struct EmbedPlan {
  Format format;
  bool jsonl_input;
  bool record_errors;  // --on-error record
  bool one_vector;     // the format has one row per text
  EmbedOptions options;
};

Status Usage(const std::string& message) { return Status(StatusCode::kInvalidArgument, message); }

// Checks the flags against each other before anything is opened (each error a usage error,
// kInvalidArgument) and resolves the format (its default too) and the embedding options.
Result<EmbedPlan> PlanEmbed(EmbedFlags& flags) {
  if (flags.model.empty()) return Usage("missing -m MODEL.gguf");
  const bool jsonl_input = flags.input_format == "jsonl";
  if (!jsonl_input && flags.input_format != "text") {
    return Usage("--input-format '" + flags.input_format + "' is not text or jsonl");
  }
  if (flags.on_error != "fail" && flags.on_error != "record") {
    return Usage("--on-error '" + flags.on_error + "' is not fail or record");
  }
  const bool record_errors = flags.on_error == "record";
  if (jsonl_input && !flags.texts.empty()) return Usage("--input-format jsonl reads no TEXT");
  if (!flags.input.empty() && !flags.texts.empty()) return Usage("give -i FILE or TEXT, not both");
  if (flags.format.empty()) flags.format = jsonl_input ? "jsonl" : "json";
  Result<Format> parsed = ParseFormat(flags.format);
  if (!parsed.ok()) return Usage(parsed.status().message());
  const Format format = *parsed;
  if (format == Format::kNpy && flags.output.empty()) {
    return Usage("--format npy needs -o FILE (its header is rewritten as rows go out)");
  }
  if (!flags.ids.empty() && !Binary(format)) return Usage("--ids goes with --format f32 or npy");
  if (flags.ids == "-") {  // not a file named "-", and not the standard output the rows may take
    return Usage("--ids needs a file name, not -");
  }
  if (Binary(format) && record_errors && flags.ids.empty()) {
    return Usage("--on-error record with --format f32/npy needs --ids FILE for the errors");
  }
  // One vector per text: the binary formats' rows and the similarity table's (pooling none gives
  // a row per token; the table compared the first tokens' rows). Checked again against the
  // file's own pooling once the model is loaded.
  const bool one_vector =
      Binary(format) || format == Format::kJsonPlus || format == Format::kSimilarity;
  if (one_vector && flags.pooling == "none") {
    return Usage("--format " + flags.format +
                 " needs one vector per text: not with --pooling none");
  }
  if (record_errors && Collects(format)) {
    return Usage("--on-error record needs a streamed format (jsonl, raw, f32, npy)");
  }
  Result<EmbedOptions> options = ToOptions(flags);
  if (!options.ok()) return Usage(options.status().message());
  return EmbedPlan{format, jsonl_input, record_errors, one_vector, *std::move(options)};
}

// Refuses an output that is the model (memory-mapped: truncating it crashed the run), the input
// (`input_key`: it was emptied before being read) or the other output (two write positions in
// one file), before anything is opened for writing — the standard output too, when -o is not
// given and the shell sent it to a file. Usage errors.
Status CheckOutputsAreNotInputs(const EmbedFlags& flags, const std::optional<FileKey>& input_key) {
  const std::optional<FileKey> model_key = KeyOf(flags.model);
  const std::string out_name = flags.output.empty() ? "the standard output" : "-o " + flags.output;
  const std::optional<FileKey> out_key =
      flags.output.empty() ? KeyOf(STDOUT_FILENO) : KeyOf(flags.output);
  const std::optional<FileKey> ids_key = KeyOf(flags.ids);
  for (const auto& [name, key] :
       {std::pair{out_name, &out_key}, std::pair{"--ids " + flags.ids, &ids_key}}) {
    if (!key->has_value()) continue;
    if (**key == model_key) return Usage(name + " is the model file");
    if (**key == input_key) return Usage(name + " is the input file");
  }
  if (out_key.has_value() && out_key == ids_key) {
    return Usage(
        StrFormat("%s and --ids %s are the same file", out_name.c_str(), flags.ids.c_str()));
  }
  return OkStatus();
}

// Lines of the input, reused from chunk to chunk.
struct LineChunk {
  std::vector<std::string> lines;
  std::vector<uint64_t> numbers, overlong;
};

// The next chunk of input lines as items into `items`: a JSONL record parsed (its prompt and
// title replacing those of `options`), an overlong line or a malformed record an item with its
// error (the reader passes over blank lines between JSONL records). False at the end of the
// input.
Result<bool> ReadItems(LineReader& reader, bool jsonl_input, const EmbedOptions& options,
                       LineChunk& chunk, std::vector<Item>& items) {
  chunk.lines.clear();
  chunk.numbers.clear();
  chunk.overlong.clear();
  GGUFEMBED_ASSIGN_OR_RETURN(const bool more, reader.NextChunk(1024, size_t{4} << 20, chunk.lines,
                                                               chunk.numbers, &chunk.overlong));
  if (!more) return false;
  for (size_t i = 0; i < chunk.lines.size(); ++i) {
    Item item{StrFormat("line %llu", static_cast<unsigned long long>(chunk.numbers[i])),
              "",
              std::move(chunk.lines[i]),
              options,
              {}};
    item.bytes = (chunk.overlong[i] > 0 ? chunk.overlong[i] : item.text.size()) + 1;
    if (chunk.overlong[i] > 0) {  // never read whole: an error in its place, its id if it leads
      item.error = OverlongLineError(chunk.overlong[i], reader.max_line_bytes());
      if (jsonl_input) item.id_json = IdOfLineHead(item.text);
      item.text.clear();
      items.push_back(std::move(item));
      continue;
    }
    // A NUL is valid UTF-8, but in a line of text it means UTF-16 or binary input, whose lines
    // would be embedded as garbage (JSONL's "\u0000" is a choice, and stays).
    if (const size_t nul = item.text.find('\0'); !jsonl_input && nul != std::string::npos) {
      item.error =
          Error(StatusCode::kInvalidArgument,
                "the text holds a NUL byte at byte %zu (is the input UTF-16 or binary?)", nul);
    }
    if (jsonl_input) {
      JsonlRecord record;
      item.error = ParseJsonlRecord(item.text, &record);
      item.id_json = record.id_json;
      // A line that is not JSON still names its record when "id" comes first.
      if (!item.error.ok() && item.id_json == "null") item.id_json = IdOfLineHead(item.text);
      item.text = std::move(record.text);
      if (!record.prompt.empty()) {
        item.options.prompt = record.prompt;
        // --title is the documents': a record asking for another prompt does not take it (it
        // failed: "a title applies to the document prompt only").
        if (record.title.empty() && record.prompt != "document") item.options.title.clear();
      }
      if (!record.title.empty()) item.options.title = record.title;
      if (!record.prompt.empty() || !record.title.empty()) item.options.prompt_text.clear();
    }
    items.push_back(std::move(item));
  }
  return true;
}

}  // namespace

int RunEmbed(int argc, char** argv) {
  EmbedFlags flags;
  std::string prompts;
  for (const std::string& n : PromptNames()) prompts += (prompts.empty() ? "" : ", ") + n;
  ArgParser args(
      "embed -m MODEL.gguf [options] [TEXT ...]",
      "Embeds each TEXT, or each line of the input (stdin, or -i FILE) when no TEXT is given;\n"
      "with --input-format jsonl each line is a record {\"id\": …, \"text\": …} and each output\n"
      "line {\"id\": …, \"embedding\": […], \"tokens\": …, \"truncated\": …}, in input order,\n"
      "written as soon as its turn comes. Vectors are pooled as the file says (mean for\n"
      "EmbeddingGemma), projected by the dense layers when present, cut to --dim and\n"
      "L2-normalized. Texts that spell special tokens (<eos>) get those tokens. Task prompts: " +
          prompts + ".");
  DeclareFlags(args, &flags);
  if (const int exit = args.ParseOrExit(argc, argv, "embed"); exit >= 0) return exit;
  if (flags.output == "-") flags.output.clear();  // the standard output, not a file named "-"
  Result<EmbedPlan> plan = PlanEmbed(flags);
  if (!plan.ok()) return ReportError("embed", plan.status());
  const Format format = plan->format;
  const bool jsonl_input = plan->jsonl_input, record_errors = plan->record_errors;
  const bool one_vector = plan->one_vector;
  const EmbedOptions& options = plan->options;

  int in_fd = STDIN_FILENO;
  uint64_t input_bytes = 0;
  if (!flags.input.empty()) {
    in_fd = open(flags.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_fd < 0) {
      ReportError("embed", Error(StatusCode::kIoError, "cannot read %s: %s", flags.input.c_str(),
                                 std::strerror(errno)));
      return kExitFailure;
    }
  }
  struct stat st;
  std::optional<FileKey> input_key;  // a regular file's (a pipe or a terminal is no file's)
  if (fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode)) {
    input_bytes = static_cast<uint64_t>(st.st_size);
    input_key = FileKey{st.st_dev, st.st_ino, ""};
  }

  if (flags.check_tensors) {
    Result<GgufFile> file = GgufFile::Open(flags.model);
    Status checked = file.ok() ? CheckTensorValues(*file) : file.status();
    if (!checked.ok()) return ReportError("embed", checked);
  }
  Result<std::unique_ptr<Embedder>> loaded = Embedder::Load(flags.model);
  if (!loaded.ok()) return ReportError("embed", loaded.status());
  const Embedder& embedder = **loaded;
  if (!flags.quiet) {
    for (const std::string& w : embedder.warnings()) {
      std::fprintf(stderr, "ggufembed embed: note: %s\n", w.c_str());
    }
  }
  // Check the options once, before any output.
  if (Status check = embedder.CheckOptions(options); !check.ok()) {
    return ReportError("embed", check);
  }
  const bool token_rows = options.pooling.value_or(embedder.info().pooling) == Pooling::kNone;
  if (one_vector && token_rows) {
    return ReportError(
        "embed",
        Usage("--format " + flags.format +
              " needs one vector per text, and the model's pooling is none (give --pooling)"));
  }
  if (Status s = CheckOutputsAreNotInputs(flags, input_key); !s.ok()) {
    return ReportError("embed", s);
  }
  Output output;
  const int out_dim = options.dim > 0 ? options.dim : embedder.info().dim;
  if (Status s = output.Open(flags, format, out_dim); !s.ok()) return ReportError("embed", s);

  const BatchOptions batch{static_cast<int>(flags.threads), static_cast<int>(flags.pack_tokens)};
  Progress progress(!flags.quiet && isatty(STDERR_FILENO) && flags.texts.size() != 1, input_bytes);
  LineReader reader(in_fd, static_cast<uint64_t>(flags.max_line_bytes),
                    flags.input.empty() ? "the standard input" : flags.input,
                    /*skip_blank=*/jsonl_input);
  std::vector<std::string> texts_seen;  // for the similarity table's labels (that format only)
  std::vector<Embedding> collected;
  std::vector<std::string> collected_ids;  // JSONL input: their records' ids
  size_t done = 0, rows = 0, failed = 0;   // failed: records written as errors
  uint64_t bytes_done = 0;
  int dim = 0;
  Status failure;  // --on-error fail: the first error; nothing after it is written

  // One text's result, in input order.
  auto emit = [&](const Item& item, const Status& status, const Embedding& e) {
    if (!failure.ok()) return;
    ++done;
    Status written;
    if (!status.ok()) {
      if (!record_errors) {
        failure = Status(status.code(),
                         item.where + (item.id_json.empty() ? "" : " (id " + item.id_json + ")") +
                             ": " + status.message());
        return;
      }
      ++failed;
      // Keyed as the record's result would be: "id" in JSONL input and in the ids file.
      const bool keyed_id = jsonl_input || Binary(format);
      std::string line = "{\"" + std::string(keyed_id ? "id" : "index") +
                         "\":" + (jsonl_input ? item.id_json : std::to_string(done - 1)) +
                         ",\"error\":{\"code\":";
      AppendJsonString(line, StatusCodeName(status.code()));
      line += ",\"message\":";
      AppendJsonString(line, item.where + ": " + status.message());
      line += "}}\n";
      if (format == Format::kRaw && token_rows) line += '\n';  // a text's block, as its rows
      written = Binary(format) ? output.WriteIds(line) : output.Write(line);
    } else if (Collects(format)) {
      collected.push_back(e);
      if (jsonl_input) collected_ids.push_back(item.id_json);
    } else if (Binary(format)) {
      dim = e.dim;
      written = output.Write(std::string_view(reinterpret_cast<const char*>(e.values.data()),
                                              e.values.size() * sizeof(float)));
      std::string line = "{\"id\":" + (jsonl_input ? item.id_json : std::to_string(done - 1)) +
                         StrFormat(",\"row\":%zu,\"tokens\":%d,\"truncated\":%s}\n", rows,
                                   e.n_tokens, e.truncated ? "true" : "false");
      if (written.ok()) written = output.WriteIds(line);
      ++rows;
      if (written.ok() && format == Format::kNpy) written = output.WriteNpyHeader(rows, dim);
    } else if (jsonl_input && format == Format::kJsonl) {
      written = output.Write(ResultJson("id", item.id_json, e) + "\n");
    } else {
      written = output.Write(StreamedResult(format, done - 1, e, token_rows));
    }
    if (!written.ok()) failure = written;
    bytes_done += item.bytes;
    progress.Update(done, bytes_done);
  };

  // Reads and embeds chunk by chunk: threads work on one chunk while its results stream out.
  std::vector<Item> items;
  LineChunk chunk;
  bool first_chunk = true;
  size_t total_texts = 0;
  while (failure.ok()) {
    items.clear();
    if (!flags.texts.empty()) {
      if (!first_chunk) break;
      for (size_t i = 0; i < flags.texts.size(); ++i) {
        items.push_back({StrFormat("text %zu", i + 1), "", std::move(flags.texts[i]), options, {}});
      }
    } else {
      Result<bool> more = ReadItems(reader, jsonl_input, options, chunk, items);
      if (!more.ok()) return ReportError("embed", more.status());
      if (!*more) break;
    }
    first_chunk = false;
    total_texts += items.size();
    if ((format == Format::kJsonPlus || format == Format::kSimilarity) &&
        total_texts > kMaxSimilarityTexts) {
      return ReportError(
          "embed",
          Usage(StrFormat("--format %s prints a similarity table of every pair of texts, for at "
                          "most %zu texts; use jsonl, f32 or npy for more",
                          flags.format.c_str(), kMaxSimilarityTexts)));
    }
    if (format == Format::kSimilarity) {  // its table's labels
      for (const Item& item : items) texts_seen.push_back(item.text);
    }
    if (!items.empty()) {
      if (Status s = output.Begin(); !s.ok()) return ReportError("embed", s);
    }
    // Records that could not be read take their turn like the others.
    std::vector<BatchText> batch_texts;
    std::vector<size_t> of_item;
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].error.ok()) {
        batch_texts.push_back({items[i].text, &items[i].options});
        of_item.push_back(i);
      }
    }
    size_t next_item = 0;
    auto flush_unread = [&](size_t up_to) {
      for (; next_item < up_to; ++next_item) {
        if (!items[next_item].error.ok()) emit(items[next_item], items[next_item].error, {});
      }
    };
    // on_result runs on worker threads, where no exception may escape: writing a result that
    // cannot get memory fails the run like a failed write.
    Status s = embedder.EmbedBatch(
        batch_texts, batch, [&](size_t k, const Status& status, const Embedding& e) {
          const Status written = GuardAllocation("writing a result", [&] {
            flush_unread(of_item[k]);
            emit(items[of_item[k]], status, e);
            return OkStatus();
          });
          if (!written.ok() && failure.ok()) failure = written;
          next_item = of_item[k] + 1;
        });
    if (!s.ok()) return ReportError("embed", s);
    flush_unread(items.size());
  }
  progress.Update(done, bytes_done, true);
  if (!failure.ok()) {
    // A text that cannot be embedded is a failure of the work, not of the command line.
    ReportError("embed", failure);
    if (!flags.check_tensors) NoteCheckTensors("embed", failure, flags.model);
    return kExitFailure;
  }
  if (total_texts == 0 && !jsonl_input) {  // an empty JSONL corpus is an empty result
    return ReportError("embed", Usage("no TEXT arguments and nothing on the input"));
  }
  if (Status s = output.Begin(); !s.ok()) return ReportError("embed", s);  // an empty corpus
  if (failed > 0 && !flags.quiet) {  // the run succeeded, but not every record did
    std::fprintf(stderr, "ggufembed embed: %zu of %zu %s failed; their errors are in %s\n", failed,
                 done, jsonl_input ? "records" : "texts",
                 Binary(format) ? ("--ids " + flags.ids).c_str() : "the output");
  }
  if (Collects(format)) {
    const std::string out = Summary(format, flags.model, texts_seen, collected_ids, collected,
                                    out_dim, options.normalize);
    if (Status s = output.Write(out); !s.ok()) return ReportError("embed", s);
  }
  return 0;
}

}  // namespace ggufembed
