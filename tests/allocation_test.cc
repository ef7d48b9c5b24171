// The hot path allocates nothing: after a first call has sized the workspace, EmbedInto of a text
// no longer than it makes no heap allocation (counted by replacing the global operator new; the
// forward pass's arena, from malloc, by the workspace's size).
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "ggufembed/embedder.h"
#include "ggufembed/ggufembed_c.h"
#include "model_util.h"
#include "test_util.h"
#include "util/arena.h"

#if !defined(__EMSCRIPTEN__)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
std::atomic<long> g_fail_at{0};     // while counting, the allocation of this number fails (0: none)
std::atomic<long> g_fail_rest{-1};  // if >= 0, every one after it fails too, but for this many

// Counts an allocation; false if it must fail.
bool Count() {
  if (!g_counting.load(std::memory_order_relaxed)) return true;
  const long n = g_allocations.fetch_add(1) + 1, at = g_fail_at.load(std::memory_order_relaxed);
  const long spared = g_fail_rest.load(std::memory_order_relaxed);
  return at == 0 || (n != at && (spared < 0 || n <= at + spared));
}

void* CountedAlloc(std::size_t size) {
  if (!Count()) throw std::bad_alloc();
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) { return CountedAlloc(size); }
void* operator new[](std::size_t size) { return CountedAlloc(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (!Count()) return nullptr;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace ggufembed {
namespace {

// Allocations made while `f` runs.
template <class F>
long AllocationsDuring(F&& f) {
  g_allocations = 0;
  g_counting = true;
  f();
  g_counting = false;
  return g_allocations;
}

// How allocations fail after the first failed one: none, or all (memory that stays exhausted:
// the error paths' own allocations fail), or all but the next one (the error's message is made,
// and then its copy fails).
enum class After { kNone = -1, kAll = 0, kAllButOne = 1 };

// Runs `f` with its allocation number `k` failing (std::bad_alloc, or null from a nothrow new),
// and those after it as `after` says; whether `f` got that far.
template <class F>
bool WithFailedAllocation(long k, After after, F&& f) {
  g_fail_at = k;
  g_fail_rest = static_cast<long>(after);
  const long made = AllocationsDuring(f);
  g_fail_at = 0;
  g_fail_rest = -1;
  return made >= k;
}

TEST_CASE("an arena plan is counted, then handed out from the same calls", "[allocation]") {
  Arena arena;
  float* a = nullptr;
  int16_t* b = nullptr;
  uint8_t* c = nullptr;
  auto plan = [&](size_t n) {
    return [&, n](Arena& x) {
      a = x.Alloc<float>(n);
      b = x.Alloc<int16_t>(3);
      c = x.Alloc<uint8_t>(n + 1);
    };
  };
  REQUIRE(arena.Carve(plan(100)).ok());
  // Three aligned buffers: 400 bytes, then 6 at the next 64, then 101 at the next 64.
  CHECK(arena.used() == 512 + 101);
  CHECK(arena.capacity() == arena.used());
  for (const void* p :
       {static_cast<const void*>(a), static_cast<const void*>(b), static_cast<const void*>(c)}) {
    CHECK(reinterpret_cast<uintptr_t>(p) % Arena::kAlignment == 0);
  }
  CHECK(reinterpret_cast<uint8_t*>(b) - reinterpret_cast<uint8_t*>(a) == 448);
  CHECK(c - reinterpret_cast<uint8_t*>(b) == 64);
  // A plan of the same or a smaller size reuses the block (from malloc: not counted here); a
  // larger one grows it.
  const float* first = a;
  CHECK(AllocationsDuring([&] { REQUIRE(arena.Carve(plan(100)).ok()); }) == 0);
  CHECK(a == first);
  CHECK(AllocationsDuring([&] { REQUIRE(arena.Carve(plan(10)).ok()); }) == 0);
  CHECK(a == first);
  CHECK(arena.capacity() == 512 + 101);
  REQUIRE(arena.Carve(plan(1000)).ok());
  CHECK(arena.capacity() == arena.used());
  CHECK(arena.used() == 4032 + 64 + 1001);
}

TEST_CASE("a plan larger than the build can address is out_of_memory, not a wrapped size",
          "[allocation]") {
  Arena arena;
  REQUIRE(arena.Carve([](Arena& a) { a.Alloc<float>(16); }).ok());
  // 2^62 floats; and two halves of the limit, each allowed alone.
  for (const uint64_t n : {uint64_t{1} << 62, Arena::kMaxBytes / 2 + 64}) {
    const Status s = arena.Carve([&](Arena& a) {
      a.Alloc<uint8_t>(n);
      a.Alloc<uint8_t>(n);
    });
    REQUIRE(!s.ok());
    CHECK(s.code() == StatusCode::kOutOfMemory);
    CHECK_THAT(s.message(), Catch::Matchers::StartsWith("the pass needs more than "));
  }
  // The arena is as it was: a plan that fits still carves.
  float* x = nullptr;
  REQUIRE(arena.Carve([&](Arena& a) { x = a.Alloc<float>(16); }).ok());
  CHECK(x != nullptr);
}

TEST_CASE("a second embedding allocates nothing", "[allocation]") {
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kF16}) {
    Result<std::unique_ptr<Embedder>> e = Embedder::Load(testing::SynthModelPath("tiny", type));
    REQUIRE(e.ok());
    const std::string longer =
        "A first text, longer than the next ones, sizes every buffer of the forward pass: "
        "tokenizer scratch, arena, rope tables and the pooled rows (and more than 64 tokens).";
    const std::vector<std::string> texts = {"The quick brown fox jumps over the lazy dog.", "Short",
                                            longer, "Über 64 tokens? Not this one. ✓"};
    EmbedOptions options;
    options.prompt = "query";  // the prompt's prefix is assembled without allocating too
    std::vector<float> out((*e)->info().dim);
    EmbeddingInfo info;
    REQUIRE((*e)->EmbedInto(longer, options, out.data(), out.size(), &info).ok());
    // The arena's block comes from malloc, which the counter does not see: it is the workspace.
    const size_t workspace = (*e)->workspace_bytes();
    for (const std::string& text : texts) {
      INFO(text);
      Status status;
      const long allocations = AllocationsDuring(
          [&] { status = (*e)->EmbedInto(text, options, out.data(), out.size(), &info); });
      REQUIRE(status.ok());
      REQUIRE(info.n_tokens > 2);
      REQUIRE(allocations == 0);
      REQUIRE((*e)->workspace_bytes() == workspace);
    }
    // The counter does count: a longer text than any before grows the workspace.
    const std::string longest = longer + " " + longer;
    Status status;
    REQUIRE(AllocationsDuring([&] {
              status = (*e)->EmbedInto(longest, options, out.data(), out.size(), &info);
            }) > 0);
    REQUIRE(status.ok());
  }
}

// The library's WebAssembly builds have no C++ exceptions (this test's build has, for Catch2):
// there a failed allocation aborts the module, and the npm package checks sizes before the heap.
#if defined(__cpp_exceptions) && !defined(__EMSCRIPTEN__)
// Every allocation of a call failing in turn: the call returns kOutOfMemory ("out of memory
// while ..."), never throws or crashes, and the embedder then gives the same bits as before — for
// loading, a batch on two threads, one text into a buffer, tokenizing and the C API.
// Every allocation fails in turn natively; under the sanitizers, 15 times slower (a minute and
// a half), every 5th, from a different first one in each mode (3 of every 5 in all).
#if defined(GGUFEMBED_TESTS_SANITIZED)
constexpr long kStride = 5;
#else
constexpr long kStride = 1;
#endif
long First(After after) { return 1 + (static_cast<long>(after) + 1) % kStride; }

TEST_CASE("a failed allocation anywhere in a call is an out_of_memory error", "[allocation]") {
  const std::string path = testing::SynthModelPath("tiny", GgmlType::kQ8_0);
  Result<std::unique_ptr<Embedder>> loaded = Embedder::Load(path);
  REQUIRE(loaded.ok());
  const Embedder& e = **loaded;
  const std::vector<std::string> texts = {"The quick brown fox jumps over the lazy dog.", "Short",
                                          std::string(300, 'x') + " and a longer one"};
  EmbedOptions options;
  options.prompt = "document";
  options.title = "a title";
  const auto embed = [&] { return e.Embed(texts, options, BatchOptions{.threads = 2}); };
  Result<std::vector<Embedding>> want = embed();
  REQUIRE(want.ok());
  const auto same = [&](const Result<std::vector<Embedding>>& got) {
    REQUIRE(got.ok());
    REQUIRE(got->size() == want->size());
    for (size_t i = 0; i < got->size(); ++i) REQUIRE((*got)[i].values == (*want)[i].values);
  };
  // The message says where; where memory stays exhausted even that may not fit, and the short
  // one that needs no allocation stands in.
  const auto out_of_memory = [](StatusCode code, const std::string& message, After after) {
    INFO(message);
    REQUIRE(code == StatusCode::kOutOfMemory);
    if (after == After::kNone || message != "out of memory") {
      REQUIRE_THAT(message, Catch::Matchers::Contains("out of memory while "));
    }
  };
  const char* c_message = "";  // the C API's last error message
  // Each kind of call, until it makes fewer allocations than the one that fails. `call(status)`
  // moves its outcome into `status` (a copy would be this test's own allocation, failing).
  const auto every_allocation = [&](const char* what, auto call) {
    for (const After after : {After::kNone, After::kAll, After::kAllButOne}) {
      long k = First(after);
      for (; k < 100000; k += kStride) {
        INFO(what << ", allocation " << k << " failing, then " << static_cast<int>(after));
        Status status;
        if (!WithFailedAllocation(k, after, [&] { call(status); })) {
          REQUIRE(status.ok());
          break;
        }
        // A failed nothrow new may have been handled without an error. (The C API's message is
        // read from it, here, after the call.)
        if (!status.ok()) {
          out_of_memory(status.code(),
                        status.message().empty() ? std::string(c_message) : status.message(),
                        after);
        }
        same(embed());
      }
      // The first pass warms EmbedInto up: after it, it allocates nothing.
      if (after == After::kNone) CHECK(k > kStride);
    }
  };
  every_allocation("Embed", [&](Status& s) { s = embed().status(); });
  std::vector<float> out(e.info().dim);
  every_allocation("EmbedInto", [&](Status& s) {
    s = e.EmbedInto(texts[2], options, out.data(), out.size(), nullptr);
  });
  every_allocation("Tokenize", [&](Status& s) { s = e.Tokenize(texts[0], true, true).status(); });
  ggufembed_model* model = ggufembed_model_load_file(path.c_str());
  REQUIRE(model != nullptr);
  every_allocation("ggufembed_embed", [&](Status& s) {
    const char* c_texts[] = {texts[0].c_str(), texts[1].c_str()};
    ggufembed_result* r = ggufembed_embed(model, c_texts, nullptr, 2, nullptr);
    // The message is read after the call's memory is back (a std::string of it would allocate).
    c_message = r != nullptr ? "" : ggufembed_last_error_message();
    s = r != nullptr ? OkStatus() : Status(StatusCode(ggufembed_last_error_code()), std::string());
    ggufembed_result_free(r);
  });
  CHECK(std::string(c_message).empty());  // the last call succeeded
  // A buffer too large for the build: its error, whatever allocation of the message fails.
  for (const After after : {After::kNone, After::kAll, After::kAllButOne}) {
    for (long k = 1; k < 100; ++k) {
      void* p = nullptr;
      const bool reached = WithFailedAllocation(k, after, [&] { p = ggufembed_alloc(SIZE_MAX); });
      INFO("ggufembed_alloc, allocation " << k << " failing, then " << static_cast<int>(after));
      REQUIRE(p == nullptr);
      REQUIRE(ggufembed_last_error_code() == GGUFEMBED_OUT_OF_MEMORY);
      if (!reached) break;
    }
  }
  ggufembed_model_free(model);
  // Loading: about a thousand allocations, each failing in turn.
  const long loads = AllocationsDuring([&] { REQUIRE(Embedder::Load(path).ok()); });
  CHECK(loads > 100);
  for (const After after : {After::kNone, After::kAll, After::kAllButOne}) {
    for (long k = First(after); k <= loads; k += kStride) {
      INFO("Load, allocation " << k << " of " << loads << " failing, then "
                               << static_cast<int>(after));
      Result<std::unique_ptr<Embedder>> again = Status(StatusCode::kInternal, "not run");
      REQUIRE(WithFailedAllocation(k, after, [&] { again = Embedder::Load(path); }));
      if (!again.ok()) out_of_memory(again.status().code(), again.status().message(), after);
    }
  }
}
#endif

#if !defined(__EMSCRIPTEN__)
TEST_CASE("a model file the address space cannot map is out_of_memory, naming the file",
          "[allocation]") {
  // A sparse 4 GiB file, mapped by a child whose address space may grow by only 1 GiB more than it
  // has (so that its own allocations still succeed, sanitizers' included): mmap fails with ENOMEM.
  const std::string path = testing::TempPath("unmappable.gguf");
  {
    const int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, off_t{4} << 30) == 0);
    close(fd);
  }
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // VmSize, in KiB, from /proc/self/status.
    FILE* status = std::fopen("/proc/self/status", "r");
    if (status == nullptr) _exit(10);
    char line[256];
    unsigned long long vm_kib = 0;
    while (std::fgets(line, sizeof line, status) != nullptr) {
      if (std::sscanf(line, "VmSize: %llu kB", &vm_kib) == 1) break;
    }
    std::fclose(status);
    const rlim_t limit = (vm_kib << 10) + (rlim_t{1} << 30);
    const rlimit rl = {limit, limit};
    if (vm_kib == 0 || setrlimit(RLIMIT_AS, &rl) != 0) _exit(11);
    Result<std::unique_ptr<Embedder>> loaded = Embedder::Load(path);
    if (loaded.ok()) _exit(12);
    const std::string message = loaded.status().message();
    if (message.find(path) == std::string::npos ||
        message.find("4294967296 bytes") == std::string::npos) {
      std::fprintf(stderr, "%s\n", message.c_str());
      _exit(13);
    }
    _exit(loaded.status().code() == StatusCode::kOutOfMemory ? 0 : 14);
  }
  int wstatus = 0;
  REQUIRE(waitpid(child, &wstatus, 0) == child);
  std::remove(path.c_str());
  REQUIRE(WIFEXITED(wstatus));
  // 0: out_of_memory naming the file and its size; 12: loaded; 13: the message; 14: another code.
  REQUIRE(WEXITSTATUS(wstatus) == 0);
}
#endif

}  // namespace
}  // namespace ggufembed
