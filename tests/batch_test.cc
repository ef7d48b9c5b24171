// EmbedBatch: packed passes and threads give every text the bits it gets alone (both
// architectures, every SIMD target, mixed per-text options, a fresh bf16 model's first products
// on several threads); results come once each, in input order, with errors in their place; bad
// batch options are refused.
#include <catch2/catch.hpp>
#if defined(__linux__)
#include <sched.h>
#endif
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ggufembed/embedder.h"
#include "model_util.h"
#include "test_util.h"

namespace ggufembed {
namespace {

#if defined(GGUFEMBED_TESTS_SANITIZED)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#if defined(GGUFEMBED_TESTS_THREAD_SANITIZED)
constexpr bool kThreadSanitized = true;
#else
constexpr bool kThreadSanitized = false;
#endif

struct Outcome {
  Status status;
  Embedding embedding;
};

// Every callback of one EmbedBatch call, checked to come once per text in input order.
std::vector<Outcome> RunBatch(const Embedder& e, const std::vector<std::string>& texts,
                              const std::vector<EmbedOptions>& options, BatchOptions batch) {
  std::vector<BatchText> items;
  for (size_t i = 0; i < texts.size(); ++i) items.push_back({texts[i], &options[i]});
  std::vector<Outcome> out;
  const Status s =
      e.EmbedBatch(items, batch, [&](size_t i, const Status& status, const Embedding& emb) {
        REQUIRE(i == out.size());
        out.push_back({status, emb});
      });
  REQUIRE(s.ok());
  REQUIRE(out.size() == texts.size());
  return out;
}

bool SameBits(const Embedding& a, const Embedding& b) {
  return a.rows == b.rows && a.dim == b.dim && a.n_tokens == b.n_tokens &&
         a.values.size() == b.values.size() &&
         std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(float)) == 0;
}

// Texts of 1 to ~150 tokens (past every tiny model's sliding window), some with special tokens.
std::vector<std::string> MixedTexts() {
  std::vector<std::string> texts = {"a", "The cat sleeps on the sofa.", "<eos> in the middle <bos>",
                                    "Ünïcödé and 漢字 and emoji 🙂", ""};
  std::string prose;
  for (int i = 0; i < 40; ++i) {
    prose += "word" + std::to_string(i * 7 % 13) + (i % 5 == 4 ? ". " : " ");
    if (i % 6 == 5) texts.push_back(prose);
  }
  for (int i = 0; i < 8; ++i) texts.push_back("short text number " + std::to_string(i));
  return texts;
}

TEST_CASE("packed passes and threads give every text the bits it gets alone", "[batch]") {
  const std::vector<std::string> models = {
      testing::SynthModelPath("tiny", GgmlType::kQ8_0),
      testing::SynthModelPath("tiny", GgmlType::kF16),
      testing::SynthModelPath("tiny", GgmlType::kBF16),
      testing::SynthModelPath("tiny", GgmlType::kQ8_0, true, "gemma-embedding2"),
  };
  const std::vector<std::string> texts = MixedTexts();
  // Per-text options that change the head, not the pass: prompts, Matryoshka, pooling.
  std::vector<EmbedOptions> options(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i % 3 == 1) options[i].prompt = "query";
    if (i % 4 == 2) options[i].dim = 32;
    if (i % 5 == 3) options[i].pooling = Pooling::kNone;
    if (i % 7 == 4) options[i].pooling = Pooling::kLast;
  }
  const std::vector<std::string> targets = testing::SimdTargetNames();
  for (const std::string& path : models) {
    Result<std::unique_ptr<Embedder>> e = Embedder::Load(path);
    REQUIRE(e.ok());
    int supported = 0, ran = 0;
    for (const std::string& target : targets) {
      const Status set = SetSimdTarget(target);
      if (set.code() == StatusCode::kUnsupported) continue;
      REQUIRE(set.ok());
      // ThreadSanitizer looks for races in what the threads share (the model, the queue of texts,
      // the results), which is the same on every kernel target: the widest this CPU has suffices
      // there (the whole matrix took three of CI's minutes).
      if (kThreadSanitized && supported++ > 0) continue;
      // Under AddressSanitizer the scalar target (vectors emulated lane by lane) costs ten times
      // the others together, and packing is target-independent code: the SIMD targets run it
      // there (unless there is none), and the release build runs all four.
      if (kSanitized && target == "scalar" && ran > 0) continue;
      ++ran;
      const std::vector<Outcome> alone = RunBatch(**e, texts, options, {1, 0});
      const std::vector<BatchOptions> batches = {{1, 64}, {1, 4096}, {3, 48}, {0, 256}};
      for (const BatchOptions& batch : batches) {
        const std::vector<Outcome> got = RunBatch(**e, texts, options, batch);
        for (size_t i = 0; i < texts.size(); ++i) {
          INFO(path << " target " << target << " threads " << batch.threads << " pack "
                    << batch.pack_tokens << " text " << i);
          REQUIRE(alone[i].status.ok());
          REQUIRE(got[i].status.ok());
          REQUIRE(SameBits(got[i].embedding, alone[i].embedding));
        }
      }
    }
    REQUIRE(SetSimdTarget("best").ok());
    // And alone is what the plain single-text call gives.
    Result<std::vector<Embedding>> single = (*e)->Embed({texts[7]}, options[7]);
    REQUIRE(single.ok());
    REQUIRE(SameBits(single->front(), RunBatch(**e, texts, options, {1, 0})[7].embedding));
  }
}

