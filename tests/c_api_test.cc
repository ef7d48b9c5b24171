// The C API over the Embedder: the same vectors, the last-error protocol, tokenization buffers.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "gguf/file_bytes.h"
#include "gguf/gguf.h"
#include "ggufembed/embedder.h"
#include "ggufembed/ggufembed_c.h"
#include "model_util.h"

namespace ggufembed {
namespace {

#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)  // the wasm suite has no threads
// Four threads of the caller embed through one model at once, each also failing on purpose in
// turn: every vector equals the one-thread result and each thread's last error is its own.
TEST_CASE("the C API from several threads at once", "[c_api]") {
  const std::string path = testing::SynthModelPath("tiny");
  ggufembed_model* model = ggufembed_model_load_file(path.c_str());
  REQUIRE(model != nullptr);
  ggufembed_options options;
  ggufembed_options_init(&options);
  options.threads = 1;
  const std::vector<std::string> texts = {"one text", "a second text, a little longer", "drei",
                                          "the fourth of them all"};
  std::vector<std::vector<float>> alone(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const char* t = texts[i].c_str();
    ggufembed_result* r = ggufembed_embed(model, &t, nullptr, 1, &options);
    REQUIRE(r != nullptr);
    const float* v = ggufembed_result_values(r, 0);
    alone[i].assign(v, v + ggufembed_result_dim(r, 0));
    ggufembed_result_free(r);
  }
  constexpr int kThreads = 4, kRounds = 20;
  std::vector<int> mismatches(kThreads), wrong_errors(kThreads);
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back([&, k] {
      ggufembed_options bad = options;
      bad.dim = 100000;  // refused: this thread's error only
      for (int round = 0; round < kRounds; ++round) {
        const size_t i = size_t(k + round) % texts.size();
        const char* t = texts[i].c_str();
        if (round % 5 == k % 5) {
          if (ggufembed_embed(model, &t, nullptr, 1, &bad) != nullptr ||
              ggufembed_last_error_code() != GGUFEMBED_INVALID_ARGUMENT ||
              std::string(ggufembed_last_error_message()).find("dim 100000") == std::string::npos) {
            ++wrong_errors[k];
          }
          continue;
        }
        ggufembed_result* r = ggufembed_embed(model, &t, nullptr, 1, &options);
        if (r == nullptr || ggufembed_last_error_code() != GGUFEMBED_OK) {
          ++wrong_errors[k];
          continue;
        }
        const float* v = ggufembed_result_values(r, 0);
        if (std::vector<float>(v, v + ggufembed_result_dim(r, 0)) != alone[i]) ++mismatches[k];
        ggufembed_result_free(r);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(mismatches == std::vector<int>(kThreads, 0));
  CHECK(wrong_errors == std::vector<int>(kThreads, 0));
  ggufembed_model_free(model);
}
#endif

TEST_CASE("C API embeds like the C++ API", "[c_api]") {
  const std::string path = testing::SynthModelPath("tiny");
  ggufembed_model* model = ggufembed_model_load_file(path.c_str());
  REQUIRE(model != nullptr);
  CHECK(ggufembed_last_error_code() == GGUFEMBED_OK);
  const std::string info = ggufembed_model_info_json(model);
  CHECK(info.find("\"architecture\":\"gemma-embedding\"") != std::string::npos);
  CHECK(info.find("\"dim\":128,\"context_length\":2048,\"vocab_size\":4096,\"pooling\":\"mean\","
                  "\"has_dense\":true") != std::string::npos);
  CHECK(info.find("\"warnings\":[]") != std::string::npos);

  const char* texts[] = {"first text", "second, longer text"};
  ggufembed_options options;
  ggufembed_options_init(&options);
  options.dim = 64;
  ggufembed_result* r = ggufembed_embed(model, texts, nullptr, 2, &options);
  REQUIRE(r != nullptr);
  REQUIRE(ggufembed_result_count(r) == 2);
  Result<std::unique_ptr<Embedder>> cpp = Embedder::Load(path);
  REQUIRE(cpp.ok());
  EmbedOptions o;
  o.dim = 64;
  Result<std::vector<Embedding>> expect = (*cpp)->Embed({texts[0], texts[1]}, o);
  REQUIRE(expect.ok());
  for (int i = 0; i < 2; ++i) {
    CHECK(ggufembed_result_rows(r, i) == 1);
    CHECK(ggufembed_result_dim(r, i) == 64);
    CHECK(ggufembed_result_tokens(r, i) == (*expect)[i].n_tokens);
    CHECK(ggufembed_result_truncated(r, i) == 0);
    const float* v = ggufembed_result_values(r, i);
    CHECK(std::vector<float>(v, v + 64) == (*expect)[i].values);
  }
  CHECK(ggufembed_result_values(r, 2) == nullptr);  // out of range
  ggufembed_result_free(r);

  // With progress: the same vectors, and the texts done after each pass (here one).
  std::vector<int32_t> progress;
  r = ggufembed_embed_with_progress(
      model, texts, nullptr, 2, &options,
      [](void* user, int32_t done) { static_cast<std::vector<int32_t>*>(user)->push_back(done); },
      &progress);
  REQUIRE(r != nullptr);
  CHECK(progress == std::vector<int32_t>{2});
  for (int i = 0; i < 2; ++i) {
    const float* v = ggufembed_result_values(r, i);
    CHECK(std::vector<float>(v, v + 64) == (*expect)[i].values);
  }
  ggufembed_result_free(r);

  // Explicit lengths allow NUL bytes and unterminated text.
  const char with_nul[] = {'a', '\0', 'b'};
  const char* one[] = {with_nul};
  const int32_t lengths[] = {3};
  r = ggufembed_embed(model, one, lengths, 1, nullptr);
  REQUIRE(r != nullptr);
  CHECK(ggufembed_result_tokens(r, 0) == 5);  // BOS a <0x00> b EOS
  ggufembed_result_free(r);

  // Tokenization: the count is returned even when the buffer is too small.
  int32_t ids[4];
  CHECK(ggufembed_tokenize(model, "first text", 10, 1, 1, ids, 2) > 2);
  const int32_t n = ggufembed_tokenize(model, "ab", 2, 0, 0, ids, 4);
  REQUIRE(n >= 1);
  CHECK(n <= 4);
  ggufembed_model_free(model);
}

// The whole file's bytes, for the buffer loads.
std::vector<uint8_t> FileContents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// A model whose token embeddings are left out (the WebAssembly bindings' load from a Blob): the
// table's place is found from a prefix, rows come in as the texts need them, and the vectors are
// those of the whole file bit for bit; a row not brought in is an error, not a wrong vector.
TEST_CASE("C API: a model loaded without its token embeddings", "[c_api]") {
  for (const char* arch : {"gemma-embedding", "gemma-embedding2"}) {
    CAPTURE(arch);
    const std::string path = testing::SynthModelPath("tiny", GgmlType::kQ8_0, true, arch);
    const std::vector<uint8_t> file = FileContents(path);
    Result<GgufFile> parsed = GgufFile::Parse(FileBytes::Borrow(file.data(), file.size()), path);
    REQUIRE(parsed.ok());
    const GgufTensorInfo* table = parsed->FindTensor("token_embd.weight");
    REQUIRE(table != nullptr);
    const size_t begin = size_t(table->data - file.data()), end = begin + table->n_bytes;

    // Located from prefixes: "read more" until the header is in, then the same place.
    size_t where[3] = {};
    CHECK(ggufembed_gguf_locate_tensor(file.data(), 64, file.size(), "token_embd.weight", where) ==
          0);
    CHECK(ggufembed_gguf_locate_tensor(file.data(), parsed->data_offset(), file.size(),
                                       "token_embd.weight", where) == 1);
    CHECK(where[0] == begin);
    CHECK(where[1] == end);
    CHECK(where[2] == table->row_bytes());
    CHECK(ggufembed_gguf_locate_tensor(file.data(), file.size(), file.size(), "nope", where) == -1);
    CHECK(ggufembed_last_error_code() == GGUFEMBED_INVALID_ARGUMENT);
    std::vector<uint8_t> not_gguf(file.begin(), file.end());
    not_gguf[0] = 'X';
    CHECK(ggufembed_gguf_locate_tensor(not_gguf.data(), 64, not_gguf.size(), "token_embd.weight",
                                       where) == 0);
    CHECK(ggufembed_gguf_locate_tensor(not_gguf.data(), not_gguf.size(), not_gguf.size(),
                                       "token_embd.weight", where) == -1);
    CHECK(ggufembed_last_error_code() == GGUFEMBED_INVALID_FILE);

    // The buffer with the table's bytes NaN (0xFF): a row read without being brought in would
    // poison the vector.
    auto lazy_buffer = [&] {
      auto* data = static_cast<uint8_t*>(ggufembed_alloc(file.size()));
      std::memcpy(data, file.data(), file.size());
      std::memset(data + begin, 0xFF, end - begin);
      return data;
    };
    uint8_t* wrong = lazy_buffer();
    CHECK(ggufembed_model_load_buffer_lazy(wrong, file.size(), "m.gguf", begin, end - 1) ==
          nullptr);
    CHECK(ggufembed_last_error_code() == GGUFEMBED_INVALID_ARGUMENT);
    CHECK(std::string(ggufembed_last_error_message()).find("not the data of token_embd.weight") !=
          std::string::npos);
    uint8_t* data = lazy_buffer();
    ggufembed_model* lazy =
        ggufembed_model_load_buffer_lazy(data, file.size(), "m.gguf", begin, end);
    REQUIRE(lazy != nullptr);
    ggufembed_model* whole = ggufembed_model_load_file(path.c_str());
    REQUIRE(whole != nullptr);

    ggufembed_options options;
    ggufembed_options_init(&options);
    options.prompt_text = "topic: ";
    const char* texts[] = {"rows on demand", "and a second text"};
    CHECK(ggufembed_embed(lazy, texts, nullptr, 2, &options) == nullptr);
    CHECK(ggufembed_last_error_code() == GGUFEMBED_INTERNAL);
    CHECK(std::string(ggufembed_last_error_message()).find("m.gguf: token_embd.weight row ") !=
          std::string::npos);

    // The absent rows are the distinct tokens of prompt + text, as the whole model tokenizes them.
    std::vector<int32_t> expected;
    for (const char* t : texts) {
      const std::string full = std::string("topic: ") + t;
      int32_t ids[64];
      const int32_t n = ggufembed_tokenize(whole, full.data(), int32_t(full.size()), 1, 1, ids, 64);
      REQUIRE(n > 0);
      REQUIRE(n <= 64);
      expected.insert(expected.end(), ids, ids + n);
    }
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    std::vector<int32_t> absent(expected.size() + 4);
    REQUIRE(
        ggufembed_model_absent_token_rows(lazy, texts, nullptr, 2, &options, absent.data(), 2) ==
        int32_t(expected.size()));  // the count, whatever the capacity
    const int32_t n_absent = ggufembed_model_absent_token_rows(
        lazy, texts, nullptr, 2, &options, absent.data(), int32_t(absent.size()));
    REQUIRE(n_absent == int32_t(expected.size()));
    absent.resize(size_t(n_absent));
    CHECK(absent == expected);

    // Half of them brought in: still an error; all: the whole file's vectors.
    const size_t row = table->row_bytes();
    auto bring = [&](std::span<const int32_t> ids) {
      for (int32_t id : ids)
        std::memcpy(data + begin + id * row, file.data() + begin + id * row, row);
      REQUIRE(ggufembed_model_mark_token_rows(lazy, ids.data(), int32_t(ids.size())) == 0);
    };
    bring(std::span<const int32_t>(absent).first(absent.size() / 2));
    CHECK(ggufembed_embed(lazy, texts, nullptr, 2, &options) == nullptr);
    CHECK(ggufembed_last_error_code() == GGUFEMBED_INTERNAL);
    bring(std::span<const int32_t>(absent).subspan(absent.size() / 2));
    CHECK(ggufembed_model_absent_token_rows(lazy, texts, nullptr, 2, &options, nullptr, 0) == 0);
    ggufembed_result* got = ggufembed_embed(lazy, texts, nullptr, 2, &options);
    ggufembed_result* want = ggufembed_embed(whole, texts, nullptr, 2, &options);
    REQUIRE(got != nullptr);
    REQUIRE(want != nullptr);
    for (int i = 0; i < 2; ++i) {
      const int dim = ggufembed_result_dim(want, i);
      REQUIRE(ggufembed_result_dim(got, i) == dim);
      CHECK(std::memcmp(ggufembed_result_values(got, i), ggufembed_result_values(want, i),
                        sizeof(float) * size_t(dim)) == 0);
    }
    ggufembed_result_free(got);
    ggufembed_result_free(want);

    // A file whose output_norm.weight shares the table's bytes (its offset patched to the
    // table's): refused before anything reads them, as any overlap is.
    const GgufTensorInfo* norm = parsed->FindTensor("output_norm.weight");
    REQUIRE(norm != nullptr);
    uint8_t* aliased = lazy_buffer();
    const size_t offset_at = norm->info_offset + 8 + norm->name.size() + 4 + 8 * norm->n_dims + 4;
    std::memcpy(aliased + offset_at, &table->offset, 8);
    CHECK(ggufembed_model_load_buffer_lazy(aliased, file.size(), "alias.gguf", begin, end) ==
          nullptr);
    CHECK(ggufembed_last_error_code() == GGUFEMBED_INVALID_FILE);
    const std::string alias_error = ggufembed_last_error_message();
    CHECK(alias_error.starts_with("alias.gguf: offset "));
    CHECK(alias_error.find(": tensor 'output_norm.weight': data [") != std::string::npos);
    CHECK(alias_error.find(") overlaps the data of tensor 'token_embd.weight' [") !=
          std::string::npos);

    const int32_t bad[] = {0, int32_t(table->n_rows())};
    CHECK(ggufembed_model_mark_token_rows(lazy, bad, 2) == -1);
    CHECK(ggufembed_last_error_code() == GGUFEMBED_INVALID_ARGUMENT);
    // A model loaded whole lacks nothing.
    CHECK(ggufembed_model_absent_token_rows(whole, texts, nullptr, 2, &options, nullptr, 0) == 0);
    ggufembed_model_free(lazy);
    ggufembed_model_free(whole);
  }
}

TEST_CASE("C API errors set the last error and return NULL or -1", "[c_api]") {
  CHECK(ggufembed_model_load_file("/nonexistent.gguf") == nullptr);
  CHECK(ggufembed_last_error_code() == GGUFEMBED_IO_ERROR);
  CHECK(std::string(ggufembed_last_error_message()) ==
        "/nonexistent.gguf: cannot open: No such file or directory");
  ggufembed_model* model = ggufembed_model_load_file(testing::SynthModelPath("tiny").c_str());
  REQUIRE(model != nullptr);
  ggufembed_options options;
  ggufembed_options_init(&options);
  options.pooling = 7;
  const char* texts[] = {"x"};
  CHECK(ggufembed_embed(model, texts, nullptr, 1, &options) == nullptr);
  CHECK(ggufembed_last_error_code() == GGUFEMBED_INVALID_ARGUMENT);
  CHECK(std::string(ggufembed_last_error_message()) ==
        "pooling 7 is not one of -1 (the file's), 0..3 (none, mean, cls, last)");
  options.pooling = GGUFEMBED_POOLING_FILE;
  options.prompt = "nope";
  CHECK(ggufembed_embed(model, texts, nullptr, 1, &options) == nullptr);
  CHECK(std::string(ggufembed_last_error_message()).rfind("unknown prompt 'nope'", 0) == 0);
  const char* bad[] = {"\xFF"};
  CHECK(ggufembed_embed(model, bad, nullptr, 1, nullptr) == nullptr);
  CHECK(std::string(ggufembed_last_error_message()) == "text is not valid UTF-8 at byte 0 (0xFF)");
  CHECK(ggufembed_tokenize(model, "\xFF", 1, 1, 1, nullptr, 0) == -1);
  options.prompt = nullptr;
  options.threads = -1;
  CHECK(ggufembed_embed(model, texts, nullptr, 1, &options) == nullptr);
  CHECK(std::string(ggufembed_last_error_message()) == "threads -1 is not 0 (all cores) to 4096");
  // Several threads: the same vectors as one.
  const char* many[] = {"one", "two words", "three words here", "", "five", "six", "seven"};
  options.threads = 1;
  ggufembed_result* one = ggufembed_embed(model, many, nullptr, 7, &options);
  options.threads = 3;
  ggufembed_result* three = ggufembed_embed(model, many, nullptr, 7, &options);
  REQUIRE((one != nullptr && three != nullptr));
  for (int32_t i = 0; i < 7; ++i) {
    const int32_t n = ggufembed_result_dim(one, i);
    REQUIRE(ggufembed_result_dim(three, i) == n);
    CHECK(std::memcmp(ggufembed_result_values(one, i), ggufembed_result_values(three, i),
                      sizeof(float) * size_t(n)) == 0);
  }
  ggufembed_result_free(one);
  ggufembed_result_free(three);
  // After errors the model still works.
  ggufembed_result* r = ggufembed_embed(model, texts, nullptr, 1, nullptr);
  REQUIRE(r != nullptr);
  CHECK(ggufembed_last_error_code() == GGUFEMBED_OK);
  ggufembed_result_free(r);
  ggufembed_model_free(model);
}

TEST_CASE("C API reports the options struct's layout", "[c_api]") {
  std::vector<int32_t> layout(19, -1);
  REQUIRE(ggufembed_options_layout(layout.data(), 19) == 19);
  const std::vector<int32_t> expect = {
      static_cast<int32_t>(sizeof(ggufembed_options)),
      static_cast<int32_t>(offsetof(ggufembed_options, prompt)),
      sizeof(void*),
      static_cast<int32_t>(offsetof(ggufembed_options, title)),
      sizeof(void*),
      static_cast<int32_t>(offsetof(ggufembed_options, prompt_text)),
      sizeof(void*),
      static_cast<int32_t>(offsetof(ggufembed_options, dim)),
      4,
      static_cast<int32_t>(offsetof(ggufembed_options, normalize)),
      4,
      static_cast<int32_t>(offsetof(ggufembed_options, truncate)),
      4,
      static_cast<int32_t>(offsetof(ggufembed_options, parse_special)),
      4,
      static_cast<int32_t>(offsetof(ggufembed_options, pooling)),
      4,
      static_cast<int32_t>(offsetof(ggufembed_options, threads)),
      4};
  CHECK(layout == expect);
  // The values, spelled out: js/src/layout.js writes the wasm32 struct at these offsets.
  if (sizeof(void*) == 4) {
    CHECK(layout ==
          std::vector<int32_t>{36, 0, 4, 4, 4, 8, 4, 12, 4, 16, 4, 20, 4, 24, 4, 28, 4, 32, 4});
  } else {
    CHECK(layout ==
          std::vector<int32_t>{48, 0, 8, 8, 8, 16, 8, 24, 4, 28, 4, 32, 4, 36, 4, 40, 4, 44, 4});
  }
  // A short buffer gets the first values; the count is returned either way.
  std::vector<int32_t> head(3, -1);
  CHECK(ggufembed_options_layout(head.data(), 2) == 19);
  CHECK(head == std::vector<int32_t>{layout[0], layout[1], -1});
  CHECK(ggufembed_options_layout(nullptr, 0) == 19);
}

TEST_CASE("C API buffers: a size above the limit is refused, realloc keeps the contents",
          "[c_api]") {
  const size_t limit = ggufembed_max_buffer_size();
  if (sizeof(void*) == 4) {
    // wasm32: 4 GiB less one 64 KiB page (emscripten's heap maximum) less 256 MiB.
    CHECK(limit == size_t{4026466304u});
  } else {
    CHECK(limit == static_cast<size_t>(PTRDIFF_MAX));
  }
  CHECK(ggufembed_alloc(limit + 1) == nullptr);
  CHECK(ggufembed_last_error_code() == GGUFEMBED_OUT_OF_MEMORY);
  CHECK(std::string(ggufembed_last_error_message()) ==
        "cannot allocate " + std::to_string(limit + 1) + " bytes: more than the " +
            std::to_string(limit) + " bytes one buffer can take");

  auto* p = static_cast<uint8_t*>(ggufembed_alloc(1000));
  REQUIRE(p != nullptr);
  CHECK(ggufembed_last_error_code() == GGUFEMBED_OK);
  for (int i = 0; i < 1000; ++i) p[i] = static_cast<uint8_t>(i * 7);
  CHECK(ggufembed_realloc(p, limit + 1) == nullptr);  // refused: p stays valid
  CHECK(ggufembed_last_error_code() == GGUFEMBED_OUT_OF_MEMORY);
  auto* q = static_cast<uint8_t*>(ggufembed_realloc(p, 1 << 20));
  REQUIRE(q != nullptr);
  bool same = true;
  for (int i = 0; i < 1000; ++i) same = same && q[i] == static_cast<uint8_t>(i * 7);
  CHECK(same);
  ggufembed_free(q);
}

}  // namespace
}  // namespace ggufembed
