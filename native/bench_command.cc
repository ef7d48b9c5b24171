// `ggufembed bench`: single-thread speed of the forward pass on a short and a long text, with
// load time, peak memory and a per-operation profile. Not a test: nothing here is asserted.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "commands.h"
#include "ggufembed/embedder.h"
#include "util/error.h"
#include "util/json.h"

namespace ggufembed {
namespace {

// The default texts. The short one is a sentence of about a dozen tokens; the long one is this
// passage cut at a word boundary to at most --long-tokens tokens of the model's tokenizer.
constexpr const char* kShortText = "The quick brown fox jumps over the lazy dog.";
constexpr const char* kLongPassage =
    "Search engines once matched words; today they match meanings. An embedding model reads a "
    "sentence and writes down a list of numbers, a point in a space with hundreds of dimensions, "
    "so that texts which say the same thing land close together even when they share no words. "
    "A question about how to fix a slow laptop should find an answer that talks about a computer "
    "that takes forever to start, and a review that calls a film long and boring should sit near "
    "one that says the story drags. To build such a model, people start from a language model "
    "that has read a great deal of text, keep the part that turns words into context, and train "
    "it further on pairs of texts that belong together: a question and its answer, a title and "
    "its article, two ways of saying the same thing. The training pulls the points of each pair "
    "together and pushes the other texts of the batch away. After enough of this, distance in "
    "the space means something. The model never sees a list of synonyms, yet it learns that a "
    "car and an automobile are the same kind of thing, that a bank of a river is not a bank that "
    "holds money, and that a short question and a long answer can be about one topic. Using the "
    "model is simple. Every document in a collection is embedded once and the vectors are kept "
    "in an index. When a question arrives, it is embedded the same way, and the index returns "
    "the documents whose vectors are nearest, usually by the cosine of the angle between them. "
    "Because the work on the collection happens ahead of time, a search over millions of texts "
    "takes only the time to embed one short question and to look up its neighbours. The same "
    "vectors serve other tasks as well: grouping news stories by subject, finding duplicate "
    "bug reports, suggesting related products, or picking the few passages a chat assistant "
    "should read before it answers. Small models matter here. A model with a few hundred million "
    "parameters can run on a phone or in a web page, with no server at all, which keeps private "
    "notes private and makes search work without a network. Such a model has to be fast on one "
    "core, careful with memory, and exact enough that its vectors agree with those of the "
    "reference implementation, or the index built on one machine will not match the questions "
    "embedded on another. Numbers are stored in eight bits instead of thirty two, so the whole "
    "model fits in a few hundred megabytes, and the arithmetic is arranged so that the processor "
    "can multiply many of them at once. The result is a tool that turns any text into a point "
    "in space, quickly, on the computer that is already in front of you, and that gives the same "
    "point tomorrow, on another machine, in another program, for the same words.";

// The long text: kLongPassage, repeated as often as `max_tokens` needs (at most the model's
// context), cut after the last word that keeps it within `max_tokens`.
Result<std::string> LongText(const Embedder& embedder, int max_tokens) {
  const int context = embedder.info().context_length;
  if (max_tokens > context) {
    return Error(StatusCode::kInvalidArgument,
                 "--long-tokens %d is more than the model's context of %d tokens", max_tokens,
                 context);
  }
  std::string passage = kLongPassage;
  GGUFEMBED_ASSIGN_OR_RETURN(std::vector<int32_t> once, embedder.Tokenize(passage, true, true));
  for (size_t have = once.size(); have <= static_cast<size_t>(max_tokens); have += once.size()) {
    passage = passage + " " + kLongPassage;
  }
  std::string best;
  size_t lo = 0, hi = passage.size();  // binary search over word boundaries by length
  while (lo < hi) {
    const size_t mid = (lo + hi + 1) / 2;
    size_t cut = passage.rfind(' ', mid);
    if (mid == passage.size()) cut = mid;
    if (cut == std::string::npos || cut == 0) {
      hi = mid - 1;
      continue;
    }
    GGUFEMBED_ASSIGN_OR_RETURN(std::vector<int32_t> ids,
                               embedder.Tokenize(passage.substr(0, cut), true, true));
    if (static_cast<int>(ids.size()) <= max_tokens) {
      best = passage.substr(0, cut);
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  if (best.empty()) {
    return Error(StatusCode::kInvalidArgument, "--long-tokens %d leaves no words of the passage",
                 max_tokens);
  }
  return best;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // kilobytes on Linux
}

struct TextResult {
  std::string label, text;
  int tokens = 0;
  double first_ms = 0, median_ms = 0, min_ms = 0, gmacs = 0;
  std::vector<double> times_ms;  // the timed runs, in order
  OpProfile profile;             // summed over the timed runs
};

// Times `warmup` + `runs` calls on r.text and fills r's figures.
Status TimeText(const Embedder& embedder, int64_t warmup, int64_t runs, TextResult& r) {
  const ModelInfo& model_info = embedder.info();
  GGUFEMBED_ASSIGN_OR_RETURN(std::vector<int32_t> ids, embedder.Tokenize(r.text, true, true));
  r.tokens = static_cast<int>(ids.size());
  std::vector<float> out(size_t(model_info.pooling == Pooling::kNone ? r.tokens : 1) *
                         model_info.dim);
  EmbedOptions options;
  EmbeddingInfo info;
  std::vector<double> times;
  for (int64_t i = 0; i < warmup + runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    GGUFEMBED_RETURN_IF_ERROR(embedder.EmbedInto(r.text, options, out.data(), out.size(), &info,
                                                 i >= warmup ? &r.profile : nullptr));
    const double ms = 1e3 * Seconds(start);
    if (i == 0) r.first_ms = ms;
    if (i >= warmup) times.push_back(ms);
  }
  r.times_ms = times;
  std::sort(times.begin(), times.end());
  r.median_ms = times.size() % 2 ? times[times.size() / 2]
                                 : 0.5 * (times[times.size() / 2 - 1] + times[times.size() / 2]);
  r.min_ms = times.front();
  // What the forward pass does not time itself (tokenizing, workspace set-up) counts as other.
  double timed = 0, profiled = 0;
  for (double ms : times) timed += ms / 1e3;
  for (double seconds : r.profile.seconds) profiled += seconds;
  r.profile.seconds[static_cast<int>(Op::kOther)] += std::max(0.0, timed - profiled);
  r.gmacs = embedder.MultiplyAdds(r.tokens, model_info.pooling) / (r.median_ms * 1e6);
  return OkStatus();
}

// The --json output: the run's figures and every text's.
std::string ResultsJson(const std::string& model, double file_mb, double load_ms,
                        double rss_after_load_mb, double peak_rss_mb, double workspace_mb,
                        int64_t runs, const std::vector<TextResult>& results) {
  std::string o = "{\"model\":";
  AppendJsonString(o, model);
  o += StrFormat(
      ",\"file_mb\":%.1f,\"target\":\"%s\",\"load_ms\":%.2f,\"rss_after_load_mb\":%.1f,"
      "\"peak_rss_mb\":%.1f,\"workspace_mb\":%.2f,\"runs\":%lld,\"texts\":[",
      file_mb, SimdTargetName(), load_ms, rss_after_load_mb, peak_rss_mb, workspace_mb,
      static_cast<long long>(runs));
  for (size_t i = 0; i < results.size(); ++i) {
    const TextResult& r = results[i];
    o += i ? ",{\"label\":" : "{\"label\":";
    AppendJsonString(o, r.label);
    o += ",\"text\":";
    AppendJsonString(o, r.text);
    o += StrFormat(
        ",\"tokens\":%d,\"first_ms\":%.3f,\"median_ms\":%.3f,\"min_ms\":%.3f,"
        "\"tokens_per_s\":%.1f,\"gmac_per_s\":%.2f,\"profile_ms\":{",
        r.tokens, r.first_ms, r.median_ms, r.min_ms, 1e3 * r.tokens / r.median_ms, r.gmacs);
    for (int op = 0; op < kOpCount; ++op) {
      o += StrFormat("%s\"%s\":%.3f", op ? "," : "", OpName(static_cast<Op>(op)),
                     1e3 * r.profile.seconds[op] / runs);
    }
    o += "},\"times_ms\":[";
    for (size_t j = 0; j < r.times_ms.size(); ++j) {
      o += StrFormat("%s%.3f", j ? "," : "", r.times_ms[j]);
    }
    o += "]}";
  }
  o += "]}\n";
  return o;
}

}  // namespace

int RunBench(int argc, char** argv) {
  std::string model, target = "best";
  std::vector<std::string> texts;
  int64_t runs = 5, warmup = 1, long_tokens = 500;
  bool json = false;
  ArgParser args(
      "bench -m MODEL.gguf [options] [TEXT ...]",
      "Times the single-thread forward pass: model load, then for each text one warm-up call\n"
      "and --runs timed calls (median and minimum), tokens/s, effective GMAC/s (multiply-adds\n"
      "of the matrix products and attention) and where the time goes (matmul includes\n"
      "quantizing its input; geglu is the fused gate and up products with GELU; other is\n"
      "the embedding lookup, tokenizing and the rest). Without TEXT: a short sentence and\n"
      "a prose passage cut to --long-tokens tokens. Peak RSS is the process's; the workspace\n"
      "is the memory each thread of a batch holds besides the weights, which all share.");
  args.Option("model", "m", &model, "FILE", "the GGUF model (required)");
  args.Option("runs", "n", &runs, "N", "timed calls per text (default 5)", 1, 1000);
  args.Option("warmup", nullptr, &warmup, "N", "untimed calls first (default 1)", 0, 1000);
  args.Option("long-tokens", nullptr, &long_tokens, "N",
              "tokens of the default long text (default 500)", 3, 1 << 20);
  args.Option("target", nullptr, &target, "T",
              "best (default), avx512vnni, avx512, avx2 or scalar");
  args.Flag("json", nullptr, &json, "print one JSON object (texts included) instead of a table");
  args.Positionals(&texts, "TEXT");
  if (const int exit = args.ParseOrExit(argc, argv, "bench"); exit >= 0) return exit;
  if (model.empty()) {
    return ReportError("bench", Status(StatusCode::kInvalidArgument, "missing -m MODEL.gguf"));
  }
  if (target != "best") {
    if (Status s = SetSimdTarget(target); !s.ok()) return ReportError("bench", s);
  }

  const auto load_start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<Embedder>> loaded = Embedder::Load(model);
  if (!loaded.ok()) return ReportError("bench", loaded.status());
  const double load_ms = 1e3 * Seconds(load_start);
  const Embedder& embedder = **loaded;
  const double rss_after_load_mb = PeakRssMb();

  std::vector<TextResult> results;
  auto add_text = [&](std::string label, std::string text) {
    TextResult& r = results.emplace_back();
    r.label = std::move(label);
    r.text = std::move(text);
  };
  if (texts.empty()) {
    Result<std::string> long_text = LongText(embedder, static_cast<int>(long_tokens));
    if (!long_text.ok()) return ReportError("bench", long_text.status());
    add_text("short", kShortText);
    add_text("long", *long_text);
  } else {
    for (size_t i = 0; i < texts.size(); ++i) add_text(StrFormat("text%zu", i + 1), texts[i]);
  }

  for (TextResult& r : results) {
    if (Status st = TimeText(embedder, warmup, runs, r); !st.ok()) {
      // A text that cannot be embedded fails the work, as in `embed`: exit 1, naming the text.
      ReportError("bench", Status(st.code(), r.label + ": " + st.message()));
      NoteCheckTensors("bench", st, model);
      return kExitFailure;
    }
  }
  const double peak_rss_mb = PeakRssMb();
  const double file_mb = embedder.file_size() / 1e6;
  const double workspace_mb = embedder.workspace_bytes() / 1e6;

  if (json) {
    const std::string o = ResultsJson(model, file_mb, load_ms, rss_after_load_mb, peak_rss_mb,
                                      workspace_mb, runs, results);
    std::fputs(o.c_str(), stdout);
    return 0;
  }
  std::printf("model %s (%.1f MB), SIMD target %s, 1 thread\n", model.c_str(), file_mb,
              SimdTargetName());
  std::printf(
      "load %.1f ms; peak RSS %.1f MB (%.1f MB after load); workspace %.1f MB per thread (for "
      "the longest text; the weights are shared)\n\n",
      load_ms, peak_rss_mb, rss_after_load_mb, workspace_mb);
  std::printf("%-6s %6s %10s %9s %9s %9s %8s   time per operation (ms, mean of runs)\n", "text",
              "tokens", "median ms", "min ms", "first ms", "tokens/s", "GMAC/s");
  for (const TextResult& r : results) {
    std::printf("%-6s %6d %10.2f %9.2f %9.2f %9.1f %8.1f  ", r.label.c_str(), r.tokens, r.median_ms,
                r.min_ms, r.first_ms, 1e3 * r.tokens / r.median_ms, r.gmacs);
    for (int op = 0; op < kOpCount; ++op) {
      std::printf(" %s %.2f", OpName(static_cast<Op>(op)), 1e3 * r.profile.seconds[op] / runs);
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace ggufembed
