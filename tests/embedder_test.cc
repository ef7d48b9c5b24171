// The Embedder's behaviour: batches equal single calls, prompts, Matryoshka, normalization,
// pooling choices, dense layers, long inputs, empty and invalid text.
#include "ggufembed/embedder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "gguf/gguf.h"
#include "kernels/activation_quant.h"
#include "model_util.h"
#include "models/gemma_embedding/model.h"
#include "models/gemma_embedding/weights.h"
#include "test_util.h"
#include "text/prompts.h"

namespace ggufembed {
namespace {

const Embedder& Tiny() {
  static Embedder* e = [] {
    Result<std::unique_ptr<Embedder>> r = Embedder::Load(testing::SynthModelPath("tiny"));
    REQUIRE(r.ok());
    return std::move(r).value().release();
  }();
  return *e;
}

std::vector<Embedding> Embed(const Embedder& e, const std::vector<std::string>& texts,
                             const EmbedOptions& options = {}) {
  Result<std::vector<Embedding>> r = e.Embed(texts, options);
  REQUIRE(r.ok());
  return std::move(r).value();
}

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float f : v) s += double(f) * f;
  return std::sqrt(s);
}

const std::vector<std::string> kTexts = {
    "The quick brown fox jumps over the lazy dog.",
    "hello",
    "",
    "Мир\ttabs\n\nnewlines  spaces",
    "<code>x = 1</code> and <eos> inside",
    "A somewhat longer sentence that spans more than "
    "sixteen tokens, so that the sliding window of the tiny model matters for it."};

TEST_CASE("a batch equals one text at a time, bit for bit", "[embedder]") {
  const std::vector<Embedding> batch = Embed(Tiny(), kTexts);
  REQUIRE(batch.size() == kTexts.size());
  for (size_t i = 0; i < kTexts.size(); ++i) {
    const std::vector<Embedding> one = Embed(Tiny(), {kTexts[i]});
    INFO(kTexts[i]);
    CHECK(one[0].values == batch[i].values);
    CHECK(one[0].n_tokens == batch[i].n_tokens);
  }
  // And in another order.
  const std::vector<Embedding> reversed = Embed(Tiny(), {kTexts[5], kTexts[0]});
  CHECK(reversed[0].values == batch[5].values);
  CHECK(reversed[1].values == batch[0].values);
}

TEST_CASE("loading from memory the caller keeps equals loading the file", "[embedder]") {
  const std::string path = testing::SynthModelPath("tiny");
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 1000);
  Result<std::unique_ptr<Embedder>> e = Embedder::LoadFromMemory(bytes.data(), bytes.size(), "mem");
  REQUIRE(e.ok());
  const std::vector<Embedding> a = Embed(**e, {kTexts[0], kTexts[3]});
  const std::vector<Embedding> b = Embed(Tiny(), {kTexts[0], kTexts[3]});
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].values == b[i].values);
  // A truncated buffer is an error naming the name given.
  Result<std::unique_ptr<Embedder>> cut = Embedder::LoadFromMemory(bytes.data(), 100, "cut.gguf");
  CHECK(cut.status().code() == StatusCode::kInvalidFile);
  CHECK(cut.status().message().rfind("cut.gguf", 0) == 0);
}

TEST_CASE("vectors are normalized unless asked not to be", "[embedder]") {
  const Embedding e = Embed(Tiny(), {kTexts[0]})[0];
  CHECK(e.rows == 1);
  CHECK(e.dim == 128);
  CHECK(e.values.size() == 128);
  CHECK(Norm(e.values) == Approx(1.0).epsilon(1e-6));
  EmbedOptions raw;
  raw.normalize = false;
  const Embedding r = Embed(Tiny(), {kTexts[0]}, raw)[0];
  CHECK(Norm(r.values) > 1.5);  // mean-pooled, dense-projected states are not unit length
  for (int i = 0; i < 128; ++i)
    CHECK(e.values[i] == Approx(r.values[i] / Norm(r.values)).margin(1e-7));
}

