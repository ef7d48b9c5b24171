// ParseJson: every value kind, escapes, numbers, each error class with its byte offset, limits,
// and a deterministic fuzz loop (mutated and truncated documents never crash).
#include "util/json.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ggufembed {
namespace {

using Kind = JsonValue::Kind;

JsonValue Parse(std::string_view text) {
  Result<JsonValue> r = ParseJson(text);
  INFO(std::string(text) << " -> " << r.status().message());
  REQUIRE(r.ok());
  return *r;
}

// The byte offset, line and column an error message names ({-1, -1, -1} when it names none).
struct Position {
  long offset = -1, line = -1, column = -1;
};
Position ErrorPosition(const std::string& message) {
  Position p;
  std::sscanf(message.c_str(), "JSON: at byte offset %ld (line %ld, column %ld)", &p.offset,
              &p.line, &p.column);
  return p;
}

// The line and column (from 1, column in bytes) of `offset` in `text`, computed independently.
Position PositionOf(std::string_view text, size_t offset) {
  Position p{static_cast<long>(offset), 1, 1};
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

// Parses `text`, which must fail; checks the error's class and position and returns its message.
std::string ParseError(std::string_view text, size_t offset) {
  Result<JsonValue> r = ParseJson(text);
  INFO("text: " << std::string(text));
  REQUIRE(!r.ok());
  const std::string message = r.status().message();
  INFO("message: " << message);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  const Position got = ErrorPosition(message);
  const Position want = PositionOf(text, offset);
  CHECK(got.offset == want.offset);
  CHECK(got.line == want.line);
  CHECK(got.column == want.column);
  return message;
}

// Writes `v` back as compact JSON (integers exactly, other numbers as AppendJsonDouble writes them).
void Serialize(const JsonValue& v, std::string& out) {
  switch (v.kind()) {
    case Kind::kNull:
      out += "null";
      break;
    case Kind::kBool:
      out += v.AsBool() ? "true" : "false";
      break;
    case Kind::kNumber:
      if (v.AsInt64()) {
        out += std::to_string(*v.AsInt64());
      } else if (v.AsDouble() == 0.0) {  // keeps -0.0 apart from the integer -0
        out += std::signbit(v.AsDouble()) ? "-0.0" : "0.0";
      } else {
        AppendJsonDouble(out, v.AsDouble());
      }
      break;
    case Kind::kString:
      AppendJsonString(out, v.AsString());
      break;
    case Kind::kArray:
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        Serialize(v[i], out);
      }
      out += ']';
      break;
    case Kind::kObject:
      out += '{';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out += ',';
        AppendJsonString(out, v.KeyAt(i));
        out += ':';
        Serialize(v.ValueAt(i), out);
      }
      out += '}';
      break;
  }
}

std::string Serialize(const JsonValue& v) {
  std::string out;
  Serialize(v, out);
  return out;
}

TEST_CASE("every value kind", "[json]") {
  CHECK(Parse("null").is_null());
  CHECK(Parse("true").AsBool());
  CHECK(Parse("false").is_bool());
  CHECK(!Parse("false").AsBool());
  CHECK(Parse("42").AsInt64() == 42);
  CHECK(Parse("\"hi\"").AsString() == "hi");
  CHECK(Parse("\"\"").AsString().empty());
  CHECK(Parse("[]").is_array());
  CHECK(Parse("[]").size() == 0);
  CHECK(Parse("{}").is_object());
  CHECK(Parse("{}").size() == 0);

  const JsonValue v = Parse(R"({"z": [1, "two", null, true, {"x": []}], "a": {"b": {"c": 3}},
                               "m": false})");
  REQUIRE(v.size() == 3);
  // Document order, not sorted.
  CHECK(v.KeyAt(0) == "z");
  CHECK(v.KeyAt(1) == "a");
  CHECK(v.KeyAt(2) == "m");
  const JsonValue z = *v.Find("z");
  REQUIRE(z.size() == 5);
  CHECK(z[0].AsInt64() == 1);
  CHECK(z[1].AsString() == "two");
  CHECK(z[2].is_null());
  CHECK(z[3].AsBool());
  CHECK(z[4].Find("x")->is_array());
  CHECK(v.Find("a")->Find("b")->Find("c")->AsInt64() == 3);
  CHECK(v.ValueAt(2).is_bool());
  CHECK(!v.Find("nope"));
  CHECK(Serialize(v) == R"({"z":[1,"two",null,true,{"x":[]}],"a":{"b":{"c":3}},"m":false})");
}

