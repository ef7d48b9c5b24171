// JSON output (string escaping, number formatting) and the RFC 8259 parser behind ParseJson.
#include "util/json.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <utility>
#include <vector>

#include "util/error.h"
#include "util/text_index.h"
#include "util/utf8.h"

namespace ggufembed {

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    const size_t bad = FindInvalidUtf8(s.substr(i));
    const std::string_view valid = s.substr(i, bad == std::string_view::npos ? s.size() - i : bad);
    for (char ch : valid) {
      const unsigned char c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out += ch;
          }
      }
    }
    i += valid.size();
    if (i < s.size()) {  // one invalid byte
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out += '"';
}

std::string PrintableText(std::string_view s) {
  bool plain = !s.empty() && FindInvalidUtf8(s) == std::string_view::npos;
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    plain = plain && c >= 0x20 && c != 0x7F && c != '"';
  }
  if (plain) return std::string(s);
  std::string quoted;
  AppendJsonString(quoted, s);
  return quoted;
}

void AppendJsonFloat(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  out += buf;
}

void AppendJsonNamedNumber(std::string& out, double v, int digits) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
  } else if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else if (digits <= 9) {
    AppendJsonFloat(out, static_cast<float>(v));
  } else {
    AppendJsonDouble(out, v);
  }
}

void AppendJsonDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  // The fewest significant digits that read back as `v` (0.1, not 0.10000000000000001): 17
  // always do.
  char buf[32];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  out += buf;
}

// ------------------------------------------------------------------------------------ document

namespace json_internal {

// One value in 16 bytes. Containers list their children in Document::children: an array its
// element nodes, an object a key node (a string) and a value node per member.
struct Node {
  JsonValue::Kind kind;
  uint8_t flags;     // kTrue for booleans; kInteger, kFitsInt64, kNegativeZero for numbers
  uint32_t size;     // bytes of a string; elements or members of a container
  uint64_t payload;  // offset in `chars` (string, kLiteral number) or `children` (container);
                     // the int64 value (kFitsInt64) or the bits of the double (other numbers)
};
// kLiteral: an integer literal past int64, kept as written in `chars` (`size` bytes).
enum NodeFlags : uint8_t {
  kTrue = 1,
  kInteger = 1,
  kFitsInt64 = 2,
  kNegativeZero = 4,
  kLiteral = 8
};

struct Document {
  std::vector<Node> nodes;  // node 0 is the root; a container before its children
  std::vector<uint32_t> children;
  std::string chars;  // every decoded string, back to back
};

}  // namespace json_internal

using json_internal::Node;
constexpr Node kNullNode = {JsonValue::Kind::kNull, 0, 0, 0};  // what a default JsonValue reads

const Node& JsonValue::node() const { return doc_ ? doc_->nodes[node_] : kNullNode; }

JsonValue::Kind JsonValue::kind() const { return node().kind; }

bool JsonValue::AsBool() const {
  const Node& n = node();
  return n.kind == Kind::kBool && (n.flags & json_internal::kTrue) != 0;
}

JsonValue::Number JsonValue::AsNumber() const {
  const Node& n = node();
  Number number;
  if (n.kind != Kind::kNumber) return number;
  number.is_integer = (n.flags & json_internal::kInteger) != 0;
  if ((n.flags & json_internal::kFitsInt64) != 0) {
    number.fits_int64 = true;
    std::memcpy(&number.integer, &n.payload, sizeof(number.integer));
    // int64 -> double rounds to nearest, as strtod would; "-0" keeps its sign.
    number.value =
        (n.flags & json_internal::kNegativeZero) != 0 ? -0.0 : static_cast<double>(number.integer);
  } else if ((n.flags & json_internal::kLiteral) != 0) {
    number.literal = std::string_view(doc_->chars).substr(n.payload, n.size);
    number.value = std::strtod(std::string(number.literal).c_str(), nullptr);
  } else {
    std::memcpy(&number.value, &n.payload, sizeof(number.value));
  }
  return number;
}

std::optional<int64_t> JsonValue::AsInt64() const {
  const Number n = AsNumber();
  return n.fits_int64 ? std::optional<int64_t>(n.integer) : std::nullopt;
}

std::string_view JsonValue::AsString() const {
  const Node& n = node();
  if (n.kind != Kind::kString) return {};
  return std::string_view(doc_->chars.data() + n.payload, n.size);
}

size_t JsonValue::size() const {
  const Node& n = node();
  return n.kind == Kind::kArray || n.kind == Kind::kObject ? n.size : 0;
}