TEST_CASE("Matryoshka: the first dim components, renormalized", "[embedder]") {
  EmbedOptions raw;
  raw.normalize = false;
  const Embedding full = Embed(Tiny(), {kTexts[0]}, raw)[0];
  for (int dim : {64, 32, 1, 128}) {
    EmbedOptions o;
    o.dim = dim;
    const Embedding e = Embed(Tiny(), {kTexts[0]}, o)[0];
    REQUIRE(e.dim == dim);
    REQUIRE(e.values.size() == size_t(dim));
    std::vector<float> head(full.values.begin(), full.values.begin() + dim);
    const double n = Norm(head);
    for (int i = 0; i < dim; ++i) CHECK(e.values[i] == Approx(head[i] / n).margin(1e-7));
    o.normalize = false;
    const Embedding cut = Embed(Tiny(), {kTexts[0]}, o)[0];
    CHECK(cut.values == head);
  }
  EmbedOptions too_big;
  too_big.dim = 129;
  Result<std::vector<Embedding>> r = Tiny().Embed({"x"}, too_big);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() ==
        "dim 129 is outside the model's output size (1 to 128, or 0 for all)");
}

TEST_CASE("task prompts are prepended as plain text", "[embedder]") {
  CHECK(*PromptPrefix("query", "") == "task: search result | query: ");
  CHECK(*PromptPrefix("document", "") == "title: none | text: ");
  CHECK(*PromptPrefix("document", "Cats") == "title: Cats | text: ");
  CHECK(*PromptPrefix("question-answering", "") == "task: question answering | query: ");
  CHECK(*PromptPrefix("fact-checking", "") == "task: fact checking | query: ");
  CHECK(*PromptPrefix("classification", "") == "task: classification | query: ");
  CHECK(*PromptPrefix("clustering", "") == "task: clustering | query: ");
  CHECK(*PromptPrefix("sentence-similarity", "") == "task: sentence similarity | query: ");
  CHECK(*PromptPrefix("code-retrieval", "") == "task: code retrieval | query: ");
  CHECK(PromptNames().size() == 8);
  const std::string text = "what is a fox?";
  EmbedOptions query;
  query.prompt = "query";
  const Embedding with_prompt = Embed(Tiny(), {text}, query)[0];
  const Embedding spelled = Embed(Tiny(), {"task: search result | query: " + text})[0];
  CHECK(with_prompt.values == spelled.values);
  CHECK(with_prompt.n_tokens == spelled.n_tokens);
  EmbedOptions doc;
  doc.prompt = "document";
  doc.title = "Foxes";
  CHECK(Embed(Tiny(), {text}, doc)[0].values ==
        Embed(Tiny(), {"title: Foxes | text: " + text})[0].values);
  EmbedOptions custom;
  custom.prompt_text = "passage: ";
  CHECK(Embed(Tiny(), {text}, custom)[0].values == Embed(Tiny(), {"passage: " + text})[0].values);

  EmbedOptions bad;
  bad.prompt = "search";
  CHECK(Tiny().Embed({text}, bad).status().message() ==
        "unknown prompt 'search' (known: query, document, question-answering, fact-checking, "
        "classification, clustering, sentence-similarity, code-retrieval)");
  bad.prompt = "query";
  bad.title = "T";
  CHECK(Tiny().Embed({text}, bad).status().message() ==
        "a title applies to the document prompt only, not to 'query'");
  bad.title = "";
  bad.prompt_text = "x";
  CHECK(Tiny().Embed({text}, bad).status().message() ==
        "give a prompt name or a prompt text, not both");
}

TEST_CASE("pooling can be overridden", "[embedder]") {
  EmbedOptions none;
  none.pooling = Pooling::kNone;
  const Embedding all = Embed(Tiny(), {kTexts[0]}, none)[0];
  REQUIRE(all.rows == all.n_tokens);
  REQUIRE(all.values.size() == size_t(all.rows) * 128);
  for (int r = 0; r < all.rows; ++r) {
    std::vector<float> row(all.values.begin() + r * 128, all.values.begin() + (r + 1) * 128);
    CHECK(Norm(row) == Approx(1.0).epsilon(1e-6));
  }
  // Dense layers act on each row, so CLS and LAST equal the first and last per-token rows.
  EmbedOptions cls;
  cls.pooling = Pooling::kCls;
  const Embedding first = Embed(Tiny(), {kTexts[0]}, cls)[0];
  CHECK(first.values == std::vector<float>(all.values.begin(), all.values.begin() + 128));
  EmbedOptions last;
  last.pooling = Pooling::kLast;
  const Embedding end = Embed(Tiny(), {kTexts[0]}, last)[0];
  CHECK(end.values == std::vector<float>(all.values.end() - 128, all.values.end()));
}

