// JSON: output helpers (escaped strings, round-trippable numbers) and an RFC 8259 parser to a DOM.
#ifndef GGUFEMBED_UTIL_JSON_H_
#define GGUFEMBED_UTIL_JSON_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ggufembed/status.h"

namespace ggufembed {

// Appends `s` as a JSON string literal. Bytes that are not valid UTF-8 become U+FFFD.
void AppendJsonString(std::string& out, std::string_view s);

// `s` for a message or a listing: as it is, or as a JSON string literal when printing it raw would
// hide or garble something — empty, a control character (a NUL cuts it short, a newline breaks a
// line), a double quote, or bytes that are not UTF-8.
std::string PrintableText(std::string_view s);

// Appends a float with 9 significant digits (enough to round-trip an f32); NaN and ±inf, which
// JSON cannot express, become null.
void AppendJsonFloat(std::string& out, float v);
// The same for doubles, with the fewest significant digits (15 to 17) that read back as `v`.
void AppendJsonDouble(std::string& out, double v);
// A value that says what it is, for output read back as data (`info --json`, `tensor`): finite
// ones as AppendJsonFloat (`digits` 9, an f32) or AppendJsonDouble (17, an f64), NaN and ±inf as the
// strings "NaN", "Infinity" and "-Infinity" (null would not say which).
void AppendJsonNamedNumber(std::string& out, double v, int digits);

// ------------------------------------------------------------------------------------ parsing

// Deeper nesting of arrays and objects is refused: the parser recurses once per level, and a
// hostile document must not be able to exhaust the stack (also the wasm one).
constexpr int kJsonMaxDepth = 512;

namespace json_internal {
struct Document;
struct Node;
class Parser;
}  // namespace json_internal

// A value of a parsed JSON document. The document is stored compactly (16 bytes a value, all
// strings in one buffer) because a 33 MB tokenizer.json holds two million values, and a tree of
// individually allocated nodes took over a second to build. A JsonValue is a handle: copies are
// cheap and share the document, which lives while any of its values (or views from AsString and
// KeyAt) is in use. Accessors never throw or abort: asked for the wrong kind or a missing index,
// they return an empty value (false, 0, "", null, size 0), so check the kind where it matters.
class JsonValue {
 public:
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  // A number as written: its double value (correctly rounded) and, for literals without a
  // fraction or exponent, whether it was one and its exact value when it fits in int64.
  struct Number {
    double value = 0.0;
    int64_t integer = 0;
    bool is_integer = false;  // written without '.', 'e' or 'E'
    bool fits_int64 = false;  // is_integer and -2^63 <= value < 2^63: `integer` is exact
    // An integer literal past int64, as written (a view into the document, like AsString's).
    std::string_view literal;
  };

  JsonValue() = default;  // null

  Kind kind() const;
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_number() const { return kind() == Kind::kNumber; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_object() const { return kind() == Kind::kObject; }

  bool AsBool() const;
  Number AsNumber() const;
  double AsDouble() const { return AsNumber().value; }
  // True for a number literal without fraction or exponent ("-0" is one, "1e3" and "2.0" not).
  bool IsIntegerLiteral() const { return AsNumber().is_integer; }
  // The exact value of an integer literal that fits in int64, else nullopt (also for 1e3, 2.0
  // and 9223372036854775808).
  std::optional<int64_t> AsInt64() const;
  // The decoded UTF-8 bytes of a string (may hold NUL from \u0000).
  std::string_view AsString() const;

  // The number of elements of an array or members of an object; 0 for other kinds.
  size_t size() const;
  // Element `i` of an array.
  JsonValue operator[](size_t i) const;
  // Key and value of member `i` of an object, in document order.
  std::string_view KeyAt(size_t i) const;
  JsonValue ValueAt(size_t i) const;
  // The value of member `key` of an object (a linear search); nullopt when absent or when this
  // is not an object.
  std::optional<JsonValue> Find(std::string_view key) const;

  // "null", "boolean", "number", "string", "array", "object" (for error messages).
  static const char* KindName(Kind kind);

 private:
  friend class json_internal::Parser;
  JsonValue(std::shared_ptr<const json_internal::Document> doc, uint32_t node)
      : doc_(std::move(doc)), node_(node) {}
  const json_internal::Node& node() const;

  std::shared_ptr<const json_internal::Document> doc_;  // null for a default-constructed value
  uint32_t node_ = 0;
};

// Appends `v` as compact JSON: strings as AppendJsonString writes them, integer literals exactly
// (those past int64 digit for digit, -0 as -0), other numbers as AppendJsonDouble does (so 1.50
// comes back as 1.5).
void AppendJsonValue(std::string& out, const JsonValue& v);

// Parses one whole JSON text (RFC 8259): a value with optional whitespace around it, in UTF-8
// without a byte order mark, shorter than 4 GiB. Strings are decoded to UTF-8 (\uXXXX escapes
// included; surrogate pairs combine, a lone surrogate is an error) and the input must be valid
// UTF-8. An object with the same key twice is refused (RFC 8259 leaves its meaning open, and a
// silent "last one wins" would hide broken files). Numbers that overflow a double (1e400) are
// refused. Errors are kInvalidArgument and read "JSON: at byte offset N (line L, column C):
// <what was expected>", line and column counted from 1, the column in bytes. Suits JSONL too:
// call it on each line.
Result<JsonValue> ParseJson(std::string_view text);

}  // namespace ggufembed

#endif  // GGUFEMBED_UTIL_JSON_H_
