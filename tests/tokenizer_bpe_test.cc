// The "gemma4" BPE tokenizer on a hand-made vocabulary whose expected ids are worked out by hand
// from llama.cpp's rules: merges lowest rank first and leftmost on ties, runs of newlines apart,
// spaces as U+2581 with no prefix, <0xXX> byte fallback, BOS always added, </s> an ordinary
// token beside <|tool_response>.
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "gguf/gguf.h"
#include "synth/gguf_writer.h"
#include "test_util.h"
#include "text/tokenizer.h"

namespace ggufembed {
namespace {

const std::string kSp = "\xE2\x96\x81";  // ▁

// id: piece (type)
const std::vector<std::string> kPieces = {
    "<pad>",  "<eos>",  "<bos>",   "</s>", "<|tool_response>",  // 0..4 CONTROL
    "a",      "b",      "c",       "ab",   "bc",                // 5..9
    "abc",    kSp,      kSp + "a", "\n",   "\n\n",              // 10..14
    "<0xC3>", "<0xA9>", "aa",      "aaaa", "<",                 // 15..19
    "/",      "s",      ">",       "x",    "y",                 // 20..24
    "<user>",                                                   // 25 USER_DEFINED
};

// `eos_s_type`: the file's type of </s> (USER_DEFINED in files converted from Gemma's
// tokenizer.json).
std::string WriteVocab(const std::string& name, bool with_tool_response,
                       const std::vector<std::string>& merges, int32_t eos_s_type = 3) {
  GgufWriter w;
  std::vector<std::string> pieces = kPieces;
  if (!with_tool_response) pieces[4] = "<|other>";
  std::vector<int32_t> types(pieces.size(), 1);
  for (int id = 0; id <= 4; ++id) types[id] = 3;
  types[3] = eos_s_type;
  types[15] = types[16] = 6;
  types[25] = 4;
  w.SetString("tokenizer.ggml.model", "gemma4");
  w.SetStringArray("tokenizer.ggml.tokens", pieces);
  w.SetI32Array("tokenizer.ggml.token_type", types);
  w.SetStringArray("tokenizer.ggml.merges", merges);
  w.SetU32("tokenizer.ggml.bos_token_id", 2);
  w.SetU32("tokenizer.ggml.eos_token_id", 1);
  w.SetBool("tokenizer.ggml.add_bos_token", false);  // gemma4 adds BOS all the same
  w.SetBool("tokenizer.ggml.add_eos_token", true);
  const std::string path = testing::TempPath(name);
  REQUIRE(w.WriteFile(path).ok());
  return path;
}

Tokenizer Load(const std::string& path) {
  Result<GgufFile> f = GgufFile::Open(path);
  REQUIRE(f.ok());
  Result<Tokenizer> t = Tokenizer::FromGguf(*f);
  REQUIRE(t.ok());
  return std::move(t).value();
}

std::vector<int32_t> Ids(const Tokenizer& t, const std::string& text, bool special = false,
                         bool parse_special = true) {
  Result<std::vector<int32_t>> ids = t.Encode(text, special, parse_special);
  REQUIRE(ids.ok());
  return *ids;
}

const std::vector<std::string> kMerges = {
    "b c",       // rank 0
    "a b",       // rank 1
    "a a",       // rank 2
    "aa aa",     // rank 3
    kSp + " a",  // rank 4
    "\n \n",     // rank 5
    "ab c",      // rank 6: never reached from "abc" (b c merges first)
};

TEST_CASE("gemma4: merges by rank, leftmost first on ties", "[tokenizer][bpe]") {
  const Tokenizer t = Load(WriteVocab("bpe.gguf", true, kMerges));
  CHECK(t.model() == Tokenizer::Model::kGemma4Bpe);
  CHECK(t.n_merges() == kMerges.size());
  CHECK(Ids(t, "abc") == std::vector<int32_t>{5, 9});  // (b c) rank 0 beats (a b) rank 1
  CHECK(Ids(t, "ab") == std::vector<int32_t>{8});
  CHECK(Ids(t, "aaaa") == std::vector<int32_t>{18});    // a·a a·a, then aa·aa
  CHECK(Ids(t, "aaa") == std::vector<int32_t>{17, 5});  // the leftmost pair merges first
}

TEST_CASE("gemma4: spaces, newline runs and byte fallback", "[tokenizer][bpe]") {
  const Tokenizer t = Load(WriteVocab("bpe-runs.gguf", true, kMerges));
  CHECK(Ids(t, " a") == std::vector<int32_t>{12});  // "▁a", no space prefix added
  CHECK(Ids(t, "a") == std::vector<int32_t>{5});
  CHECK(Ids(t, "x a") == std::vector<int32_t>{23, 12});         // merges cross the escaped space
  CHECK(Ids(t, "x\n\ny") == std::vector<int32_t>{23, 14, 24});  // a newline run that is a token
  CHECK(Ids(t, "x\n\n\ny") == std::vector<int32_t>{23, 14, 13, 24});  // else merged by rank
  CHECK(Ids(t, "\xC3\xA9") == std::vector<int32_t>{15, 16});          // é: <0xC3> <0xA9>
  // BOS always (the file says add_bos false), EOS as the file says.
  CHECK(Ids(t, "a", true) == std::vector<int32_t>{2, 5, 1});
}

TEST_CASE("gemma4: special tokens, and </s> beside <|tool_response>", "[tokenizer][bpe]") {
  const Tokenizer t = Load(WriteVocab("bpe-special.gguf", true, kMerges));
  CHECK(Ids(t, "a<eos>b") == std::vector<int32_t>{5, 1, 6});
  CHECK(Ids(t, "x<user>y", false, false) == std::vector<int32_t>{23, 25, 24});  // USER_DEFINED
  CHECK(Ids(t, "</s>") == std::vector<int32_t>{19, 20, 21, 22});  // an ordinary token: text
  const Tokenizer other = Load(WriteVocab("bpe-special2.gguf", false, kMerges));
  CHECK(Ids(other, "</s>") == std::vector<int32_t>{3});  // CONTROL without <|tool_response>
  CHECK(Ids(other, "</s>", false, false) == std::vector<int32_t>{19, 20, 21, 22});  // as text
  // USER_DEFINED in the file, as converted from Gemma's tokenizer.json: llama.cpp makes </s> a
  // control token by its name all the same (text unless special tokens are parsed) ...
  const Tokenizer converted = Load(WriteVocab("bpe-special3.gguf", false, kMerges, 4));
  CHECK(Ids(converted, "</s>") == std::vector<int32_t>{3});
  CHECK(Ids(converted, "</s>", false, false) == std::vector<int32_t>{19, 20, 21, 22});
  CHECK(Ids(converted, "x<user>y", false, false) == std::vector<int32_t>{23, 25, 24});
  // ... and an ordinary one beside <|tool_response>.
  const Tokenizer gemma4 = Load(WriteVocab("bpe-special4.gguf", true, kMerges, 4));
  CHECK(Ids(gemma4, "</s>") == std::vector<int32_t>{19, 20, 21, 22});
}

TEST_CASE("gemma4: vocabulary errors", "[tokenizer][bpe]") {
  GgufWriter w;
  w.SetString("tokenizer.ggml.model", "gemma4");
  w.SetStringArray("tokenizer.ggml.tokens", {"a", "b"});
  const std::string path = testing::TempPath("bpe-nomerges.gguf");
  REQUIRE(w.WriteFile(path).ok());
  Result<GgufFile> f = GgufFile::Open(path);
  REQUIRE(f.ok());
  Result<Tokenizer> t = Tokenizer::FromGguf(*f);
  CHECK(t.status().code() == StatusCode::kInvalidFile);
  CHECK(t.status().message().find("tokenizer.ggml.merges") != std::string::npos);

  GgufWriter w2;
  w2.SetString("tokenizer.ggml.model", "gemma4");
  w2.SetStringArray("tokenizer.ggml.tokens", {"a", "b"});
  w2.SetStringArray("tokenizer.ggml.merges", {"a b"});
  const std::string path2 = testing::TempPath("bpe-nobos.gguf");
  REQUIRE(w2.WriteFile(path2).ok());
  Result<GgufFile> f2 = GgufFile::Open(path2);
  REQUIRE(f2.ok());
  t = Tokenizer::FromGguf(*f2);
  CHECK(t.status().code() == StatusCode::kInvalidFile);
  CHECK(t.status().message().find("bos_token_id is missing") != std::string::npos);
}

}  // namespace
}  // namespace ggufembed