JsonValue JsonValue::operator[](size_t i) const {
  const Node& n = node();
  if (n.kind != Kind::kArray || i >= n.size) return JsonValue();
  return JsonValue(doc_, doc_->children[n.payload + i]);
}

std::string_view JsonValue::KeyAt(size_t i) const {
  const Node& n = node();
  if (n.kind != Kind::kObject || i >= n.size) return {};
  const Node& key = doc_->nodes[doc_->children[n.payload + 2 * i]];
  return std::string_view(doc_->chars.data() + key.payload, key.size);
}

JsonValue JsonValue::ValueAt(size_t i) const {
  const Node& n = node();
  if (n.kind != Kind::kObject || i >= n.size) return JsonValue();
  return JsonValue(doc_, doc_->children[n.payload + 2 * i + 1]);
}

std::optional<JsonValue> JsonValue::Find(std::string_view key) const {
  const size_t n = node().kind == Kind::kObject ? size() : 0;
  for (size_t i = 0; i < n; ++i) {
    if (KeyAt(i) == key) return ValueAt(i);
  }
  return std::nullopt;
}

const char* JsonValue::KindName(Kind kind) {
  static constexpr const char* kNames[] = {"null",   "boolean", "number",
                                           "string", "array",   "object"};
  const size_t i = static_cast<size_t>(kind);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

// ------------------------------------------------------------------------------------ parser

namespace {

// String bytes copied as they are: everything but '"', '\\' and the control characters, which
// must be escaped. Non-ASCII bytes are copied too but validated as UTF-8 run by run.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 256; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when `s` could be the start of a \uXXXX escape cut off by the end of the text.
bool IsEscapePrefix(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const bool ok = i == 0 ? s[i] == '\\' : i == 1 ? s[i] == 'u' : HexValue(s[i]) >= 0;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

namespace json_internal {

// A recursive-descent parser writing the nodes of one text in document order. The children of
// open containers wait on `pending_` and move into `children` when their container closes, so
// that each container's children are contiguous there.
class Parser {
 public:
  explicit Parser(std::string_view text)
      : begin_(text.data()), end_(text.data() + text.size()), p_(begin_) {}

  Result<JsonValue> ParseDocument() {
    // Offsets, lengths and node ids are 32-bit (each value takes at least one byte).
    if (static_cast<uint64_t>(end_ - begin_) > UINT32_MAX) {
      return Fail(begin_, "the text is larger than 4 GiB - 1 bytes");
    }
    auto doc = std::make_shared<Document>();
    doc_ = doc.get();
    // Every value but the root follows a '[', ',' or ':' and every key a '{' or ',', so these
    // bytes bound the nodes and children: reserving them once avoids copying a growing 30 MB
    // vector (a fast pass; the bytes inside strings only loosen the bound). A value and its
    // separator take two bytes, so a document that parses has at most size / 2 + 1 nodes.
    const size_t size = static_cast<size_t>(end_ - begin_);
    size_t bound = 1;
    for (const char* q = begin_; q < end_; ++q) {
      bound += *q == ',' || *q == ':' || *q == '[' || *q == '{';
    }
    bound = std::min(bound, size / 2 + 1);
    doc_->nodes.reserve(bound);
    doc_->children.reserve(bound);
    doc_->chars.reserve(size / 4);
    GGUFEMBED_RETURN_IF_ERROR(ParseValue(0));
    SkipWhitespace();
    if (p_ != end_) {
      return Fail(p_, "expected the end of the text after the JSON value, found " + Found(p_));
    }
    return JsonValue(std::move(doc), 0);
  }

 private:
  Status Fail(const char* at, const std::string& what) const {
    const size_t offset = static_cast<size_t>(at - begin_);
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; ++i) {
      if (begin_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return Error(StatusCode::kInvalidArgument,
                 "JSON: at byte offset %zu (line %zu, column %zu): %s", offset, line,
                 offset - line_start + 1, what.c_str());
  }

  // What the parser found at `at`, for messages.
  std::string Found(const char* at) const {
    if (at == end_) return "the end of the text";
    const unsigned char c = static_cast<unsigned char>(*at);
    if (c > 0x20 && c < 0x7F) return StrFormat("'%c'", c);
    return StrFormat("byte 0x%02X", c);
  }

  void SkipWhitespace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  uint32_t NextNode() const { return static_cast<uint32_t>(doc_->nodes.size()); }

  void AddNode(JsonValue::Kind kind, uint8_t flags, uint32_t size, uint64_t payload) {
    doc_->nodes.push_back(Node{kind, flags, size, payload});
  }

  // Appends the value at p_ (after whitespace) and its descendants.
  Status ParseValue(int depth) {
    SkipWhitespace();
    if (p_ == end_) return Fail(p_, "expected a value, found the end of the text");
    switch (*p_) {
      case '{':
        return ParseObject(depth);
      case '[':
        return ParseArray(depth);
      case '"':
        return ParseString();
      case 't':
        return ParseLiteral("true", JsonValue::Kind::kBool, kTrue);
      case 'f':
        return ParseLiteral("false", JsonValue::Kind::kBool, 0);
      case 'n':
        return ParseLiteral("null", JsonValue::Kind::kNull, 0);
      default:
        if (*p_ == '-' || IsDigit(*p_)) return ParseNumber();
        return Fail(p_, "expected a value, found " + Found(p_));
    }
  }

  Status ParseLiteral(std::string_view word, JsonValue::Kind kind, uint8_t flags) {
    const size_t left = static_cast<size_t>(end_ - p_);
    if (left < word.size() && word.substr(0, left) == std::string_view(p_, left)) {
      return Fail(end_, StrFormat("expected '%s', found the end of the text", word.data()));
    }
    if (left < word.size() || std::string_view(p_, word.size()) != word) {
      return Fail(p_, StrFormat("expected a value ('%s'?)", word.data()));
    }
    p_ += word.size();
    AddNode(kind, flags, 0, 0);
    return OkStatus();
  }

  Status CheckDepth(int depth) const {
    if (depth < kJsonMaxDepth) return OkStatus();
    return Fail(p_, StrFormat("more than %d nested arrays and objects", kJsonMaxDepth));
  }

  // Moves the children pending since `base` to `children` and completes container `id`.
  void CloseContainer(uint32_t id, size_t base, size_t per_item) {
    Node& n = doc_->nodes[id];
    n.size = static_cast<uint32_t>((pending_.size() - base) / per_item);
    n.payload = doc_->children.size();
    doc_->children.insert(doc_->children.end(), pending_.begin() + base, pending_.end());
    pending_.resize(base);
  }

  Status ParseArray(int depth) {
    GGUFEMBED_RETURN_IF_ERROR(CheckDepth(depth));
    ++p_;  // '['
    const uint32_t id = NextNode();
    AddNode(JsonValue::Kind::kArray, 0, 0, 0);
    const size_t base = pending_.size();
    SkipWhitespace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      CloseContainer(id, base, 1);
      return OkStatus();
    }
    for (;;) {
      pending_.push_back(NextNode());
      GGUFEMBED_RETURN_IF_ERROR(ParseValue(depth + 1));
      SkipWhitespace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
      } else if (p_ < end_ && *p_ == ']') {
        ++p_;
        break;
      } else {
        return Fail(p_, "expected ',' or ']' after an array element, found " + Found(p_));
      }
    }
    CloseContainer(id, base, 1);
    return OkStatus();
  }

  Status ParseObject(int depth) {
    GGUFEMBED_RETURN_IF_ERROR(CheckDepth(depth));
    ++p_;  // '{'
    const uint32_t id = NextNode();
    AddNode(JsonValue::Kind::kObject, 0, 0, 0);
    const size_t base = pending_.size();
    SkipWhitespace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      CloseContainer(id, base, 2);
      return OkStatus();
    }
    for (;;) {
      SkipWhitespace();
      if (p_ == end_ || *p_ != '"') return Fail(p_, "expected a string key, found " + Found(p_));
      key_offsets_.push_back(static_cast<uint32_t>(p_ - begin_));
      pending_.push_back(NextNode());
      GGUFEMBED_RETURN_IF_ERROR(ParseString());
      SkipWhitespace();
      if (p_ == end_ || *p_ != ':') {
        return Fail(p_, "expected ':' after an object key, found " + Found(p_));
      }
      ++p_;
      pending_.push_back(NextNode());
      GGUFEMBED_RETURN_IF_ERROR(ParseValue(depth + 1));
      SkipWhitespace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
      } else if (p_ < end_ && *p_ == '}') {
        ++p_;
        break;
      } else {
        return Fail(p_, "expected ',' or '}' after an object member, found " + Found(p_));
      }
    }
    GGUFEMBED_RETURN_IF_ERROR(CheckDuplicateKeys(base));
    key_offsets_.resize(key_offsets_.size() - (pending_.size() - base) / 2);
    CloseContainer(id, base, 2);
    return OkStatus();
  }

  // The key of pending member `i` of the object whose members start at pending_[base].
  std::string_view PendingKey(size_t base, size_t i) const {
    const Node& key = doc_->nodes[pending_[base + 2 * i]];
    return std::string_view(doc_->chars.data() + key.payload, key.size);
  }

  // Refuses the first key (in document order) that repeats an earlier key of the same object.
  Status CheckDuplicateKeys(size_t base) {
    const size_t n = (pending_.size() - base) / 2;
    const auto twice = keys_.Build(
        n, [&](size_t i) { return HashText(PendingKey(base, i)); },
        [&](int32_t a, int32_t b) { return PendingKey(base, a) == PendingKey(base, b); });
    if (!twice) return OkStatus();
    const size_t first = twice->first, duplicate = twice->second;
    const size_t key_base = key_offsets_.size() - n;
    std::string key;
    AppendJsonString(key, PendingKey(base, duplicate));
    return Fail(begin_ + key_offsets_[key_base + duplicate],
                StrFormat("duplicate object key %s (first at byte offset %u)", key.c_str(),
                          key_offsets_[key_base + first]));
  }

  // Decodes the string at p_ into `chars` and appends its node.
  Status ParseString() {
    const char* open = p_;
    ++p_;  // '"'
    std::string& out = doc_->chars;
    const size_t start = out.size();
    for (;;) {
      const char* run = p_;
      unsigned char high = 0;
      while (p_ < end_ && kPlain[static_cast<unsigned char>(*p_)]) {
        high |= static_cast<unsigned char>(*p_);
        ++p_;
      }
      if (p_ != run) {
        const std::string_view bytes(run, static_cast<size_t>(p_ - run));
        // A multi-byte UTF-8 sequence holds no ASCII byte, so a run never splits a valid one.
        const size_t bad = (high & 0x80) != 0 ? FindInvalidUtf8(bytes) : std::string_view::npos;
        if (bad != std::string_view::npos) {
          return Fail(run + bad, StrFormat("invalid UTF-8 (byte 0x%02X) in a string",
                                           static_cast<unsigned char>(run[bad])));
        }
        out.append(bytes);
      }
      if (p_ == end_) {
        return Fail(p_, StrFormat("expected '\"' to close the string opened at byte offset %zu, "
                                  "found the end of the text",
                                  static_cast<size_t>(open - begin_)));
      }
      if (*p_ == '"') break;
      if (*p_ != '\\') {
        return Fail(p_, StrFormat("control character 0x%02X in a string (it must be escaped)",
                                  static_cast<unsigned char>(*p_)));
      }
      GGUFEMBED_RETURN_IF_ERROR(ParseEscape(out));
    }
    ++p_;  // '"'
    AddNode(JsonValue::Kind::kString, 0, static_cast<uint32_t>(out.size() - start), start);
    return OkStatus();
  }

  // Reads the 4 hex digits of a \u escape at p_ into `unit`.
  Status ParseHex4(uint32_t& unit) {
    if (end_ - p_ < 4) {
      return Fail(end_, "expected 4 hex digits after \\u, found the end of the text");
    }
    unit = 0;
    for (int i = 0; i < 4; ++i) {
      const int v = HexValue(p_[i]);
      if (v < 0) return Fail(p_ + i, "expected 4 hex digits after \\u, found " + Found(p_ + i));
      unit = unit << 4 | static_cast<uint32_t>(v);
    }
    p_ += 4;
    return OkStatus();
  }

  // Decodes the escape at p_ (a backslash) into `out`.
  Status ParseEscape(std::string& out) {
    const char* escape = p_;
    if (end_ - p_ < 2) {
      return Fail(end_, "expected an escape after '\\', found the end of the text");
    }
    static constexpr std::string_view kEscapes = "\"\\/bfnrt";  // and what they stand for:
    static constexpr std::string_view kDecoded = "\"\\/\b\f\n\r\t";
    const size_t simple = kEscapes.find(p_[1]);
    if (simple != std::string_view::npos) {
      out += kDecoded[simple];
      p_ += 2;
      return OkStatus();
    }
    if (p_[1] != 'u') return Fail(escape, "invalid escape: '\\' followed by " + Found(p_ + 1));
    p_ += 2;
    uint32_t unit;
    GGUFEMBED_RETURN_IF_ERROR(ParseHex4(unit));
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return Fail(escape, StrFormat("lone low surrogate \\u%04X", unit));
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      // A UTF-16 pair: the high surrogate must be followed by an escaped low one.
      const ptrdiff_t left = end_ - p_;
      if (left < 6 && IsEscapePrefix(std::string_view(p_, static_cast<size_t>(left)))) {
        return Fail(end_,
                    "expected a \\uDC00-\\uDFFF escape after a high surrogate, found the "
                    "end of the text");
      }
      uint32_t low = 0;
      if (left >= 6 && p_[0] == '\\' && p_[1] == 'u') {
        p_ += 2;
        GGUFEMBED_RETURN_IF_ERROR(ParseHex4(low));
      }
      if (low < 0xDC00 || low > 0xDFFF) {
        return Fail(escape, StrFormat("lone high surrogate \\u%04X (not followed by a "
                                      "\\uDC00-\\uDFFF escape)",
                                      unit));
      }
      unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(out, static_cast<char32_t>(unit));
    return OkStatus();
  }

  // Skips the digits at p_; fails when there is none (`where` completes the message).
  Status SkipDigits(const char* where) {
    if (p_ == end_ || !IsDigit(*p_)) {
      return Fail(p_, StrFormat("expected a digit %s, found %s", where, Found(p_).c_str()));
    }
    while (p_ < end_ && IsDigit(*p_)) ++p_;
    return OkStatus();
  }

  Status ParseNumber() {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    const char* digits = p_;
    GGUFEMBED_RETURN_IF_ERROR(SkipDigits(negative ? "after '-'" : "in the number"));
    if (*digits == '0' && p_ - digits > 1) {
      return Fail(digits, "leading zeros are not allowed in numbers");
    }
    uint8_t flags = kInteger;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      GGUFEMBED_RETURN_IF_ERROR(SkipDigits("after the decimal point"));
      flags = 0;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      GGUFEMBED_RETURN_IF_ERROR(SkipDigits("in the exponent"));
      flags = 0;
    }
    if (flags == kInteger && p_ - digits <= 19) {  // 19 digits cannot overflow uint64
      uint64_t magnitude = 0;
      for (const char* d = digits; d < p_; ++d) magnitude = magnitude * 10 + (*d - '0');
      const uint64_t limit = uint64_t{1} << 63;  // |INT64_MIN|
      if (negative ? magnitude <= limit : magnitude < limit) {
        flags |= kFitsInt64;
        if (negative && magnitude == 0) flags |= kNegativeZero;
        // Two's complement: the bits of the int64 value.
        AddNode(JsonValue::Kind::kNumber, flags, 0, negative ? 0 - magnitude : magnitude);
        return OkStatus();
      }
    }
    // JSON's number grammar is a subset of strtod's (in the "C" locale, the default one).
    const std::string literal(start, p_);
    const double value = std::strtod(literal.c_str(), nullptr);
    if (!std::isfinite(value)) return Fail(start, "number out of the range of a double");
    if (flags == kInteger) {  // kept digit for digit (an id written back must stay itself)
      const size_t offset = doc_->chars.size();
      doc_->chars += literal;
      AddNode(JsonValue::Kind::kNumber, flags | kLiteral, static_cast<uint32_t>(literal.size()),
              offset);
      return OkStatus();
    }
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    AddNode(JsonValue::Kind::kNumber, flags, 0, bits);
    return OkStatus();
  }

  const char* const begin_;
  const char* const end_;
  const char* p_;
  Document* doc_ = nullptr;
  std::vector<uint32_t> pending_;      // children of the open containers, innermost last
  std::vector<uint32_t> key_offsets_;  // byte offset of each pending object key
  TextIndex keys_;                     // CheckDuplicateKeys' table, kept to reuse its memory
};

}  // namespace json_internal

Result<JsonValue> ParseJson(std::string_view text) {
  return json_internal::Parser(text).ParseDocument();
}

void AppendJsonValue(std::string& out, const JsonValue& v) {
  switch (v.kind()) {
    case JsonValue::Kind::kNull:
      out += "null";
      return;
    case JsonValue::Kind::kBool:
      out += v.AsBool() ? "true" : "false";
      return;
    case JsonValue::Kind::kNumber: {
      const JsonValue::Number n = v.AsNumber();
      if (n.fits_int64) {
        out += n.integer == 0 && std::signbit(n.value) ? "-0" : std::to_string(n.integer);
      } else if (!n.literal.empty()) {
        out += n.literal;
      } else {
        AppendJsonDouble(out, n.value);
      }
      return;
    }
    case JsonValue::Kind::kString:
      AppendJsonString(out, v.AsString());
      return;
    case JsonValue::Kind::kArray:
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        AppendJsonValue(out, v[i]);
      }
      out += ']';
      return;
    case JsonValue::Kind::kObject:
      out += '{';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        AppendJsonString(out, v.KeyAt(i));
        out += ':';
        AppendJsonValue(out, v.ValueAt(i));
      }
      out += '}';
      return;
  }
}

}  // namespace ggufembed
