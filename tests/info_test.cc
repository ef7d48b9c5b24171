// `info` output: exact text and JSON for small hand-laid-out files (column layout checked against
// Python's printf formatting when the expectations were written).
#include <catch2/catch.hpp>

#include "gguf/gguf_info.h"
#include "gguf_bytes.h"

namespace ggufembed {
namespace {

using testing::GgufBytes;

TEST_CASE("info text of the small file", "[info]") {
  Result<GgufFile> f = testing::SmallValidFile().Parse();
  REQUIRE(f.ok());
  CHECK(FormatInfoText(*f) ==
        "test.gguf: GGUF v3, 256 bytes, alignment 32, tensor data at offset 192\n"
        "2 key/value pairs:\n"
        "     1: str           1 | general.architecture = \"test\"\n"
        "     2: u32           1 | test.count = 7\n"
        "2 tensors:\n"
        "        name                                 type    shape                      offset"
        "        bytes\n"
        "     1: a                                    F32     [4]                             0"
        "           16\n"
        "     2: b                                    F32     [2, 3]                         32"
        "           24\n");
}

TEST_CASE("info JSON of the small file", "[info]") {
  Result<GgufFile> f = testing::SmallValidFile().Parse();
  REQUIRE(f.ok());
  CHECK(FormatInfoJson(*f) ==
        "{\"file\":\"test.gguf\",\"version\":3,\"file_size\":256,\"alignment\":32,"
        "\"data_offset\":192,\"metadata\":["
        "{\"key\":\"general.architecture\",\"type\":\"str\",\"value\":\"test\"},"
        "{\"key\":\"test.count\",\"type\":\"u32\",\"value\":7}],"
        "\"tensors\":[{\"name\":\"a\",\"type\":\"F32\",\"shape\":[4],\"offset\":0,\"bytes\":16},"
        "{\"name\":\"b\",\"type\":\"F32\",\"shape\":[2, 3],\"offset\":32,\"bytes\":24}]}");
}

// Ten strings (two needing escapes), an f32 and a bool; no tensors. 24 + 122 + 19 + 17 = 182
// bytes.
GgufBytes ArrayFile() {
  GgufBytes g;
  g.Header(3, 0, 3);
  g.Str("names").U32(testing::kArr).U32(testing::kStr).U64(10);
  g.Str("a").Str("b\"q").Str("c\n");
  for (char c = 'd'; c <= 'j'; ++c) g.Str(std::string(1, c));
  g.KvF32("eps", 1e-6f);
  g.Str("flag").U32(testing::kBool).U8(1);
  return g;
}

TEST_CASE("info summarizes arrays and escapes strings", "[info]") {
  Result<GgufFile> f = ArrayFile().Parse();
  REQUIRE(f.ok());
  InfoOptions three;
  three.max_array_items = 3;
  CHECK(FormatInfoText(*f, three) ==
        "test.gguf: GGUF v3, 182 bytes, alignment 32, tensor data at offset 192\n"
        "3 key/value pairs:\n"
        "     1: [str]        10 | names = [\"a\", \"b\\\"q\", \"c\\n\", ... 7 more]\n"
        "     2: f32           1 | eps = 9.99999997e-07\n"
        "     3: bool          1 | flag = true\n"
        "0 tensors\n");
  CHECK(FormatInfoJson(*f, three) ==
        "{\"file\":\"test.gguf\",\"version\":3,\"file_size\":182,\"alignment\":32,"
        "\"data_offset\":192,\"metadata\":["
        "{\"key\":\"names\",\"type\":\"arr\",\"element_type\":\"str\",\"count\":10,"
        "\"values\":[\"a\",\"b\\\"q\",\"c\\n\"]},"
        "{\"key\":\"eps\",\"type\":\"f32\",\"value\":9.99999997e-07},"
        "{\"key\":\"flag\",\"type\":\"bool\",\"value\":true}],\"tensors\":[]}");
  InfoOptions all;
  all.max_array_items = 0;
  const std::string json = FormatInfoJson(*f, all);
  CHECK(json.find("\"values\":[\"a\",\"b\\\"q\",\"c\\n\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\","
                  "\"j\"]") != std::string::npos);
}

TEST_CASE("invalid UTF-8 in strings becomes U+FFFD in output", "[info]") {
  GgufBytes g;
  g.Header(3, 0, 1).KvStr("k", std::string("ok\xFF\xC3", 4));
  Result<GgufFile> f = g.Parse();
  REQUIRE(f.ok());
  CHECK(FormatInfoJson(*f).find("\"value\":\"ok\xEF\xBF\xBD\xEF\xBF\xBD\"") != std::string::npos);
}

}  // namespace
}  // namespace ggufembed