// The texts done after each pass of one thread: consecutive texts packed while their tokens fit
// in `pack_tokens`, a text of that many or more alone (EmbedBatch's rule, from the token counts
// of plain tokenization).
std::vector<size_t> DoneAfterEachPass(const Embedder& e, const std::vector<std::string>& texts,
                                      int pack_tokens) {
  std::vector<size_t> done;
  int in_pack = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    Result<std::vector<int32_t>> ids = e.Tokenize(texts[i], true, true);
    REQUIRE(ids.ok());
    const int n = static_cast<int>(ids->size());
    if (!done.empty() && in_pack > 0 && n < pack_tokens && in_pack + n <= pack_tokens) {
      done.back() = i + 1;
      in_pack += n;
    } else {
      done.push_back(i + 1);
      in_pack = n < pack_tokens ? n : pack_tokens + 1;  // a long text's pass takes no other
    }
  }
  return done;
}

TEST_CASE("progress comes on the calling thread after each of its passes", "[batch]") {
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(testing::SynthModelPath("tiny"));
  REQUIRE(e.ok());
  const std::vector<std::string> texts = MixedTexts();
  const std::vector<EmbedOptions> options(texts.size());
  std::vector<BatchText> items;
  for (size_t i = 0; i < texts.size(); ++i) items.push_back({texts[i], &options[i]});
  const std::thread::id caller = std::this_thread::get_id();
  for (const int pack_tokens : {0, 48, 256}) {
    INFO("pack_tokens " << pack_tokens);
    // One thread: a call per pass, each counting the results given out so far.
    std::vector<size_t> calls;
    size_t results = 0;
    BatchOptions batch{1, pack_tokens};
    batch.on_progress = [&](size_t done) {
      CHECK(std::this_thread::get_id() == caller);
      CHECK(done == results);
      calls.push_back(done);
    };
    REQUIRE((*e)->EmbedBatch(items, batch, [&](size_t, const Status&, const Embedding&) {
                  ++results;
                }).ok());
    CHECK(calls == DoneAfterEachPass(**e, texts, pack_tokens));
    CHECK(calls.back() == texts.size());

    // Three threads: calls from the calling thread only, counting up, the last one every text.
    calls.clear();
    batch.threads = 3;
    batch.on_progress = [&](size_t done) {
      CHECK(std::this_thread::get_id() == caller);
      CHECK((calls.empty() || calls.back() < done));
      calls.push_back(done);
    };
    REQUIRE((*e)->EmbedBatch(items, batch, [](size_t, const Status&, const Embedding&) {}).ok());
    REQUIRE(!calls.empty());
    CHECK(calls.back() == texts.size());
  }

  // A callback that throws: no more calls, and the exception reaches the caller once the other
  // threads have stopped (they work in the batch's frame); the embedder goes on as before.
  for (const int threads : {1, 3}) {
    int calls = 0;
    BatchOptions batch{threads, 0};
    batch.on_progress = [&](size_t) {
      ++calls;
      throw std::runtime_error("progress failed");
    };
    CHECK_THROWS_WITH(
        (*e)->EmbedBatch(items, batch, [](size_t, const Status&, const Embedding&) {}),
        "progress failed");
    CHECK(calls == 1);
  }
  REQUIRE((*e)->EmbedBatch(items, BatchOptions{3, 0},
                           [](size_t, const Status& s, const Embedding&) { CHECK(s.ok()); })
              .ok());
}