TEST_CASE("accessors of the wrong kind give empty values", "[json]") {
  const JsonValue v = Parse(R"({"s": "text", "n": 1.5, "a": [1]})");
  const JsonValue s = *v.Find("s");
  CHECK(s.AsInt64() == std::nullopt);
  CHECK(s.AsDouble() == 0.0);
  CHECK(!s.AsBool());
  CHECK(s.size() == 0);
  CHECK(s[0].is_null());
  CHECK(!s.Find("x"));
  CHECK(v.Find("n")->AsString().empty());
  CHECK(v.Find("n")->AsInt64() == std::nullopt);
  CHECK((*v.Find("a"))[1].is_null());  // out of range
  CHECK(v.KeyAt(3).empty());
  CHECK(v.ValueAt(3).is_null());
  CHECK(v.Find("a")->KeyAt(0).empty());
  const JsonValue null;
  CHECK(null.is_null());
  CHECK(null.size() == 0);
  CHECK(null.AsString().empty());
  CHECK(std::string(JsonValue::KindName(Kind::kObject)) == "object");
}

TEST_CASE("values keep the document alive", "[json]") {
  JsonValue child;
  {
    const JsonValue root = Parse(R"({"a": ["xyz", {"k": "v"}]})");
    child = *root.Find("a");
  }
  CHECK(child[0].AsString() == "xyz");
  CHECK(child[1].KeyAt(0) == "k");
}