TEST_CASE("the dense projections follow pooling", "[embedder]") {
  Result<std::unique_ptr<Embedder>> plain =
      Embedder::Load(testing::SynthModelPath("tiny", GgmlType::kQ8_0, false));
  REQUIRE(plain.ok());
  EmbedOptions raw;
  raw.normalize = false;
  // Same seed: identical tensors except the dense ones, so the no-dense vector is the pooled
  // state that the dense model projects.
  const std::vector<float> pooled = Embed(**plain, {kTexts[0]}, raw)[0].values;
  const std::vector<float> projected = Embed(Tiny(), {kTexts[0]}, raw)[0].values;
  Result<GgufFile> file = GgufFile::Open(testing::SynthModelPath("tiny"));
  REQUIRE(file.ok());
  // dense_3 · dense_2 · pooled in double, each input rounded through Q8_0 as ggml does.
  auto apply = [&](const char* name, std::vector<float> x) {
    const GgufTensorInfo* t = file->FindTensor(name);
    RoundThroughActivationType(GgmlType::kQ8_0, x.data(), static_cast<int64_t>(x.size()));
    std::vector<float> y(static_cast<size_t>(t->ne[1])), row(static_cast<size_t>(t->ne[0]));
    for (int64_t r = 0; r < t->ne[1]; ++r) {
      REQUIRE(DequantizeTensorRow(*t, r, row.data()).ok());
      double dot = 0;
      for (size_t c = 0; c < row.size(); ++c) dot += double(row[c]) * x[c];
      y[size_t(r)] = static_cast<float>(dot);
    }
    return y;
  };
  const std::vector<float> expect = apply("dense_3.weight", apply("dense_2.weight", pooled));
  REQUIRE(expect.size() == projected.size());
  for (size_t i = 0; i < expect.size(); ++i) CHECK(projected[i] == Approx(expect[i]).margin(2e-5));
}

TEST_CASE("the sliding window matters only past its reach", "[embedder]") {
  Result<GgufFile> file = GgufFile::Open(testing::SynthModelPath("tiny"));
  REQUIRE(file.ok());
  gemma_embedding::Config c = std::move(gemma_embedding::Config::FromGguf(*file)).value();
  const gemma_embedding::Weights w =
      std::move(gemma_embedding::Weights::FromGguf(*file, c)).value();
  gemma_embedding::Config wide = c;
  wide.n_swa = 1 << 20;  // every layer global in effect
  for (int T : {9, 10, 40}) {
    std::vector<int32_t> tokens(T);
    for (int t = 0; t < T; ++t) tokens[t] = 300 + 7 * t;
    std::vector<float> a(size_t(T) * 128), b(size_t(T) * 128);
    gemma_embedding::ForwardReference(c, w, tokens.data(), T, a.data());
    gemma_embedding::ForwardReference(wide, w, tokens.data(), T, b.data());
    INFO(T << " tokens, window " << c.n_swa);
    // |Δpos| <= 8 covers every pair of 9 tokens; from 10 tokens on some pairs are masked.
    CHECK((a == b) == (T <= 9));
  }
}