// A bf16 model learns whether its weights are tame (Bf16Range) from its first products, which
// threads may run at once: on a fresh model they still give every text the bits it gets alone.
TEST_CASE("a bf16 model's first products may run on several threads at once", "[batch]") {
  const std::string path = testing::SynthModelPath("tiny", GgmlType::kBF16);
  const std::vector<std::string> texts = MixedTexts();
  const std::vector<EmbedOptions> options(texts.size());
  Result<std::unique_ptr<Embedder>> fresh = Embedder::Load(path);
  Result<std::unique_ptr<Embedder>> other = Embedder::Load(path);
  REQUIRE(fresh.ok());
  REQUIRE(other.ok());
  const std::vector<Outcome> threaded = RunBatch(**fresh, texts, options, {4, 64});
  const std::vector<Outcome> alone = RunBatch(**other, texts, options, {1, 0});
  for (size_t i = 0; i < texts.size(); ++i) {
    INFO("text " << i);
    REQUIRE(threaded[i].status.ok());
    REQUIRE(alone[i].status.ok());
    REQUIRE(SameBits(threaded[i].embedding, alone[i].embedding));
  }
}

TEST_CASE("a batch reports each text's error in its place and embeds the rest", "[batch]") {
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(testing::SynthModelPath("tiny"));
  REQUIRE(e.ok());
  const int n_ctx = (*e)->info().context_length;
  std::string too_long;
  for (int i = 0; i < n_ctx; ++i) too_long += "x ";
  std::vector<std::string> texts = {
      "fine", std::string("bad \xC3 utf-8"), too_long, "also fine", "fine again", too_long};
  std::vector<EmbedOptions> options(texts.size());
  options[3].dim = 100000;  // larger than the model's output
  options[5].truncate = true;
  for (int threads : {1, 4}) {
    const std::vector<Outcome> got = RunBatch(**e, texts, options, {threads, 64});
    CHECK(got[0].status.ok());
    CHECK(got[1].status.code() == StatusCode::kInvalidArgument);
    CHECK(got[1].status.message().find("UTF-8") != std::string::npos);
    CHECK(got[2].status.code() == StatusCode::kInputTooLong);
    CHECK(got[3].status.code() == StatusCode::kInvalidArgument);
    CHECK(got[3].status.message().find("dim 100000") != std::string::npos);
    CHECK(got[4].status.ok());
    CHECK(got[5].status.ok());
    CHECK(got[5].embedding.truncated);
    CHECK(got[5].embedding.n_tokens == n_ctx);
    CHECK(got[1].embedding.values.empty());
    Result<std::vector<Embedding>> fine = (*e)->Embed({texts[4]}, options[4]);
    REQUIRE(fine.ok());
    CHECK(SameBits(got[4].embedding, fine->front()));
  }
  // The plain call stops at the first failure and names the text.
  Result<std::vector<Embedding>> r = (*e)->Embed(texts, EmbedOptions{});
  REQUIRE(!r.ok());
  CHECK(r.status().message().rfind("text 1: ", 0) == 0);
}