TEST_CASE("string escapes and UTF-8", "[json]") {
  CHECK(Parse(R"("\"\\\/\b\f\n\r\t")").AsString() == "\"\\/\b\f\n\r\t");
  CHECK(Parse(R"("\u0041\u00e9\u00E9\u20AC")").AsString() == "A\xC3\xA9\xC3\xA9\xE2\x82\xAC");
  // Surrogate pairs: U+1F600 and the last code point, U+10FFFF.
  CHECK(Parse(R"("\uD83D\uDE00")").AsString() == "\xF0\x9F\x98\x80");
  CHECK(Parse(R"("\udbff\udfff")").AsString() == "\xF4\x8F\xBF\xBF");
  CHECK(Parse(R"("a\u0000b")").AsString() == std::string_view("a\0b", 3));
  // Raw UTF-8 passes through unchanged, also in keys.
  const JsonValue v = Parse("{\"\xE2\x96\x81the\": \"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"}");
  CHECK(v.KeyAt(0) == "\xE2\x96\x81the");
  CHECK(v.ValueAt(0).AsString() == "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  CHECK(Parse(R"("tail\\")").AsString() == "tail\\");
}

TEST_CASE("numbers", "[json]") {
  CHECK(Parse("0").AsInt64() == 0);
  const JsonValue minus_zero = Parse("-0");
  CHECK(minus_zero.IsIntegerLiteral());
  CHECK(minus_zero.AsInt64() == 0);
  CHECK(std::signbit(minus_zero.AsDouble()));
  CHECK(!std::signbit(Parse("0").AsDouble()));
  CHECK(Parse("-17").AsInt64() == -17);
  CHECK(Parse("9223372036854775807").AsInt64() == INT64_MAX);
  CHECK(Parse("-9223372036854775808").AsInt64() == INT64_MIN);
  // 2^53 + 1: exact as an integer, rounded as a double.
  CHECK(Parse("9007199254740993").AsInt64() == 9007199254740993);
  CHECK(Parse("9007199254740993").AsDouble() == 9007199254740992.0);
  for (const char* big :
       {"9223372036854775808", "-9223372036854775809", "123456789012345678901234567890"}) {
    const JsonValue v = Parse(big);
    CHECK(v.IsIntegerLiteral());
    CHECK(v.AsInt64() == std::nullopt);
    CHECK(v.AsDouble() == std::strtod(big, nullptr));
  }
  CHECK(Parse("9223372036854775808").AsDouble() == 9223372036854775808.0);
  CHECK(Parse("1.5").AsDouble() == 1.5);
  CHECK(Parse("0.1").AsDouble() == 0.1);
  CHECK(Parse("-2.25e-3").AsDouble() == -2.25e-3);
  CHECK(Parse("1E2").AsDouble() == 100.0);
  CHECK(Parse("1e+2").AsDouble() == 100.0);
  CHECK(Parse("1.7976931348623157e308").AsDouble() == 1.7976931348623157e308);
  CHECK(Parse("1e-400").AsDouble() == 0.0);  // underflow rounds to zero
  for (const char* not_integer : {"1e3", "2.0", "-0.0", "1E0"}) {
    CHECK(!Parse(not_integer).IsIntegerLiteral());
    CHECK(Parse(not_integer).AsInt64() == std::nullopt);
  }
  CHECK(Parse("[1,-2,3.5]")[2].AsDouble() == 3.5);
}

TEST_CASE("values written back: integers as written, also past int64", "[json]") {
  const auto back = [](const std::string& text) {
    std::string out;
    AppendJsonValue(out, Parse(text));
    return out;
  };
  // Two ids past int64 were both written as the double 1.8446744073709552e+19.
  CHECK(back("18446744073709551615") == "18446744073709551615");
  CHECK(back("18446744073709551616") == "18446744073709551616");
  CHECK(back("-9223372036854775809") == "-9223372036854775809");
  CHECK(back("123456789012345678901234567890") == "123456789012345678901234567890");
  CHECK(back("9223372036854775807") == "9223372036854775807");
  CHECK(back("-0") == "-0");
  CHECK(back("0") == "0");
  CHECK(back("1.50") == "1.5");
  CHECK(back("-0.0") == "-0");
  CHECK(back("1e3") == "1000");
  // Other numbers in the fewest digits that read back as the same double (17 gave 0.1 back as
  // 0.10000000000000001, and 1e-7 as 9.9999999999999995e-08).
  CHECK(back("0.1") == "0.1");
  CHECK(back("1e-7") == "1e-07");
  CHECK(back("-2.5e300") == "-2.5e+300");
  CHECK(back("0.30000000000000004") == "0.30000000000000004");  // 0.1 + 0.2: needs 17
  CHECK(back("0.3333333333333333") == "0.3333333333333333");    // 16
  for (const char* text : {"0.1", "3.141592653589793", "2.2250738585072014e-308", "5e-324",
                           "1.7976931348623157e308", "123456.789"}) {
    INFO(text);
    CHECK(std::strtod(back(text).c_str(), nullptr) == std::strtod(text, nullptr));
  }
  CHECK(back(R"({"id":[18446744073709551616,-0,"x"]})") ==
        R"({"id":[18446744073709551616,-0,"x"]})");
  // The value past int64 is still its double, exactly as strtod reads it.
  const JsonValue big = Parse("18446744073709551617");
  CHECK(big.AsDouble() == std::strtod("18446744073709551617", nullptr));
  CHECK(big.AsNumber().literal == "18446744073709551617");
  CHECK(Parse("12").AsNumber().literal.empty());
}

TEST_CASE("whitespace", "[json]") {
  const JsonValue v = Parse(" \t\r\n{ \"a\" :\n[ 1 ,\t2\r] , \"b\"\n:\"c\" }\n\t ");
  CHECK(Serialize(v) == R"({"a":[1,2],"b":"c"})");
  CHECK(Parse("\n7\n").AsInt64() == 7);
}

TEST_CASE("errors name the byte offset, line and column", "[json]") {
  // The exact text of one message.
  Result<JsonValue> r = ParseJson("{\n  \"a\": x\n}");
  REQUIRE(!r.ok());
  CHECK(r.status().message() ==
        "JSON: at byte offset 9 (line 2, column 8): expected a value, found 'x'");

  // Empty and truncated texts fail at their end.
  CHECK_THAT(ParseError("", 0), Catch::Contains("expected a value, found the end of the text"));
  ParseError("  \n ", 4);
  CHECK_THAT(ParseError("[1,2", 4), Catch::Contains("expected ',' or ']'"));
  ParseError("{\"a\":1", 6);
  ParseError("{\"a\"", 4);
  ParseError("{\"a\":", 5);
  CHECK_THAT(ParseError("\"abc", 4), Catch::Contains("close the string opened at byte offset 0"));
  ParseError("tru", 3);
  ParseError("[nul", 4);
  ParseError("\"\\u12", 5);
  ParseError("\"\\", 2);
  ParseError("\"\\uD83D\\uDE", 11);

  // Trailing garbage.
  CHECK_THAT(ParseError("[1] x", 4), Catch::Contains("expected the end of the text"));
  ParseError("[1]]", 3);
  ParseError("1 2", 2);
  ParseError("{}{}", 2);
}

TEST_CASE("string errors", "[json]") {
  CHECK_THAT(ParseError(R"("a\qb")", 2), Catch::Contains("invalid escape"));
  ParseError(R"("\x41")", 1);
  ParseError(R"("\U0041")", 1);
  CHECK_THAT(ParseError(R"("a\u12G4")", 6), Catch::Contains("hex digits"));
  CHECK_THAT(ParseError(R"("\uD800")", 1), Catch::Contains("lone high surrogate"));
  ParseError(R"("\uD800\u0041")", 1);
  ParseError(R"("\uD800x")", 1);
  ParseError(R"("\uD800\n")", 1);
  CHECK_THAT(ParseError(R"("\uDC00")", 1), Catch::Contains("lone low surrogate"));
  ParseError(R"("\uDE00\uD83D")", 1);
  CHECK_THAT(ParseError("\"a\nb\"", 2), Catch::Contains("control character 0x0A"));
  ParseError("\"a\tb\"", 2);
  ParseError(std::string_view("\"a\0b\"", 5), 2);
  ParseError("\"\x1F\"", 1);
  // Invalid UTF-8 inside a string: the offending sequence's first byte.
  CHECK_THAT(ParseError("\"ab\xFF\"", 3), Catch::Contains("invalid UTF-8"));
  ParseError("\"\xC0\xAF\"", 1);          // overlong '/'
  ParseError("\"x\xED\xA0\x80\"", 2);     // an encoded surrogate
  ParseError("\"\xF4\x90\x80\x80\"", 1);  // above U+10FFFF
  ParseError("\"\xE2\x82\"", 1);          // cut short by the quote
  ParseError("\"\x80\"", 1);              // a lone continuation byte
  ParseError("{\"k\xC3\": 1}", 3);        // in a key
  // Outside strings any non-ASCII byte is unexpected (no byte order mark either).
  ParseError("\xFF", 0);
  ParseError("\xEF\xBB\xBF{}", 0);
  ParseError("[1,\xC3\xA9]", 3);
}

TEST_CASE("number, literal and structure errors", "[json]") {
  CHECK_THAT(ParseError("01", 0), Catch::Contains("leading zeros"));
  ParseError("-012", 1);
  CHECK_THAT(ParseError("-", 1), Catch::Contains("expected a digit after '-'"));
  ParseError("-a", 1);
  ParseError("1.", 2);
  ParseError("1.e5", 2);
  ParseError("1e", 2);
  ParseError("1e+", 3);
  ParseError(".5", 0);
  ParseError("+1", 0);
  ParseError("0x10", 1);
  ParseError("NaN", 0);
  ParseError("-Infinity", 1);
  CHECK_THAT(ParseError("[1e400]", 1), Catch::Contains("out of the range of a double"));
  ParseError("-1e400", 0);
  ParseError("trux", 0);
  ParseError("nulL", 0);
  ParseError("True", 0);
  CHECK_THAT(ParseError("{1:2}", 1), Catch::Contains("expected a string key"));
  ParseError("{'a':1}", 1);
  CHECK_THAT(ParseError("{\"a\" 1}", 5), Catch::Contains("expected ':'"));
  ParseError("{\"a\":1,}", 7);
  CHECK_THAT(ParseError("{\"a\":1 \"b\":2}", 7), Catch::Contains("expected ',' or '}'"));
  ParseError("[1,]", 3);
  ParseError("[1 2]", 3);
  ParseError("[,1]", 1);
  ParseError("[}", 1);
  ParseError("{]", 1);
}

TEST_CASE("duplicate keys are refused", "[json]") {
  CHECK_THAT(ParseError(R"({"a":1,"b":2,"a":3})", 13),
             Catch::Contains("duplicate object key \"a\" (first at byte offset 1)"));
  ParseError(R"({"x":{"a":1,"a":1}})", 12);
  // The same key in different objects is fine.
  CHECK(Parse(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})").size() == 2);
  // Large objects take the hashed path.
  std::string big = "{";
  for (int i = 0; i < 5000; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  const size_t offset = big.size();
  const std::string unique = big.substr(0, big.size() - 1) + "}";
  const JsonValue v = Parse(unique);
  CHECK(v.size() == 5000);
  CHECK(v.Find("k4999")->AsInt64() == 4999);
  big += "\"k1234\":0}";
  CHECK_THAT(ParseError(big, offset), Catch::Contains("\"k1234\""));
}

TEST_CASE("nesting is limited to kJsonMaxDepth", "[json]") {
  const std::string ok = std::string(kJsonMaxDepth, '[') + std::string(kJsonMaxDepth, ']');
  CHECK(Parse(ok).is_array());
  const std::string deep =
      std::string(kJsonMaxDepth + 1, '[') + std::string(kJsonMaxDepth + 1, ']');
  CHECK_THAT(ParseError(deep, kJsonMaxDepth), Catch::Contains("more than 512 nested"));
  std::string objects;
  for (int i = 0; i < kJsonMaxDepth; ++i) objects += "{\"a\":";
  CHECK(Parse(objects + "1" + std::string(kJsonMaxDepth, '}')).is_object());
  ParseError(objects + "[]", objects.size());
  // Far deeper hostile input fails the same way instead of overflowing the stack.
  ParseError(std::string(1000000, '['), kJsonMaxDepth);
}

const char* const kDocuments[] = {
    R"({"version": "1.0", "added_tokens": [{"id": 0, "content": "<pad>", "special": true},
        {"id": 1, "content": "\u00e9\uD83D\uDE00\n", "special": false}],
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]],
        "byte_fallback": true, "dropout": null, "n": [-0, 1.5e-3, 12345678901234567890]}})",
    "[1, [2, [3, [4, {\"k\": [\"\\\"\", \"\\\\\", \"\\u0041\"]}]]], true, false, null]",
    "{\"\xE2\x96\x81the\": 5, \"caf\xC3\xA9\": [\"\xF0\x9F\x98\x80\", 0.25, -7]}",
};