TEST_CASE("texts longer than the context fail or are truncated", "[embedder]") {
  // The tiny vocabulary spells "zq" letter by letter: two tokens each, 2 + 2·1100 > 2048.
  std::string long_text;
  for (int i = 0; i < 1100; ++i) long_text += "zq";
  Result<std::vector<int32_t>> ids = Tiny().Tokenize(long_text, true, true);
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 2202);
  Result<std::vector<Embedding>> r = Tiny().Embed({long_text}, {});
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kInputTooLong);
  CHECK(r.status().message() ==
        "the text is 2202 tokens long, more than the model's context of 2048 tokens (use "
        "truncation to embed its beginning)");
  Result<std::vector<Embedding>> in_batch = Tiny().Embed({"fine", long_text}, {});
  CHECK(in_batch.status().message().rfind("text 1: the text is 2202 tokens long", 0) == 0);
  EmbedOptions cut;
  cut.truncate = true;
  const Embedding e = Embed(Tiny(), {long_text}, cut)[0];
  CHECK(e.truncated);
  CHECK(e.n_tokens == 2048);
  CHECK(e.n_input_tokens == 2202);
  // Only the first 2046 text tokens count: a different tail gives the same vector.
  const Embedding other = Embed(Tiny(), {long_text + "some other ending"}, cut)[0];
  CHECK(other.values == e.values);
  // And the sequence ends with EOS again: the vector is that of the text cut to 2046 tokens (BOS
  // + 2046 + EOS fill the context), untruncated — without the EOS it differed.
  const std::string fits = long_text.substr(0, 2046);
  const Embedding exact = Embed(Tiny(), {fits}, {})[0];
  CHECK(!exact.truncated);
  CHECK(exact.n_tokens == 2048);
  CHECK(exact.values == e.values);
  EmbedOptions rows = cut;  // every token's row, the last one EOS's
  rows.pooling = Pooling::kNone;
  EmbedOptions exact_rows = rows;
  exact_rows.truncate = false;
  CHECK(Embed(Tiny(), {long_text}, rows)[0].values == Embed(Tiny(), {fits}, exact_rows)[0].values);
  CHECK(!Embed(Tiny(), {"short"}, cut)[0].truncated);
  // A prompt that fills the context by itself leaves none of the text: refused, not the prompt's
  // vector for every text. One that leaves a token of it still embeds.
  EmbedOptions prompt_fills = cut;
  prompt_fills.prompt_text = long_text;
  Result<std::vector<Embedding>> filled = Tiny().Embed({"any text"}, prompt_fills);
  REQUIRE(!filled.ok());
  CHECK(filled.status().code() == StatusCode::kInputTooLong);
  CHECK(filled.status().message() ==
        "the prompt is 2202 tokens long with BOS and EOS, which fills the model's context of 2048 "
        "tokens and leaves none for the text");
  // A token a letter: BOS, 2045 of the prompt, 1 of the text, EOS.
  prompt_fills.prompt_text = long_text.substr(0, 2045);
  const Embedding one = Embed(Tiny(), {"zq and more"}, prompt_fills)[0];
  CHECK(one.truncated);
  CHECK(one.values != Embed(Tiny(), {"qz and more"}, prompt_fills)[0].values);
}

TEST_CASE("empty and invalid texts", "[embedder]") {
  const Embedding empty = Embed(Tiny(), {""})[0];
  CHECK(empty.n_tokens == 2);  // BOS and EOS
  CHECK(Norm(empty.values) == Approx(1.0).epsilon(1e-6));
  Result<std::vector<Embedding>> bad = Tiny().Embed({"ok", "bad \xFF byte"}, {});
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message() == "text 1: text is not valid UTF-8 at byte 4 (0xFF)");
  // With a prompt the offset is still the text's own (it counted the prompt's bytes).
  EmbedOptions query, document, prompt_text;
  query.prompt = "query";
  document.prompt = "document";
  document.title = "Mars";
  prompt_text.prompt_text = "passage: ";
  for (const EmbedOptions& o : {query, document, prompt_text}) {
    INFO(o.prompt << o.prompt_text);
    CHECK(Tiny().Embed({"ab\xFF"}, o).status().message() ==
          "text is not valid UTF-8 at byte 2 (0xFF)");
    // And a text too long for the context is that first, with a prompt or without.
    const std::string too_long = "\xFF" + std::string(1 << 20, 'a');
    CHECK(Tiny().Embed({too_long}, o).status().code() == StatusCode::kInputTooLong);
    CHECK(Tiny().Embed({too_long}, {}).status().code() == StatusCode::kInputTooLong);
  }
}

