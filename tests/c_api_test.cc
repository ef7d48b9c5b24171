// The C API over the Embedder: the same vectors, the last-error protocol, tokenization buffers.
#include <catch2/catch.hpp>
#include <cstring>

#include "ggufembed/embedder.h"
#include "ggufembed/ggufembed_c.h"
#include "model_util.h"

namespace ggufembed {
namespace {

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
  CHECK(std::string(ggufembed_last_error_message()) == "pooling 7 is not one of -1..3");
  options.pooling = GGUFEMBED_POOLING_FILE;
  options.prompt = "nope";
  CHECK(ggufembed_embed(model, texts, nullptr, 1, &options) == nullptr);
  CHECK(std::string(ggufembed_last_error_message()).rfind("unknown prompt 'nope'", 0) == 0);
  const char* bad[] = {"\xFF"};
  CHECK(ggufembed_embed(model, bad, nullptr, 1, nullptr) == nullptr);
  CHECK(std::string(ggufembed_last_error_message()) == "text is not valid UTF-8 at byte 0 (0xFF)");
  CHECK(ggufembed_tokenize(model, "\xFF", 1, 1, 1, nullptr, 0) == -1);
  // After errors the model still works.
  ggufembed_result* r = ggufembed_embed(model, texts, nullptr, 1, nullptr);
  REQUIRE(r != nullptr);
  CHECK(ggufembed_last_error_code() == GGUFEMBED_OK);
  ggufembed_result_free(r);
  ggufembed_model_free(model);
}

}  // namespace
}  // namespace ggufembed