TEST_CASE("bad batch options are refused before any work", "[batch]") {
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(testing::SynthModelPath("tiny"));
  REQUIRE(e.ok());
  const EmbedOptions options;
  const std::vector<BatchText> texts = {{"a", &options}, {"b", nullptr}};
  int calls = 0;
  auto count = [&](size_t, const Status&, const Embedding&) { ++calls; };
  CHECK((*e)->EmbedBatch(texts, {-1, 64}, count).code() == StatusCode::kInvalidArgument);
  CHECK((*e)->EmbedBatch(texts, {1, -5}, count).code() == StatusCode::kInvalidArgument);
  const Status no_options = (*e)->EmbedBatch(texts, {1, 64}, count);
  CHECK(no_options.code() == StatusCode::kInvalidArgument);
  CHECK(no_options.message() == "text 1 has no options");
  CHECK(calls == 0);
  CHECK((*e)->EmbedBatch({}, {}, count).ok());
  CHECK(calls == 0);
  CHECK(AvailableCores() >= 1);
}

#if defined(__linux__) && !defined(__EMSCRIPTEN__)
TEST_CASE("the default thread count is the CPUs this process may run on", "[batch]") {
  // threads 0 means AvailableCores(): the affinity mask (taskset, a container's cpuset), not the
  // machine's CPU count.
  cpu_set_t all;
  REQUIRE(sched_getaffinity(0, sizeof(all), &all) == 0);
  CHECK(AvailableCores() == CPU_COUNT(&all));
  int first = 0;
  while (!CPU_ISSET(first, &all)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0);
  const int cores = AvailableCores();
  REQUIRE(sched_setaffinity(0, sizeof(all), &all) == 0);
  CHECK(cores == 1);
}
#endif

TEST_CASE("each thread's workspace is bounded by the longest pass it ran", "[batch]") {
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(testing::SynthModelPath("tiny"));
  REQUIRE(e.ok());
  CHECK((*e)->workspace_bytes() == 0);
  REQUIRE((*e)->Embed({"short"}, {}).ok());
  const size_t after_short = (*e)->workspace_bytes();
  CHECK(after_short > 0);
  REQUIRE((*e)->Embed({"short"}, {}).ok());
  CHECK((*e)->workspace_bytes() == after_short);  // kept, not grown
  // Pooling none returns every token's row: the workspace holds at least those floats.
  EmbedOptions rows;
  rows.pooling = Pooling::kNone;
  std::string prose;
  for (int i = 0; i < 60; ++i) prose += "word" + std::to_string(i) + " ";
  Result<std::vector<Embedding>> long_rows = (*e)->Embed({prose}, rows);
  REQUIRE(long_rows.ok());
  const size_t after_long = (*e)->workspace_bytes();
  CHECK(after_long >= (*long_rows)[0].values.size() * sizeof(float));
  CHECK(after_long > after_short);
  // Three threads of short texts, unpacked: three workspaces, none larger than the long pass's.
  std::vector<std::string> texts(12, "another short text");
  REQUIRE((*e)->Embed(texts, {}, BatchOptions{3, 0}).ok());
  CHECK((*e)->workspace_bytes() == after_long);
}

TEST_CASE("a truncated text of hundreds of KB leaves no more workspace than a context-long one",
          "[batch]") {
  Result<std::unique_ptr<Embedder>> e = Embedder::Load(testing::SynthModelPath("tiny"));
  REQUIRE(e.ok());
  EmbedOptions truncate;
  truncate.truncate = true;
  std::string context_long;  // fills the context, a few KB of text
  while (context_long.size() < 3 * 2048) context_long += "zq";
  Result<std::vector<Embedding>> full = (*e)->Embed({context_long}, truncate);
  REQUIRE(full.ok());
  REQUIRE((*full)[0].truncated);
  const size_t after_full = (*e)->workspace_bytes();
  // 320 KiB, past what a workspace keeps: its tokens and the tokenizer's scratch for them took
  // tens of MB, kept after the call.
  Result<std::vector<Embedding>> huge =
      (*e)->Embed({std::string(size_t{320} << 10, 'a') + context_long}, truncate);
  REQUIRE(huge.ok());
  CHECK((*huge)[0].truncated);
  CHECK((*e)->workspace_bytes() <= after_full);
}

}  // namespace
}  // namespace ggufembed