TEST_CASE("options that name no valid value are refused, by every call alike", "[embedder]") {
  const Embedder& e = Tiny();
  std::vector<float> out(e.info().dim);
  EmbeddingInfo info;
  const auto refused = [&](const EmbedOptions& o, const std::string& message) {
    INFO(message);
    CHECK(e.CheckOptions(o).message() == message);
    CHECK(e.Embed({"a text"}, o).status().message() == message);
    CHECK(e.EmbedInto("a text", o, out.data(), out.size(), &info).message() == message);
    const BatchText batch[] = {{"a text", &o}};
    Status seen;
    REQUIRE(
        e.EmbedBatch(batch, {}, [&](size_t, const Status& s, const Embedding&) { seen = s; }).ok());
    CHECK(seen.message() == message);
  };
  // A Pooling outside the enum (a cast from a caller's int) computed nothing into the result: an
  // all-zero vector, or the previous call's.
  for (int p : {-1, 4, 9}) {
    EmbedOptions o;
    o.pooling = static_cast<Pooling>(p);
    refused(o, "pooling " + std::to_string(p) + " is not one of 0..3 (none, mean, cls, last)");
  }
  // A title or prompt text that is not UTF-8 is named, at its own byte offset.
  EmbedOptions title;
  title.prompt = "document";
  title.title = "ok \xC3";
  refused(title, "the title is not valid UTF-8 at byte 3");
  EmbedOptions prompt_text;
  prompt_text.prompt_text = "\xFFpassage: ";
  refused(prompt_text, "the prompt text is not valid UTF-8 at byte 0");
  // A prompt name with a NUL or bytes that are not UTF-8 shows them escaped.
  EmbedOptions name;
  name.prompt = std::string("query\0x", 7);
  CHECK_THAT(e.CheckOptions(name).message(),
             Catch::Matchers::StartsWith("unknown prompt '\"query\\u0000x\"' (known: query, "));
  name.prompt = "q\xFF";
  CHECK_THAT(e.CheckOptions(name).message(),
             Catch::Matchers::StartsWith("unknown prompt '\"q\xEF\xBF\xBD\"' (known: "));
  // `info` may be null; the vector is the same.
  REQUIRE(e.EmbedInto("a text", {}, out.data(), out.size(), nullptr).ok());
  CHECK(out == Embed(e, {"a text"})[0].values);
}

TEST_CASE("loading refuses a FIFO at once, a NUL in a path and a null buffer", "[embedder]") {
#if !defined(__EMSCRIPTEN__)  // the memory-mapping loader's checks (WebAssembly reads with stdio)
  const std::string fifo = testing::TempPath("model.fifo");
  const std::string dir = fifo.substr(0, fifo.rfind('/'));
  ::unlink(fifo.c_str());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Opened without O_NONBLOCK, a FIFO without a writer blocked the load forever.
  Result<std::unique_ptr<Embedder>> f = Embedder::Load(fifo);
  REQUIRE(!f.ok());
  CHECK(f.status().code() == StatusCode::kIoError);
  CHECK(f.status().message() == fifo + ": not a regular file (a FIFO)");
  ::unlink(fifo.c_str());
  // A directory: no stale errno text after the kind.
  errno = ENOENT;
  f = Embedder::Load(dir);
  REQUIRE(!f.ok());
  CHECK(f.status().message() == dir + ": not a regular file (a directory)");
#endif
  // The path a caller's std::string holds, NUL and all — not the prefix before it.
  const std::string path = testing::SynthModelPath("tiny");
  Result<std::unique_ptr<Embedder>> r = Embedder::Load(path + std::string("\0.bak", 5));
  REQUIRE(!r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() ==
        "the path holds a NUL byte (at " + std::to_string(path.size()) + ")");
  r = Embedder::LoadFromMemory(nullptr, 100, "buffer.gguf");
  REQUIRE(!r.ok());
  CHECK(r.status().message() == "buffer.gguf: the data pointer is null (100 bytes)");
}

TEST_CASE("special-token text is parsed unless switched off", "[embedder]") {
  Result<std::vector<int32_t>> parsed = Tiny().Tokenize("a<eos>b", true, true);
  Result<std::vector<int32_t>> plain = Tiny().Tokenize("a<eos>b", true, false);
  REQUIRE(parsed.ok());
  REQUIRE(plain.ok());
  CHECK(std::count(parsed->begin(), parsed->end(), 1) == 2);  // the text's and the final EOS
  CHECK(std::count(plain->begin(), plain->end(), 1) == 1);
  EmbedOptions o;
  o.parse_special = false;
  CHECK(Embed(Tiny(), {"a<eos>b"}, o)[0].n_tokens == static_cast<int>(plain->size()));
  CHECK(Embed(Tiny(), {"a<eos>b"})[0].n_tokens == static_cast<int>(parsed->size()));
}