TEST_CASE("every truncation fails at the cut", "[json]") {
  for (const char* doc : kDocuments) {
    const std::string text = doc;
    Parse(text);
    for (size_t n = 0; n < text.size(); ++n) {
      const std::string_view cut(text.data(), n);
      Result<JsonValue> r = ParseJson(cut);
      INFO("cut at " << n << ": " << std::string(cut));
      REQUIRE(!r.ok());
      const long offset = ErrorPosition(r.status().message()).offset;
      // Cut inside a multi-byte character, the error names that character's first byte.
      const bool inside_char = (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80;
      if (inside_char) {
        CHECK(offset < static_cast<long>(n));
      } else {
        CHECK(offset == static_cast<long>(n));
      }
    }
  }
}

// One random edit: replace, insert, delete, duplicate or truncate.
void Mutate(std::string& s, std::mt19937& rng) {
  static constexpr char kInteresting[] = "{}[]\":,\\u0123456789-+.eEtfn \n\xC3\xA9\xED\xF0\x80";
  auto pick = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  const size_t at = pick(s.size() + 1);
  const char byte = rng() % 4 == 0 ? static_cast<char>(rng() & 0xFF)
                                   : kInteresting[pick(sizeof(kInteresting) - 1)];
  switch (rng() % 5) {
    case 0:
      if (at < s.size()) s[at] = byte;
      break;
    case 1:
      s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), byte);
      break;
    case 2:
      s.erase(at, pick(8) + 1);
      break;
    case 3:
      s.insert(at, s.substr(at, pick(40) + 1));
      break;
    case 4:
      s.resize(at);
      break;
  }
}

TEST_CASE("mutated documents never crash", "[json]") {
  std::mt19937 rng(20240611);
  int parsed = 0;
  for (int iteration = 0; iteration < 4000; ++iteration) {
    std::string text = kDocuments[iteration % 3];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) Mutate(text, rng);
    Result<JsonValue> r = ParseJson(text);
    INFO("iteration " << iteration << ": " << text);
    if (r.ok()) {
      // What parses writes back to JSON that parses to the same thing.
      ++parsed;
      const std::string once = Serialize(*r);
      Result<JsonValue> again = ParseJson(once);
      REQUIRE(again.ok());
      CHECK(Serialize(*again) == once);
    } else {
      CHECK(r.status().code() == StatusCode::kInvalidArgument);
      const Position got = ErrorPosition(r.status().message());
      REQUIRE(got.offset >= 0);
      REQUIRE(got.offset <= static_cast<long>(text.size()));
      const Position want = PositionOf(text, static_cast<size_t>(got.offset));
      CHECK(got.line == want.line);
      CHECK(got.column == want.column);
    }
  }
  // The loop exercises both outcomes.
  CHECK(parsed > 50);
  CHECK(parsed < 3950);
}

}  // namespace
}  // namespace ggufembed