TEST_CASE("a token's text, and nothing for an id outside the vocabulary", "[embedder]") {
  const int n_vocab = Tiny().info().n_vocab;
  CHECK(Tiny().TokenPiece(1) == "<eos>");
  CHECK(!Tiny().TokenPiece(n_vocab - 1).empty());
  // These once read outside the piece table.
  for (int32_t id : {-1, n_vocab, INT32_MIN, INT32_MAX}) CHECK(Tiny().TokenPiece(id).empty());
}

}  // namespace
}  // namespace ggufembed

namespace ggufembed {
namespace {

// The SIMD forward pass against the scalar reference, whole model, every row (pooling none), on
// each target this CPU runs: the same bits. Texts of the tiny model's char-level vocabulary cover
// both attention regimes (under 64 tokens: f16 sums; 64 and more: f32) and its sliding window.
TEST_CASE("the SIMD forward pass equals the reference on every target", "[embedder]") {
  const std::string long_text =
      "Sliding windows, rotary positions and grouped queries: a text long enough that the tiny "
      "model sees more than sixty-four tokens, so attention sums in f32.";
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kF16}) {
    Result<std::unique_ptr<Embedder>> e = Embedder::Load(testing::SynthModelPath("tiny", type));
    REQUIRE(e.ok());
    EmbedOptions reference, fast;
    reference.reference = true;
    reference.pooling = fast.pooling = Pooling::kNone;
    const std::vector<std::string> texts = {kTexts[0], kTexts[3], long_text};
    const std::vector<Embedding> want = Embed(**e, texts, reference);
    REQUIRE(want[2].n_tokens >= 64);
    const std::vector<std::string> targets = testing::SimdTargetNames();
    int ran = 0;
    for (const std::string& target : targets) {
      const Status s = SetSimdTarget(target);
      if (s.code() == StatusCode::kUnsupported) continue;  // not this CPU's
      REQUIRE(s.ok());
      ++ran;
      const std::vector<Embedding> got = Embed(**e, texts, fast);
      for (size_t i = 0; i < texts.size(); ++i) {
        INFO("target " << target << " (" << SimdTargetName() << "), text " << i);
        REQUIRE(got[i].values.size() == want[i].values.size());
        REQUIRE(std::memcmp(got[i].values.data(), want[i].values.data(),
                            want[i].values.size() * sizeof(float)) == 0);
      }
    }
    REQUIRE(SetSimdTarget("best").ok());
#if !defined(__EMSCRIPTEN__)
    REQUIRE(ran >= 2);  // avx2 and scalar at least: CI machines have AVX2
#endif
  }
}

TEST_CASE("forcing a SIMD target: names and errors", "[embedder]") {
  const Status bad = SetSimdTarget("sse9");
  REQUIRE(bad.code() == StatusCode::kInvalidArgument);
  REQUIRE(bad.message() ==
          "SIMD target 'sse9' is not one of best, avx512vnni, avx512, avx2, scalar");
#if !defined(__EMSCRIPTEN__)
  REQUIRE(SetSimdTarget("scalar").ok());
  // Highway's fallback target: SCALAR from GCC, EMU128 (128-bit vectors emulated) from clang.
  const std::string fallback = SimdTargetName();
  REQUIRE((fallback == "SCALAR" || fallback == "EMU128"));
  REQUIRE(SetSimdTarget("avx2").ok());
  REQUIRE(std::string(SimdTargetName()) == "AVX2");
  // The CPU's targets are listed whatever is forced, and listing them keeps the forced one
  // (Highway's SupportedTargets() set dispatch up for the best again: --version said AVX3_DL).
  const std::string all = SupportedSimdTargets();
  REQUIRE(SetSimdTarget("scalar").ok());
  CHECK(SupportedSimdTargets() == all);
  CHECK(SimdTargetName() == fallback);
  REQUIRE(SetSimdTarget("best").ok());
  CHECK(SupportedSimdTargets() == all);
  CHECK(all.find("AVX2") != std::string::npos);
#else
  REQUIRE(SetSimdTarget("avx2").code() == StatusCode::kUnsupported);
  REQUIRE(std::string(SimdTargetName()) == "WASM");
#endif
  REQUIRE(SetSimdTarget("best").ok());
}

}  // namespace
}  // namespace ggufembed
